"""Echo server: sends back every byte it receives.

Usage: python echo.py [ADDR]   (default 127.0.0.1:7000)
Prints ``listening on ADDR`` when ready; SIGINT or SIGTERM stops it.
"""

import sys

import c10k


class Echo(c10k.Protocol):
    """Writes back what arrives; stops reading while the peer is slow."""

    def connection_made(self, transport: c10k.Transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)

    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.transport.resume_reading()


def main() -> None:
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:7000").rpartition(":")
    server = c10k.TcpServer(Echo, host.strip("[]"), int(port))
    server.serve_forever(ready=lambda s: print("listening on %s:%d" % s.address, flush=True))


if __name__ == "__main__":
    main()

"""The peer of ``examples/hello.py`` for the hosts benchmark: asyncio on
uvloop with httptools, one process and one loop thread, answering the same
way (``GET /`` 200 ``Hello, World!`` text/plain, ``POST /echo`` the body,
anything else 404).

Usage: python bench/uvloop_hello.py [ADDR]   (needs ``pip install uvloop httptools``)
"""

from __future__ import annotations

import asyncio
import sys
from typing import Optional

import httptools
import uvloop

_REASONS = {200: b"OK", 404: b"Not Found"}


def response(status: int, body: bytes, content_type: bytes = b"text/plain") -> bytes:
    """A whole HTTP/1.1 response with a Content-Length."""
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
    return head % (status, _REASONS[status], content_type, len(body)) + body


HELLO = response(200, b"Hello, World!")
NOT_FOUND = response(404, b"Not Found\n")


class HelloProtocol(asyncio.Protocol):
    """One connection: httptools parses, each complete request is answered."""

    def __init__(self) -> None:
        self.transport: Optional[asyncio.Transport] = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    # httptools calls these while parsing.
    def on_message_begin(self) -> None:
        self.url, self.body = b"", []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        method = self.parser.get_method()
        if self.url == b"/" and method in (b"GET", b"HEAD"):
            self.transport.write(HELLO)
        elif self.url == b"/echo" and method == b"POST":
            self.transport.write(response(200, b"".join(self.body), b"application/octet-stream"))
        else:
            self.transport.write(NOT_FOUND)
        if not self.parser.should_keep_alive():
            self.transport.close()


async def serve(host: str, port: int) -> None:
    """Serves until cancelled."""
    server = await asyncio.get_running_loop().create_server(HelloProtocol, host, port, backlog=1024)
    print(f"listening on {host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8080").rpartition(":")
    try:
        uvloop.run(serve(host.strip("[]"), int(port)))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

"""What the WebSocket tests share: starting an example, and a raw client
that writes frames by hand (masked or not, broken on purpose) and reads
the server's frames back."""

import os
import resource
import signal
import socket
import struct
import subprocess

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "target", "examples-c")


def raise_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, wanted), hard), hard))


class Example:
    """An example server on a free port; `with` stops it with SIGTERM and
    checks that it exited with status 0."""

    def __init__(self, name, *args):
        self.proc = subprocess.Popen(
            [os.path.join(EXAMPLES, name), "127.0.0.1:0", *args],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: raise_fd_limit(20000),
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise AssertionError(f"{name} printed {line!r}")
        self.addr = line[len("listening on "):]
        host, port = self.addr.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.url = f"ws://{self.addr}/"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        status = self.stop(signal.SIGTERM)
        if exc[0] is None:
            assert status == 0, f"exit status {status}"

    def stop(self, sig):
        self.proc.send_signal(sig)
        status = self.proc.wait(timeout=20)
        self.proc.stdout.close()
        return status


HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
)


def frame(opcode, payload=b"", fin=True, mask=True, rsv=0, length=None):
    """A client frame; `length` overrides the encoded payload length."""
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


class RawClient:
    """A WebSocket client over a plain socket, for what real clients refuse to do."""

    def __init__(self, srv, path="/", extra="", source=None):
        self.sock = socket.create_connection((srv.host, srv.port), timeout=10, source_address=source)
        self.buf = b""
        self.sock.sendall(HANDSHAKE.format(path=path, host=srv.addr, extra=extra).encode())
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.response = head.decode()
        self.status = int(self.response.split()[1])

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def send(self, data):
        self.sock.sendall(data)

    def recv_frame(self):
        """(fin, opcode, payload) of the next server frame."""
        while len(self.buf) < 2:
            self._fill()
        b0, b1 = self.buf[0], self.buf[1]
        assert b1 & 0x80 == 0, "the server masked a frame"
        n, off = b1 & 0x7F, 2
        if n == 126:
            while len(self.buf) < 4:
                self._fill()
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            while len(self.buf) < 10:
                self._fill()
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        while len(self.buf) < off + n:
            self._fill()
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def expect_close(self):
        """The close code and reason the server sends, skipping other frames."""
        while True:
            _, opcode, payload = self.recv_frame()
            if opcode == 8:
                code = struct.unpack("!H", payload[:2])[0] if payload else 1005
                return code, payload[2:]

    def at_eof(self):
        """Whether the server closes the TCP connection (after any data)."""
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()

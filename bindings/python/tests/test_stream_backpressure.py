"""A streamed response waits for a slow client (``on_drain``) in every
mode: the server never holds much more than the library's high-water
mark of what the client has not read yet (issue 12: a 200 MiB generator
sent to a client reading 1 MB/s grew the server by 218 MB).

The producer records how far ahead of the client it got: bytes produced
and not yet received are bytes the server holds. The client's receive
buffer is made small, so the kernel holds little on that side.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import running

import c10k
from c10k import wsgi
from c10k.asgi import ASGIServer

CHUNK = 256 * 1024
TOTAL = 48 * 1024 * 1024
# The write queue's high-water mark (1 MiB), one chunk over it, and the
# kernel's send buffer (at most 4 MiB here): anything past that is the
# server buffering what the client cannot take.
BOUND = 12 * 1024 * 1024


class Race:
    """How far the producer got ahead of the consumer."""

    def __init__(self) -> None:
        self.produced = 0
        self.received = 0
        self.ahead = 0

    def chunks(self) -> Iterator[bytes]:
        block = b"x" * CHUNK
        for _ in range(TOTAL // CHUNK):
            self.ahead = max(self.ahead, self.produced - self.received)
            self.produced += CHUNK
            yield block

    async def achunks(self) -> Any:
        for chunk in self.chunks():
            yield chunk


def read_slowly(address: tuple[str, int], race: Race) -> bytes:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.connect(address)
    sock.settimeout(30)
    with sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        body_start = len(head.partition(b"\r\n\r\n")[2])
        race.received = body_start
        while True:
            data = sock.recv(64 * 1024)
            if not data:
                return head
            race.received += len(data)
            time.sleep(0.0005)


def check(server: c10k.Server, race: Race) -> None:
    with running(server):
        head = read_slowly(server.address, race)
    assert head.startswith(b"HTTP/1.1 200")
    assert race.produced == TOTAL
    assert race.received >= TOTAL  # chunked framing adds a little
    assert race.ahead < BOUND, f"the server held {race.ahead >> 20} MiB the client had not read"


@pytest.mark.parametrize("mode", ["inline", "threads", "asyncio"])
@pytest.mark.parametrize("loops", [1, 2])
def test_http_modes_wait_for_the_client(mode: str, loops: int) -> None:
    race = Race()

    def handler(request: c10k.Request) -> Any:
        body = race.achunks() if mode == "asyncio" else race.chunks()
        return 200, {"Content-Type": "application/octet-stream"}, body

    check(c10k.HttpServer(handler, port=0, mode=mode, loops=loops), race)


@pytest.mark.parametrize("threads", [0, 2])
def test_wsgi_waits_for_the_client(threads: int) -> None:
    race = Race()

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return race.chunks()

    check(wsgi.WSGIServer(app, port=0, threads=threads), race)


def test_asgi_waits_for_the_client() -> None:
    race = Race()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        async for chunk in race.achunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    check(ASGIServer(app, port=0, lifespan="off"), race)


def test_client_leaving_mid_stream_ends_the_generator() -> None:
    closed = threading.Event()

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"y" * CHUNK
        finally:
            closed.set()

    def handler(request: c10k.Request) -> Any:
        return 200, {}, endless()

    with running(c10k.HttpServer(handler, port=0)) as server:
        with socket.create_connection(server.address) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        assert closed.wait(10)

"""Iterable bodies are streamed with c10k_reply_start/_write/_end."""

from __future__ import annotations

import asyncio
import http.client
import threading
from collections.abc import AsyncIterator, Iterator

import requests

import c10k
from conftest import running, url


class Chunks:
    """An iterable that records its close(), as WSGI bodies need."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        for i in range(self.count):
            yield f"chunk {i}\n".encode()

    def close(self) -> None:
        self.closed.set()


def test_a_generator_is_sent_chunked(mode: str) -> None:
    chunks = Chunks(100)
    with running(c10k.HttpServer(lambda r: (200, {"X-S": "1"}, chunks), port=0, mode=mode)) as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.read() == b"".join(f"chunk {i}\n".encode() for i in range(100))
        conn.close()
        assert chunks.closed.wait(5)


def test_a_declared_length_is_sent_without_chunks(mode: str) -> None:
    def handler(request: c10k.Request) -> object:
        return c10k.StreamResponse(200, {"Content-Length": "6"}, iter([b"abc", "def"]))

    with running(c10k.HttpServer(handler, port=0, mode=mode)) as server:
        response = requests.get(url(server))
        assert "Transfer-Encoding" not in response.headers
        assert response.headers["Content-Length"] == "6" and response.content == b"abcdef"


def test_a_large_stream_arrives_whole(mode: str) -> None:
    piece = b"x" * 65536
    with running(c10k.HttpServer(lambda r: (200, {}, (piece for _ in range(64))), port=0, mode=mode)) as server:
        assert len(requests.get(url(server)).content) == 64 * 65536


def test_async_generators_stream_in_asyncio_mode() -> None:
    async def body() -> AsyncIterator[bytes]:
        for i in range(5):
            await asyncio.sleep(0.01)
            yield b"%d," % i

    async def handler(request: c10k.Request) -> object:
        return 200, {}, body()

    with running(c10k.HttpServer(handler, port=0, mode="asyncio")) as server:
        assert requests.get(url(server)).content == b"0,1,2,3,4,"

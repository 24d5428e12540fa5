"""A streamed body that raises after the head went out aborts the reply:
the client sees a broken response, never a complete-looking one."""

from __future__ import annotations

import asyncio
import http.client
from collections.abc import AsyncIterator, Iterator

import pytest
import requests

import c10k
from conftest import running, url


def failing_body() -> Iterator[bytes]:
    yield b"abc"
    raise ValueError("body bug")


async def failing_async_body() -> AsyncIterator[bytes]:
    yield b"abc"
    await asyncio.sleep(0)
    raise ValueError("async body bug")


def fetch_whole(address: tuple[str, int], path: str) -> bytes:
    conn = http.client.HTTPConnection(*address, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


@pytest.mark.parametrize("headers", [{}, {"Content-Length": "6"}], ids=["chunked", "length"])
def test_a_failing_body_aborts_the_response(mode: str, headers: dict[str, str]) -> None:
    def handler(request: c10k.Request) -> object:
        if request.path == "/ok":
            return "fine"
        return c10k.StreamResponse(200, headers, failing_body())

    with running(c10k.HttpServer(handler, port=0, mode=mode)) as server:
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            fetch_whole(server.address, "/fail")
        assert requests.get(url(server, "/ok"), timeout=5).text == "fine"


def test_a_failing_async_body_aborts_the_response() -> None:
    async def handler(request: c10k.Request) -> object:
        return 200, {}, failing_async_body()

    with running(c10k.HttpServer(handler, port=0, mode="asyncio")) as server:
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            fetch_whole(server.address, "/")

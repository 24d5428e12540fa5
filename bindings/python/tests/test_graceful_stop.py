"""With several loops stop() is graceful: requests in flight finish, new
connections are refused, and what outlives the deadline is aborted."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import c10k
from conftest import url


def slow_handler(entered: threading.Semaphore, mode: str) -> Callable[[c10k.Request], object]:
    """A handler taking half a second, the asyncio way in asyncio mode."""

    async def sleep_async(request: c10k.Request) -> str:
        entered.release()
        await asyncio.sleep(0.5)
        return "finished"

    def sleep(request: c10k.Request) -> str:
        entered.release()
        time.sleep(0.5)
        return "finished"

    return sleep_async if mode == "asyncio" else sleep


def test_requests_in_flight_finish(mode: str) -> None:
    entered = threading.Semaphore(0)
    server = c10k.HttpServer(slow_handler(entered, mode), port=0, mode=mode, loops=2, threads=4).start()
    with ThreadPoolExecutor(4) as pool:
        in_flight = [pool.submit(requests.get, url(server, f"/{i}"), timeout=10) for i in range(4)]
        for _ in in_flight:
            assert entered.acquire(timeout=5)
        server.stop(timeout=5)
        assert [f.result().text for f in in_flight] == ["finished"] * 4
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(server.address, timeout=5).close()
    assert server.stats().responses_2xx == 4


def test_the_deadline_aborts_what_is_left() -> None:
    entered = threading.Event()

    async def handler(request: c10k.Request) -> str:
        entered.set()
        await asyncio.sleep(30)
        return "too late"

    server = c10k.HttpServer(handler, port=0, mode="asyncio", loops=2).start()
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(requests.get, url(server), timeout=10)
        assert entered.wait(5)
        started = time.monotonic()
        server.stop(timeout=0.2)
        assert time.monotonic() - started < 3
        with pytest.raises(requests.ConnectionError):
            waiting.result()


def test_a_handler_may_stop_a_multi_loop_server(mode: str) -> None:
    server: c10k.HttpServer

    def handler(request: c10k.Request) -> str:
        server.stop()
        return "stopping"

    server = c10k.HttpServer(handler, port=0, mode=mode, loops=2, threads=2)
    serving = threading.Thread(target=server.serve_forever)
    serving.start()
    while server.address is None:
        time.sleep(0.01)
    assert requests.get(url(server), timeout=5).text == "stopping"
    serving.join(10)
    assert not serving.is_alive()

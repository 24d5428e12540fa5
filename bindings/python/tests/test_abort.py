"""A client that leaves cancels (asyncio) or drops (threads) its pending work.

The library keeps a connection half-open after a client's FIN (it may still
want its answer), so leaving is shown with a reset (SO_LINGER 0).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time

import requests

import c10k
from conftest import running, url


def send_and_leave(address: tuple[str, int], path: str) -> None:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.2)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_asyncio_work_is_cancelled_when_the_client_leaves() -> None:
    started, cancelled = threading.Event(), threading.Event()

    async def handler(request: c10k.Request) -> str:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "late"

    with running(c10k.HttpServer(handler, port=0, mode="asyncio")) as server:
        send_and_leave(server.address, "/slow")
        assert started.wait(5)
        assert cancelled.wait(5), "the handler was not cancelled"


def test_queued_thread_work_is_dropped_when_the_client_leaves() -> None:
    release = threading.Event()
    seen: list[str] = []

    def handler(request: c10k.Request) -> str:
        seen.append(request.path)
        if request.path == "/block":
            release.wait(10)
        return "ok"

    server = c10k.HttpServer(handler, port=0, mode="threads", threads=1)
    with running(server):
        blocker = threading.Thread(target=requests.get, args=(url(server, "/block"),), kwargs={"timeout": 10})
        blocker.start()
        while not seen:
            time.sleep(0.01)
        send_and_leave(server.address, "/abandoned")
        time.sleep(0.5)  # time for the loop to see the reset and report on_abort
        release.set()
        blocker.join()
        assert requests.get(url(server, "/after"), timeout=5).text == "ok"
    assert seen == ["/block", "/after"]

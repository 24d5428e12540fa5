"""A client that leaves cancels (asyncio) or drops (threads) its pending work,
whether it resets the connection or closes it normally: a FIN while a
deferred reply is pending aborts the reply at once (as nginx does)."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from typing import Optional

import pytest
import requests

import c10k
from conftest import running, url


LEAVING = ["close", "reset"]


def send_and_leave(address: tuple[str, int], path: str, how: str = "reset", wait: Optional[threading.Event] = None) -> float:
    """Sends a request, waits (for ``wait``, or a moment), then leaves with
    a plain close (FIN) or a reset (SO_LINGER 0); returns when it left."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        if wait is None:
            time.sleep(0.2)
        else:
            assert wait.wait(5)
        if how == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return time.monotonic()


@pytest.mark.parametrize("how", LEAVING)
def test_an_awaiting_coroutine_is_cancelled_promptly_when_the_client_leaves(how: str) -> None:
    started, cancelled = threading.Event(), threading.Event()
    cancelled_at = 0.0

    async def handler(request: c10k.Request) -> str:
        nonlocal cancelled_at
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled_at = time.monotonic()
            cancelled.set()
            raise
        return "late"

    with running(c10k.HttpServer(handler, port=0, mode="asyncio")) as server:
        left_at = send_and_leave(server.address, "/slow", how, wait=started)
        assert cancelled.wait(5), "the handler was not cancelled"
    # Nothing waits for a timeout: the FIN or RST is reported on the next turn.
    assert cancelled_at - left_at < 1.0, cancelled_at - left_at


@pytest.mark.parametrize("how", LEAVING)
def test_queued_thread_work_is_dropped_when_the_client_leaves(how: str) -> None:
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
        send_and_leave(server.address, "/abandoned", how)
        time.sleep(0.5)  # time for the loop to see the reset and report on_abort
        release.set()
        blocker.join()
        assert requests.get(url(server, "/after"), timeout=5).text == "ok"
    assert seen == ["/block", "/after"]

"""Public deferred replies: ``Deferred(start)`` hands the handler's
``Reply`` to any thread or to asyncio, which completes it later; streams
wait for the client (``write`` says when, ``wait_drain``/``drained`` wait)."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from typing import Any

import pytest
from clients import get_many
from conftest import running

import c10k


def test_reply_completed_later_by_another_thread(mode: str) -> None:
    pending: list[c10k.Reply] = []
    arrived = threading.Semaphore(0)

    def handler(request: c10k.Request) -> Any:
        path = request.path

        def keep(reply: c10k.Reply) -> None:
            pending.append((reply, path))  # type: ignore[arg-type]
            arrived.release()

        return c10k.Deferred(keep)

    def completer() -> None:
        answered = 0
        while answered < 50:
            arrived.acquire()
            time.sleep(0.001)
            reply, path = pending.pop()  # type: ignore[misc]
            reply.send(200, {"Content-Type": "text/plain"}, f"later {path}")
            answered += 1

    thread = threading.Thread(target=completer)
    thread.start()
    with running(c10k.HttpServer(handler, port=0, mode=mode)) as server:
        host, port = server.address
        results = asyncio.run(get_many(host, port, 50, "/x"))
    thread.join()
    assert results == [(200, b"later /x")] * 50


def test_async_start_on_a_loop_of_another_thread_streams() -> None:
    aloop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=aloop.run_forever, daemon=True)
    loop_thread.start()

    async def start(reply: c10k.Reply) -> None:
        await asyncio.sleep(0.01)
        reply.start(200, {"Content-Type": "text/plain"})
        for i in range(100):
            assert await reply.awrite(f"{i},")
        reply.end()

    with running(c10k.HttpServer(lambda request: c10k.Deferred(start, loop=aloop), port=0)) as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().read() == "".join(f"{i}," for i in range(100)).encode()
    aloop.call_soon_threadsafe(aloop.stop)
    loop_thread.join()


@pytest.mark.parametrize("kind", ["thread", "asyncio"])
def test_writer_learns_the_client_is_slow_and_waits(kind: str) -> None:
    chunk = b"z" * (256 * 1024)
    total = 64
    full = threading.Event()

    def blocking(reply: c10k.Reply) -> None:
        def run() -> None:
            reply.start()
            for _ in range(total):
                if not reply.write(chunk):
                    full.set()
                    assert reply.wait_drain(30)
            reply.end()

        threading.Thread(target=run).start()

    async def waiting(reply: c10k.Reply) -> None:
        reply.start()
        for _ in range(total):
            if not reply.write(chunk):
                full.set()
                await reply.drained()
        reply.end()

    server = c10k.HttpServer(lambda request: c10k.Deferred(blocking if kind == "thread" else waiting),
                             port=0, mode="inline" if kind == "thread" else "asyncio")
    with running(server):
        with socket.create_connection(server.address, timeout=30) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert full.wait(30), "the writer was never told the client is behind"
            received = 0
            while data := sock.recv(1 << 20):
                received += len(data)
    assert received > total * len(chunk)


def test_client_gone_is_reported_to_the_writer() -> None:
    replies: list[c10k.Reply] = []
    got = threading.Event()

    def keep(reply: c10k.Reply) -> None:
        replies.append(reply)
        got.set()

    with running(c10k.HttpServer(lambda request: c10k.Deferred(keep), port=0)) as server:
        with socket.create_connection(server.address) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert got.wait(10)
        deadline = time.monotonic() + 10
        while server.stats().open_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        reply = replies[0]
        assert not reply.start()
        assert reply.gone

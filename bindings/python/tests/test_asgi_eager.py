"""The compiled ASGI path (``c10k._asgi_native``) runs an app at once
within the library's callback and hands it to an asyncio Task only when
it suspends: what an app sees must be what a Task gives (one current
task throughout, its own context, cancel scopes that work), and work
after the response must still run to its end."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import http.client
import logging
import sys
import threading
from typing import Any

import anyio
import pytest
from conftest import running

from c10k.asgi import ASGIServer

START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}


def get(server: ASGIServer, path: str = "/") -> tuple[int, bytes]:
    host, port = server.address
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


async def answer(send: Any, body: bytes) -> None:
    await send(START)
    await send({"type": "http.response.body", "body": body})


def test_one_current_task_before_and_after_a_suspension() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        before = asyncio.current_task()
        await asyncio.sleep(0.01)
        after = asyncio.current_task()
        await answer(send, b"%d %d" % (before is not None, before is after))

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        for _ in range(3):
            assert get(server) == (200, b"1 1")


def test_an_app_that_answers_at_once_still_has_a_current_task() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        task = asyncio.current_task()
        await answer(send, b"task" if isinstance(task, asyncio.Task) else b"none")

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        assert get(server) == (200, b"task")


def test_each_request_runs_in_its_own_context() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen = var.get()
        var.set(scope["path"])
        if scope["path"] == "/slow":
            await asyncio.sleep(0.01)
        await answer(send, f"{seen} {var.get()}".encode())

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        assert get(server, "/a") == (200, b"unset /a")
        assert get(server, "/slow") == (200, b"unset /slow")
        assert get(server, "/b") == (200, b"unset /b")


def test_anyio_cancel_scopes_and_task_groups_across_suspensions() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        results: list[str] = []

        async def child() -> None:
            await anyio.sleep(0.01)
            results.append("child")

        async with anyio.create_task_group() as group:
            group.start_soon(child)
        with anyio.move_on_after(0.05) as scope_:
            await anyio.sleep(10)
        results.append("cancelled" if scope_.cancelled_caught else "slept")
        await answer(send, " ".join(results).encode())

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        assert get(server) == (200, b"child cancelled")
        assert get(server) == (200, b"child cancelled")


def test_work_after_the_response_runs_and_stop_waits_for_it(caplog: pytest.LogCaptureFixture) -> None:
    finished: list[str] = []
    answered = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await answer(send, b"ok")
        if scope["path"] == "/fail":
            await asyncio.sleep(0.01)
            raise ValueError("after the response")
        answered.set()
        await asyncio.sleep(0.3)
        finished.append(scope["path"])

    with caplog.at_level(logging.ERROR, logger="c10k"):
        with running(ASGIServer(app, port=0, lifespan="off")) as server:
            assert get(server, "/fail") == (200, b"ok")
            assert get(server, "/work") == (200, b"ok")
            assert answered.is_set() and finished == []
        # Leaving `running` stopped the server: the work in flight ended first.
        assert finished == ["/work"]
    assert any("after the response" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_receive_after_the_response_gives_the_body_then_disconnect() -> None:
    messages: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await answer(send, b"ok")
        messages.append((await receive())["type"])
        messages.append((await receive())["type"])

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        assert get(server) == (200, b"ok")
    assert messages == ["http.request", "http.disconnect"]


def test_an_app_returning_another_awaitable() -> None:
    class Answer:
        def __init__(self, send: Any) -> None:
            self.send = send

        def __await__(self) -> Any:
            yield from answer(self.send, b"awaitable").__await__()

    def app(scope: dict[str, Any], receive: Any, send: Any) -> Answer:
        return Answer(send)

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        assert get(server) == (200, b"awaitable")


def test_a_response_streamed_after_a_suspension() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send(START)
        await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"b"})

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        assert get(server) == (200, b"ab")
        assert get(server) == (200, b"ab")


def test_a_message_after_the_response_raises_in_the_app() -> None:
    raised: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await answer(send, b"ok")
        if scope["path"] == "/later":
            await asyncio.sleep(0)
        try:
            await send({"type": "http.response.body", "body": b"more"})
        except RuntimeError as err:
            raised.append(str(err))

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        assert get(server) == (200, b"ok")
        assert get(server, "/later") == (200, b"ok")
    assert len(raised) == 2 and all("after the response completed" in text for text in raised)


def test_requests_leave_no_objects_behind() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"] == "/slow":
            await asyncio.sleep(0)
        if scope["path"] == "/stream":
            await send(START)
            await send({"type": "http.response.body", "body": b"a", "more_body": True})
            await send({"type": "http.response.body", "body": b"b"})
            return
        while (await receive()).get("more_body"):
            pass
        await answer(send, b"ab")

    def load(server: ASGIServer, rounds: int) -> None:
        host, port = server.address
        conn = http.client.HTTPConnection(host, port, timeout=10)
        for _ in range(rounds):
            for method, path in (("GET", "/"), ("GET", "/slow"), ("GET", "/stream"), ("POST", "/body")):
                conn.request(method, path, body=b"xyz" if method == "POST" else None)
                response = conn.getresponse()
                assert (response.status, response.read()) == (200, b"ab")
        conn.close()

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        load(server, 100)
        gc.collect()
        before = sys.getallocatedblocks()
        load(server, 500)  # 2,000 requests: one object kept by each would show
        gc.collect()
        assert sys.getallocatedblocks() - before < 1000

"""The ASGI ``http`` scope: what the compiled path (``_asgi_native``)
leaves to Python.

``_asgi_native`` builds the scope, runs the app at once within the
library's callback and answers a request without a body whose response is
given whole with ``c10k_respond``. Anything else is adopted here
(:meth:`HttpProtocol.adopt`): the request is deferred
(``c10k_request_defer``), its body arrives through ``on_body`` (the
listener streams bodies) and is given out by ``receive()``, reading paused
while more than :data:`BODY_HIGH_WATER` bytes wait for the app. ``send()``
buffers the ``http.response.start`` until the first body message, so a
response given whole goes out in one ``c10k_reply_send``; a streamed one
waits for ``on_drain`` whenever the library reports ``C10K_QUEUE_FULL``.

All of it runs on one thread: the callbacks arrive during a turn of the
c10k loop nested in the asyncio loop (:mod:`c10k._nested`), and what the
tasks queue is flushed by the turn ``kick()`` schedules.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Optional

from . import _asgi_native
from ._errors import C10kError
from ._fast import request_of
from ._ffi import LIBRARY_PATH, ffi, lib
from ._asgi_ws import WsProtocol, settle
from ._send import CHeaders, c_headers

log = logging.getLogger("c10k")

# Body bytes that may wait for the app before reading pauses.
BODY_HIGH_WATER = 256 * 1024

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
_DISCONNECT = {"type": "http.disconnect"}
_EMPTY_BODY = {"type": "http.request", "body": b"", "more_body": False}
_buffer = ffi.buffer
_U64 = ffi.typeof("uint64_t *")

_asgi_native.bind(LIBRARY_PATH, _EMPTY_BODY, _DISCONNECT)

_INTERNAL_ERROR_HEADERS = c_headers([(b"content-type", b"text/plain; charset=utf-8")])
_INTERNAL_ERROR = b"Internal Server Error"


class HttpCycle:
    """One request and its response: the ``receive`` and ``send`` the app gets."""

    __slots__ = (
        "reply",
        "protocol",
        "head",
        "task",
        "body",
        "body_size",
        "body_done",
        "request_done",
        "paused",
        "waiter",
        "drain",
        "disconnected",
        "start",
        "declared",
        "head_sent",
        "complete",
    )

    def __init__(
        self, reply: int, protocol: "HttpProtocol", has_body: bool, head: bool, request_done: bool
    ) -> None:
        self.reply = reply
        self.protocol = protocol
        self.head = head
        self.task: Optional[asyncio.Task[None]] = None
        self.body: list[bytes] = []
        self.body_size = 0
        self.body_done = not has_body
        self.request_done = request_done
        self.paused = False
        self.waiter: Optional[asyncio.Future[None]] = None
        self.drain: Optional[asyncio.Future[None]] = None
        self.disconnected = False
        self.start: Optional[dict[str, Any]] = None
        self.declared: Optional[int] = None
        self.head_sent = False
        self.complete = False

    # Events from the library (loop thread, during a turn).

    def on_body(self, data: bytes, end: bool) -> bool:
        if data:
            self.body.append(data)
            self.body_size += len(data)
        if end:
            self.body_done = True
        self._wake()
        self.paused = self.body_size > BODY_HIGH_WATER
        return not self.paused

    def on_abort(self) -> None:
        self.disconnected = True
        self._wake()
        self.on_drain()

    def on_drain(self) -> None:
        settle(self.drain)
        self.drain = None

    def _wake(self) -> None:
        settle(self.waiter)
        self.waiter = None

    # The app's side.

    async def receive(self) -> dict[str, Any]:
        while True:
            if self.disconnected:
                return _DISCONNECT
            if not self.request_done and (self.body or self.body_done):
                return self._body_message()
            if self.complete:
                return _DISCONNECT
            self.waiter = self.protocol.aloop.create_future()
            await self.waiter

    def _body_message(self) -> dict[str, Any]:
        if not self.body:
            self.request_done = True
            return _EMPTY_BODY if self.body_done else {"type": "http.request", "body": b"", "more_body": True}
        body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
        self.body.clear()
        self.body_size = 0
        if self.paused:
            self.paused = False
            lib.c10k_reply_resume_body(self.reply)
            self.protocol.kick()
        self.request_done = self.body_done
        return {"type": "http.request", "body": body, "more_body": not self.body_done}

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.started(message)
        elif kind == "http.response.body":
            if self.start is None:
                raise RuntimeError("ASGI: 'http.response.body' sent before 'http.response.start'")
            if self.complete:
                raise RuntimeError("ASGI: 'http.response.body' sent after the response completed")
            await self._body(message.get("body", b""), message.get("more_body", False))
        else:
            raise RuntimeError(f"ASGI: unexpected message {kind!r} in the http scope")

    def started(self, message: dict[str, Any]) -> None:
        """The ``http.response.start`` message (kept until the first body)."""
        if self.start is not None:
            raise RuntimeError("ASGI: 'http.response.start' sent twice")
        self.start = message
        for name, value in message.get("headers", ()):
            if name.lower() == b"content-length":
                self.declared = int(value)

    async def _body(self, body: bytes, more: bool) -> None:
        if not self.disconnected:
            await self._write(body, more)
        if not more:
            self.complete = True
            self._wake()

    async def _write(self, body: bytes, more: bool) -> None:
        reply = self.reply
        if not self.head_sent:
            start = self.start
            assert start is not None
            status = start["status"]
            array, n, _keep = self.protocol.c_headers(start.get("headers", ()))
            declared = self.declared
            if not more and (declared is None or (declared == len(body) and not self.head)):
                self._check(lib.c10k_reply_send(reply, status, array, n, body, len(body)), "c10k_reply_send")
                return
            length = ffi.NULL if declared is None else ffi.new(_U64, declared)
            self._check(lib.c10k_reply_start(reply, status, array, n, length), "c10k_reply_start")
            self.head_sent = True
        if body and not self.disconnected:
            code = lib.c10k_reply_write(reply, body, len(body))
            if code == lib.C10K_QUEUE_FULL:
                self.protocol.kick()
                self.drain = self.protocol.aloop.create_future()
                await self.drain
            else:
                self._check(code, "c10k_reply_write")
        if not more and not self.disconnected:
            self._check(lib.c10k_reply_end(reply), "c10k_reply_end")

    def _check(self, code: int, context: str) -> None:
        self.protocol.kick()
        if code == lib.C10K_ECLOSED:
            self.disconnected = True
        elif code == lib.C10K_EINVAL and context == "c10k_reply_write":
            raise RuntimeError("ASGI: response body longer than its Content-Length")
        elif code < 0:
            raise C10kError(code, context)

    async def run(self, step: Any) -> None:
        """Runs ``step`` (the rest of the app's coroutine) in a task."""
        try:
            await step
        except BaseException as err:
            self.settle(err)
            if not isinstance(err, Exception):
                raise
        else:
            self.settle(None)

    def settle(self, error: Optional[BaseException]) -> None:
        """The app ended, raising ``error`` (None: it returned)."""
        try:
            if error is not None:
                if not isinstance(error, asyncio.CancelledError):
                    log.error("c10k: exception in ASGI application", exc_info=error)
                self._fail()
            elif not self.complete:
                self.protocol.returned(self.start is not None)
                self._fail()
        finally:
            self.protocol.done(self)

    def _fail(self) -> None:
        """500 if nothing went out yet; a started response is aborted, so
        the client cannot take a cut response for a whole one."""
        if self.complete:
            return
        if self.head_sent:
            lib.c10k_reply_abort(self.reply)
        else:
            array, n, _keep = _INTERNAL_ERROR_HEADERS
            lib.c10k_reply_send(self.reply, 500, array, n, _INTERNAL_ERROR, len(_INTERNAL_ERROR))
        self.complete = True
        self._wake()
        self.protocol.kick()


class HttpProtocol:
    """The library's HTTP callbacks for one ASGI app."""

    def __init__(self, app: Any, root_path: str, state: dict[str, Any]) -> None:
        self.app = app
        self.root_path = root_path
        self.state = state
        self.server: Optional[tuple[str, int]] = None
        self.aloop: Any = None
        self.kick: Callable[[], None] = lambda: None
        self.cycles: dict[int, HttpCycle] = {}
        self.websockets: Optional[WsProtocol] = None
        self._last_headers: tuple[list[Any], CHeaders] = ([], c_headers([]))
        self._background: set[Any] = set()
        self._idle: Optional[asyncio.Event] = None

    def c_headers(self, headers: Any) -> CHeaders:
        """``c_headers`` of a response's headers, the last ones kept: an app
        answering with the same constant headers converts them once."""
        pairs = list(headers)
        if pairs != self._last_headers[0]:
            self._last_headers = (pairs, c_headers(pairs))
        return self._last_headers[1]

    def bind(self, aloop: asyncio.AbstractEventLoop, kick: Callable[[], None]) -> None:
        self.aloop = aloop
        self.kick = kick

    def adopt(self, reply: int, has_body: bool, head: bool, request_done: bool, start: Optional[dict[str, Any]]) -> HttpCycle:
        """Takes over a deferred request from ``_asgi_native`` (``start``:
        the ``http.response.start`` it was given, if any)."""
        cycle = HttpCycle(reply, self, has_body, head, request_done)
        if start is not None:
            cycle.started(start)
        self.cycles[reply] = cycle
        return cycle

    def websocket(self, address: int, scope: dict[str, Any]) -> None:
        """An upgrade request to a WebSocket (during its callback)."""
        if self.websockets is None:
            self.websockets = WsProtocol(self)
        self.websockets.on_request(request_of(address), scope)

    def failed(self, error: BaseException) -> None:
        """The app raised ``error`` within the library's callback."""
        if not isinstance(error, asyncio.CancelledError):
            log.error("c10k: exception in ASGI application", exc_info=error)
        if not isinstance(error, Exception):
            # As a task would: KeyboardInterrupt, SystemExit reach the loop.
            self.aloop.call_soon(_reraise, error)

    @staticmethod
    def returned(started: bool) -> None:
        log.error("c10k: ASGI callable returned without %s the response", "completing" if started else "starting")

    async def background(self, step: Any) -> None:
        """Runs the rest of an app that answered already (background work)."""
        task = asyncio.current_task()
        self._background.add(task)
        try:
            await step
        except Exception:
            log.exception("c10k: exception in ASGI application after its response")
        finally:
            self._background.discard(task)
            if not self.cycles and not self._background and self._idle is not None:
                self._idle.set()

    def on_body(self, reply: int, data: Any, length: int, end: bool) -> bool:
        cycle = self.cycles.get(reply)
        if cycle is None:
            return True
        return cycle.on_body(_buffer(data, length)[:] if length else b"", end)

    def on_abort(self, reply: int) -> None:
        cycle = self.cycles.get(reply)
        if cycle is not None:
            cycle.on_abort()

    def on_drain(self, reply: int) -> None:
        cycle = self.cycles.get(reply)
        if cycle is not None:
            cycle.on_drain()

    def done(self, cycle: HttpCycle) -> None:
        self.cycles.pop(cycle.reply, None)
        if not self.cycles and not self._background and self._idle is not None:
            self._idle.set()

    async def drain(self, deadline: float) -> None:
        """Closes open WebSockets (1001, going away) and waits until every
        request's task finished, or cancels what is left at ``deadline``."""
        if self.websockets is not None:
            self.websockets.going_away()
        if not self.cycles and not self._background:
            return
        self._idle = asyncio.Event()
        try:
            await asyncio.wait_for(self._idle.wait(), max(0.0, deadline - self.aloop.time()))
        except asyncio.TimeoutError:
            tasks = [cycle.task for cycle in self.cycles.values() if cycle.task is not None]
            tasks += self._background
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def _reraise(error: BaseException) -> None:
    raise error

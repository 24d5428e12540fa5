"""Public deferred replies: answer a request later, from any thread or
from asyncio.

A handler returns ``Deferred(start)``; the library keeps the request open
(``c10k_request_defer``) and ``start(reply)`` is called with a
:class:`Reply` at once (on the thread that ran the handler), or, for an
``async def start``, as a task on the asyncio loop given. The reply is
completed once, whenever, from any thread: thousands may wait at no cost
of threads. Streams honour backpressure: :meth:`Reply.write` says when
the client is not keeping up, and :meth:`Reply.wait_drain` (blocking) or
:meth:`Reply.drained` (asyncio) wait until it has read enough.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from typing import Any, Optional, Union

from . import _drain
from ._ffi import lib
from ._response import FileResponse, HeadersLike, Response, StreamResponse
from ._send import send, stream_end, stream_start, stream_write


class Reply:
    """The pending answer to one request. Every method may be called from
    any thread. A client that left makes the methods return quietly
    (:attr:`gone` turns true); completing twice raises ``C10kError``."""

    def __init__(self, handle: int) -> None:
        self.handle = handle
        self.gone = False
        self._event = threading.Event()
        self._async: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        _drain.register(handle, self._woken)

    def _woken(self) -> None:
        """``on_drain`` or ``on_abort`` (loop thread)."""
        self._event.set()
        for aloop, event in list(self._async):
            aloop.call_soon_threadsafe(event.set)

    def _done(self) -> None:
        _drain.forget(self.handle)

    def send(self, status: int = 200, headers: HeadersLike = None, body: Union[bytes, str] = b"") -> None:
        """Answers with a whole response."""
        try:
            send(self.handle, Response(status, headers, body), lambda: False)
        finally:
            self._done()

    def send_file(self, path: str, status: int = 200, headers: HeadersLike = None) -> None:
        """Answers with a file, sent with ``sendfile(2)``."""
        try:
            send(self.handle, FileResponse(path, status, headers), lambda: False)
        finally:
            self._done()

    def start(self, status: int = 200, headers: HeadersLike = None) -> bool:
        """Sends the head of a streamed response (chunked unless ``headers``
        give ``Content-Length``); False if the client left."""
        ok = stream_start(self.handle, StreamResponse(status, headers, ()))
        self.gone = not ok
        return ok

    def write(self, data: Union[bytes, str]) -> bool:
        """Sends a piece of the body. True: write on. False: the client is
        not keeping up (or left, see :attr:`gone`): wait for
        :meth:`wait_drain` or :meth:`drained` before writing more."""
        self._event.clear()
        for _, event in self._async:
            event.clear()
        code = stream_write(self.handle, data)
        if code == lib.C10K_ECLOSED:
            self.gone = True
        return code == 0

    def wait_drain(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the client read enough (or left); not on a loop thread."""
        return self._event.wait(timeout)

    async def drained(self) -> None:
        """Waits in asyncio until the client read enough (or left)."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        self._async.append(entry)
        try:
            if not self._event.is_set():
                await event.wait()
        finally:
            self._async.remove(entry)

    async def awrite(self, data: Union[bytes, str]) -> bool:
        """:meth:`write`, then :meth:`drained` when needed; False once the client left."""
        if not self.write(data):
            if self.gone:
                return False
            await self.drained()
        return not self.gone

    def end(self) -> None:
        """Ends a streamed response."""
        try:
            stream_end(self.handle)
        finally:
            self._done()

    def abort(self) -> None:
        """Gives up: the connection is reset, so the client cannot take a
        cut response for a whole one."""
        lib.c10k_reply_abort(self.handle)
        self._done()


class Deferred:
    """What a handler returns to answer later: ``start(reply)`` gets the
    :class:`Reply`. An ``async def start`` runs as a task on ``loop`` (an
    asyncio loop running in some thread; in the ``asyncio`` mode, the
    mode's own loop by default)."""

    __slots__ = ("start", "loop")

    def __init__(self, start: Callable[[Reply], Any], loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        if not callable(start):
            raise TypeError("Deferred takes a function of the reply")
        self.start = start
        self.loop = loop

    def begin(self, handle: int) -> None:
        """Calls ``start`` with the reply of ``handle``."""
        reply = Reply(handle)
        if inspect.iscoroutinefunction(self.start):
            loop = self.loop
            if loop is None:
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:
                    reply.send(500, None, "Internal Server Error\n")
                    raise RuntimeError("Deferred(async def ...) needs loop= outside the asyncio mode") from None
            if loop.is_running() and _running_here(loop):
                loop.create_task(self.start(reply))
            else:
                asyncio.run_coroutine_threadsafe(self.start(reply), loop)
        else:
            self.start(reply)


def _running_here(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False

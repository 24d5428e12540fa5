"""A c10k loop nested inside an asyncio event loop, on one thread.

The c10k loop's descriptor (``c10k_loop_fd``) is watched with
``add_reader`` and each readiness runs one turn (``c10k_loop_run_once``
with 0), so the library's callbacks and the asyncio tasks share one thread
and hand work to each other without locks or wake-ups. Replies completed
from a task outside a turn are queued by the library and flushed by the
turn :meth:`NestedLoop.kick` schedules: every reply a round of tasks made
goes out in one turn, with one ``writev`` per connection.

Driven by :class:`~c10k._server.Server` like the other runners: ``open()``,
``run()`` until a stop, ``close()``. The owner provides ``_open_in(aloop)``
and ``_close_in(aloop)`` (run on the asyncio loop around serving: ASGI's
lifespan), ``_listen(loop)`` and ``_drain(deadline)`` (a coroutine waiting
for the work in flight once accepting stopped).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

from ._errors import check
from ._ffi import ffi, lib
from ._loops import OwnLoop, listener_addr

if TYPE_CHECKING:
    from ._server import Server

log = logging.getLogger("c10k")


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """An event loop of ``kind``: ``"asyncio"``, ``"uvloop"``, or
    ``"auto"`` (uvloop when it is installed, as uvicorn does)."""
    if kind not in ("auto", "asyncio", "uvloop"):
        raise ValueError(f"event loop must be auto, asyncio or uvloop; got {kind!r}")
    if kind != "asyncio":
        try:
            import uvloop
        except ImportError:
            if kind == "uvloop":
                raise
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class NestedLoop(OwnLoop):
    """One c10k loop turned by an asyncio loop on the serving thread."""

    def __init__(self, owner: "Server", event_loop: str = "auto") -> None:
        self._owner: Any = owner
        self._kind = event_loop
        self.aloop: Optional[asyncio.AbstractEventLoop] = None
        self._listener: Any = None
        self._fd = -1
        self._turn_soon = False
        self._wait = ffi.new("int64_t *")
        self._timer: Optional[asyncio.TimerHandle] = None
        self._stopped: Optional[asyncio.Future[None]] = None

    def open(self) -> str:
        aloop = self.aloop = new_event_loop(self._kind)
        asyncio.set_event_loop(aloop)
        self._stopped = aloop.create_future()
        out = ffi.new("c10k_loop **")
        check(lib.c10k_loop_new(out), "c10k_loop_new")
        self._loop = out[0]
        self._owner._open_in(aloop)
        self._listener = self._owner._listen(self._loop)
        fd = ffi.new("int32_t *")
        check(lib.c10k_loop_fd(self._loop, fd), "c10k_loop_fd")
        self._fd = fd[0]
        aloop.add_reader(self._fd, self._turn)
        self._schedule()
        return listener_addr(self._listener)

    def run(self) -> None:
        assert self.aloop is not None and self._stopped is not None
        self.aloop.run_until_complete(self._stopped)
        # Graceful: accept no more, let the work in flight finish and flush,
        # close idle connections cleanly, and still answer a client that
        # connected but has not sent its request yet (a worker restarted
        # behind SO_REUSEPORT loses nothing).
        self._close_listener()
        check(lib.c10k_loop_set_draining(self._loop, True), "c10k_loop_set_draining")
        check(lib.c10k_loop_shutdown(self._loop), "c10k_loop_shutdown")
        self.kick()
        deadline = self.aloop.time() + self._owner._stop_timeout
        self.aloop.run_until_complete(self._owner._drain(deadline))
        self.aloop.run_until_complete(self._connections_closed(deadline))
        self._turn()

    async def _connections_closed(self, deadline: float) -> None:
        """Returns once the loop holds no connection, or at ``deadline``."""
        sources = ffi.new("size_t *")
        while self.aloop is not None and self.aloop.time() < deadline:
            check(lib.c10k_loop_open_handles(self._loop, sources, ffi.NULL), "c10k_loop_open_handles")
            if sources[0] == 0:
                return
            await asyncio.sleep(0.01)

    def kick(self) -> None:
        """Makes the next round of the asyncio loop run a turn, which
        flushes what tasks queued since the last one."""
        if not self._turn_soon and self.aloop is not None:
            self._turn_soon = True
            self.aloop.call_soon(self._turn)

    def _turn(self) -> None:
        self._turn_soon = False
        code = check(lib.c10k_loop_run_once(self._loop, 0), "c10k_loop_run_once")
        if code == lib.C10K_STOPPED or self._owner._stopping:
            stopped = self._stopped
            if stopped is not None and not stopped.done():
                stopped.set_result(None)
        self._schedule()

    def _schedule(self) -> None:
        """Arms the asyncio timer for the c10k loop's next deadline."""
        wait = self._wait
        check(lib.c10k_loop_next_timeout(self._loop, wait), "c10k_loop_next_timeout")
        ms = wait[0]
        if ms == 0:
            self.kick()
        elif ms > 0:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.aloop.call_later(ms / 1000, self._turn)  # type: ignore[union-attr]

    def post(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Runs ``fn(*args)`` on the serving thread soon, in call order."""
        assert self.aloop is not None
        self.aloop.call_soon_threadsafe(fn, *args)

    def _close_listener(self) -> None:
        if self._listener is not None:
            lib.c10k_listener_close(self._listener)
            self._listener = None

    def close(self) -> None:
        aloop = self.aloop
        try:
            if aloop is not None and self._fd >= 0:
                aloop.remove_reader(self._fd)
            if self._timer is not None:
                self._timer.cancel()
            self._close_listener()
            if aloop is not None:
                self._owner._close_in(aloop)
        finally:
            # Connections still open are closed here (on_abort runs for
            # their replies); then the asyncio loop ends.
            if self._loop is not None:
                lib.c10k_loop_free(self._loop)
                self._loop = None
            if aloop is not None:
                aloop.run_until_complete(aloop.shutdown_asyncgens())
                asyncio.set_event_loop(None)
                aloop.close()

"""Backpressure for streamed replies: who waits for ``on_drain``.

``c10k_reply_write`` returns ``C10K_QUEUE_FULL`` when the connection's
queue is above its high-water mark: the writer must wait for the
library's ``on_drain`` (or ``on_abort``: the client left) before writing
more, or a slow client makes the server hold the whole body. Writers
register here by reply handle (handles are unique in the process) and
the servers' ``on_drain`` and ``on_abort`` callbacks call :func:`wake`.

Three ways to wait, by where the writer runs:

- a thread that may block (a pool thread): :class:`BlockingWait`;
- the loop thread, which must not: the writer stops and :func:`wake`
  resumes it later (see ``_send.stream``);
- an asyncio task: :class:`AsyncWait`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

_waiters: dict[int, Callable[[], None]] = {}

_role = threading.local()


def mark_blocking_thread() -> None:
    """Records that the calling thread may block to wait for a drain (a
    pool thread, not a loop thread)."""
    _role.blocking = True


def may_block() -> bool:
    """Whether the calling thread was marked with :func:`mark_blocking_thread`."""
    return getattr(_role, "blocking", False)


def register(reply: int, waiter: Callable[[], None]) -> None:
    """``waiter()`` runs at each drain (or the abort) of ``reply`` until :func:`forget`."""
    _waiters[reply] = waiter


def forget(reply: int) -> None:
    _waiters.pop(reply, None)


def wake(reply: int) -> None:
    """The library's ``on_drain`` or ``on_abort`` for ``reply`` (loop thread)."""
    waiter = _waiters.get(reply)
    if waiter is not None:
        waiter()


class BlockingWait:
    """Waits on the calling thread. ``arm()`` before each write, ``wait()``
    after one that returned ``C10K_QUEUE_FULL``: a drain that comes in
    between is not lost."""

    def __init__(self, reply: int) -> None:
        self._event = threading.Event()
        register(reply, self._event.set)

    def arm(self) -> None:
        self._event.clear()

    def wait(self) -> None:
        self._event.wait()


class AsyncWait:
    """Waits in an asyncio task; the drain may come from any thread."""

    def __init__(self, reply: int) -> None:
        self._event = asyncio.Event()
        aloop = asyncio.get_running_loop()
        register(reply, lambda: aloop.call_soon_threadsafe(self._event.set))

    def arm(self) -> None:
        self._event.clear()

    async def wait(self) -> None:
        await self._event.wait()

"""How a server runs: one loop on the serving thread, or the library's
multi-loop server (``c10k_server_*``) with its loops on library threads.

Both are driven by :class:`~c10k._server.Server` in the same order:
``open()`` (returns the bound address), ``run()`` until the server's
``_stopping`` flag is set, ``stats()`` meanwhile, ``close()`` always.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import callback_error, check
from ._ffi import ffi, lib
from ._stats import Stats, loop_stats, server_stats

if TYPE_CHECKING:
    from ._server import Server

log = logging.getLogger("c10k")

# How long one wait may last before Python checks for signals and stop.
_TURN_MS = 100


def _address(getter: Callable[[Any, int], int], context: str) -> str:
    buf = ffi.new("char[]", lib.C10K_ADDRSTRLEN)
    check(getter(buf, len(buf)), context)
    return ffi.string(buf).decode()


def listener_addr(listener: Any) -> str:
    """The address a listener is bound to (``"127.0.0.1:8080"``)."""
    return _address(lambda buf, n: lib.c10k_listener_addr(listener, buf, n), "c10k_listener_addr")


class OwnLoop:
    """What a runner driving one c10k loop of its own (``_loop``) shares."""

    _loop: Any = None

    def interrupt(self) -> None:
        """Ends ``run`` soon; async-signal-safe (one atomic store and a write)."""
        lib.c10k_loop_stop(self._loop)

    wake = interrupt

    def stats(self) -> Stats:
        return loop_stats(self._loop)


class SingleLoop(OwnLoop):
    """One c10k loop, created and run on the serving thread: every callback
    arrives there. The fastest for inline handlers (no thread switches).

    The loop turns with ``c10k_loop_run_once`` and a short timeout so that
    Python signal handlers get to run between turns.
    """

    def __init__(self, owner: "Server") -> None:
        self._owner = owner
        self._loop: Any = None
        self._listener: Any = None
        self._posted: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._post_cb = ffi.callback("void(void *, c10k_loop *)", self._run_posted, onerror=callback_error)

    def open(self) -> str:
        out = ffi.new("c10k_loop **")
        check(lib.c10k_loop_new(out), "c10k_loop_new")
        self._loop = out[0]
        self._owner._open()
        self._listener = self._owner._listen(self._loop)
        return listener_addr(self._listener)

    def run(self) -> None:
        owner = self._owner
        while not owner._stopping:
            if check(lib.c10k_loop_run_once(self._loop, _TURN_MS), "c10k_loop_run_once") == lib.C10K_STOPPED:
                return

    def post(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Runs ``fn(*args)`` on the loop thread soon, in call order."""
        self._posted.append((fn, args))
        check(lib.c10k_loop_post(self._loop, self._post_cb, ffi.NULL), "c10k_loop_post")

    def _run_posted(self, user_data: Any, loop: Any) -> None:
        fn, args = self._posted.popleft()
        try:
            fn(*args)
        except Exception:
            log.exception("c10k: a call posted to the loop failed")

    def close(self) -> None:
        try:
            if self._listener is not None:
                lib.c10k_listener_close(self._listener)
            self._owner._close()
        finally:
            # Open connections are closed here (their on_close runs) and
            # replies completed after this point are dropped by the library.
            if self._loop is not None:
                lib.c10k_loop_free(self._loop)


class MultiLoop:
    """The library's server: ``loops`` loops on library threads, each with
    its own ``SO_REUSEPORT`` listener; callbacks arrive on all of them.

    The serving thread only waits for a stop, then stops the server
    gracefully with ``c10k_server_stop``.
    """

    def __init__(self, owner: "Server", loops: int) -> None:
        self._owner = owner
        self._loops = loops
        self._server: Any = None
        self._wake = threading.Event()

    def open(self) -> str:
        config = ffi.new("c10k_server_config *")
        lib.c10k_server_config_init(config, ffi.sizeof(config[0]))
        config.loops = self._loops
        # A stop marks the loops draining first, so that a client that
        # connected but has not sent its request yet is still answered (as
        # the ASGI server's stop does): a worker restart loses nothing.
        config.drain_delay_ms = 1
        self._owner._configure(config)
        out = ffi.new("c10k_server **")
        check(lib.c10k_server_new(config, out), "c10k_server_new")
        self._server = out[0]
        self._owner._open()
        self._owner._server_listen(self._server)
        check(lib.c10k_server_start(self._server), "c10k_server_start")
        return _address(lambda buf, n: lib.c10k_server_addr(self._server, 0, buf, n), "c10k_server_addr")

    def run(self) -> None:
        owner = self._owner
        while not owner._stopping:
            self._wake.wait(_TURN_MS / 1000)
        deadline_ms = max(0, round(owner._stop_timeout * 1000))
        check(lib.c10k_server_stop(self._server, deadline_ms), "c10k_server_stop")

    def interrupt(self) -> None:
        """Nothing to do: ``run`` polls the flag every turn. (Setting the
        event is not async-signal-safe: its lock may be held.)"""

    def wake(self) -> None:
        """Ends ``run``'s wait at once; not for signal handlers."""
        self._wake.set()

    def stats(self) -> Stats:
        return server_stats(self._server)

    def post(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        raise RuntimeError(
            "call_soon_threadsafe needs loops=1: with several loops each connection "
            "lives on its own loop, and its callbacks already run there"
        )

    def close(self) -> None:
        try:
            if self._server is not None:
                lib.c10k_server_free(self._server)
        finally:
            self._owner._close()


"""The life of a server: start, serve, stats and stop.

``loops=1`` runs one c10k loop on the serving thread (``serve_forever``'s
caller, or the thread ``start`` makes): every callback arrives there.
``loops=N`` runs the library's multi-loop server: N loops on library
threads, callbacks on all of them at once (cffi takes the GIL for each),
and a graceful stop. ``_loops.py`` holds both.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, Optional, TypeVar

from ._drain import mark_blocking_thread
from ._loops import MultiLoop, SingleLoop
from ._request import parse_addr
from ._stats import Stats

# The default of stop(timeout=...), and what a signal gives in-flight
# requests (the library's own shutdown_timeout_ms default).
STOP_TIMEOUT_S = 5.0

# Marks threads whose work a graceful stop waits for: stop() called there
# must not wait for the server in turn.
_thread_role = threading.local()

F = TypeVar("F", bound=Callable[..., Any])


def mark_serving_thread() -> None:
    """Records that the calling thread runs the server's callbacks or handlers."""
    _thread_role.serving = True


def mark_pool_thread() -> None:
    """Marks a thread of the library's worker pool: it serves, and may
    block (to wait for a streamed reply's drain)."""
    mark_serving_thread()
    mark_blocking_thread()


def marking(callback: F) -> F:
    """``callback``, marking the thread it runs on as serving (for the
    multi-loop server, whose callbacks arrive on library threads)."""

    def marked(*args: Any) -> Any:
        _thread_role.serving = True
        return callback(*args)

    return marked  # type: ignore[return-value]


def unchanged(callback: F) -> F:
    """``callback`` itself: what a single loop uses instead of :func:`marking`."""
    return callback


def format_addr(host: str, port: int) -> str:
    """The numeric address string the C API takes: ``"h:p"`` or ``"[h]:p"``."""
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an int in 0..65535, not {port!r}")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Server:
    """Base class of :class:`HttpServer` and :class:`TcpServer`.

    Subclasses implement ``_listen(loop)`` (one loop; returns the
    listener) and ``_server_listen(server)`` (several loops), and may
    override ``_configure(config)`` (the ``c10k_server_config``),
    ``_open()`` and ``_close()`` for what lives beside the loops (thread
    pools, an asyncio loop).
    """

    def __init__(self, host: str, port: int, loops: int) -> None:
        if not isinstance(loops, int) or loops < 1:
            raise ValueError(f"loops must be a positive int, not {loops!r}")
        self._addr = format_addr(host, port)
        self._loops = loops
        self._lock = threading.Lock()
        self._runner: Any = None
        self._last_stats: Optional[Stats] = None
        self._stopping = False
        self._stop_timeout = STOP_TIMEOUT_S
        self._running = False
        self._ready = threading.Event()
        self._startup_error: Optional[BaseException] = None
        self._thread: Optional[threading.Thread] = None
        self.address: Optional[tuple[str, int]] = None

    @property
    def loops(self) -> int:
        """How many event loops serve."""
        return self._loops

    def _listen(self, loop: Any) -> Any:
        raise NotImplementedError

    def _server_listen(self, server: Any) -> None:
        raise NotImplementedError

    def _make_runner(self) -> Any:
        """The runner: one loop on the serving thread, or the library's several."""
        return MultiLoop(self, self._loops) if self._library_loops() else SingleLoop(self)

    def _configure(self, config: Any) -> None:
        """Adjusts the multi-loop server's config (loops already set)."""

    def _library_loops(self) -> bool:
        """Whether the library's server runs the loops (else one loop on
        the serving thread)."""
        return self._loops > 1

    def _listened(self, address: tuple[str, int]) -> None:
        """Called with the bound address once listening."""

    def _open(self) -> None:
        """Starts what the server needs beside its loops."""

    def _close(self) -> None:
        """Stops what ``_open`` started; no loop is running any more."""

    def serve_forever(self, ready: Optional[Callable[["Server"], None]] = None) -> None:
        """Serves on the calling thread until :meth:`stop`, SIGINT or SIGTERM.

        With one loop every callback (and, in ``inline`` mode, every
        handler) runs on this thread; with several, this thread waits and
        carries out the stop. ``ready(server)``, if given, is called once
        listening (:attr:`address` is then set). Signal handlers are
        installed only when this is the main thread, and the previous ones
        are restored on return.
        """
        with self._lock:
            if self._running:
                raise RuntimeError("this server is already serving")
            self._running = True
        try:
            self._serve(threading.current_thread() is threading.main_thread(), ready)
        finally:
            self._running = False

    def _serve(self, install_signals: bool, ready: Optional[Callable[["Server"], None]] = None) -> None:
        runner = self._make_runner()
        previous: dict[int, Any] = {}
        try:
            self.address = parse_addr(runner.open())
            self._listened(self.address)
            if install_signals:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    previous[signum] = signal.signal(signum, self._on_signal)
            with self._lock:
                self._runner = runner
            self._ready.set()
            if ready is not None:
                ready(self)
            runner.run()
        except BaseException as err:
            if not self._ready.is_set():
                self._startup_error = err
                self._ready.set()
            raise
        finally:
            with self._lock:
                if self._runner is not None:
                    self._last_stats = runner.stats()
                self._runner = None
            for number, previous_handler in previous.items():
                signal.signal(number, previous_handler)
            runner.close()

    def stats(self) -> Stats:
        """The server's counters (``per_loop`` holds each loop's); after
        a stop, the last ones. Any thread."""
        with self._lock:
            if self._runner is not None:
                return self._runner.stats()
            if self._last_stats is not None:
                return self._last_stats
        raise RuntimeError("the server has not served yet")

    def call_soon_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
        """Runs ``fn(*args)`` on the loop thread soon (``c10k_loop_post``),
        in call order; the way for other threads to use a transport.
        Only with ``loops=1``."""
        with self._lock:
            if self._runner is None:
                raise RuntimeError("the server is not serving")
            self._runner.post(fn, args)

    def _on_signal(self, signum: int, frame: Optional[FrameType]) -> None:
        # Runs on the serving thread between two turns or inside a callback,
        # so the runner cannot be closed meanwhile: no lock (it may be held).
        self._stopping = True
        runner = self._runner
        if runner is not None:
            runner.interrupt()

    def start(self) -> "Server":
        """Serves on a new background thread; returns once listening.

        Raises what listening raised (for example ``C10kError`` for an
        address in use).
        """
        if self._thread is not None:
            raise RuntimeError("this server was already started")
        self._thread = threading.Thread(target=self._serve_in_thread, name="c10k-loop", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            raise self._startup_error
        return self

    def _serve_in_thread(self) -> None:
        try:
            self._serve(install_signals=False)
        except BaseException:
            if self._startup_error is None:
                raise

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stops serving; callable from any thread (and from handlers).

        With several loops the stop is graceful: accepting ends, requests
        in flight get up to ``timeout`` seconds to finish and flush, idle
        connections close, what is left is aborted. One loop stops at once.
        After :meth:`start`, waits for the background thread to finish,
        unless called from a thread that serves (a handler's).
        """
        self._stop_timeout = timeout
        self._stopping = True
        with self._lock:
            if self._runner is not None:
                self._runner.wake()
        thread = self._thread
        serving = getattr(_thread_role, "serving", False)
        if thread is not None and thread is not threading.current_thread() and not serving:
            thread.join()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, kind: Optional[type], value: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.stop()

"""The life of a server: its loop, its listener, start, serve and stop.

One c10k loop belongs to the thread that creates and runs it, and every
callback arrives there. ``serve_forever`` does all of it on the calling
thread; ``start`` does it on a background thread. The loop is driven with
``c10k_loop_run_once`` and a short timeout so that the Python signal
handlers installed for SIGINT and SIGTERM get to run between turns.

``loops`` is the number of event loops; several loops need the library's
multi-loop server API (``c10k_server_*``), which this build lacks.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import deque
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, Optional

from ._errors import check
from ._ffi import ffi, lib
from ._request import parse_addr

log = logging.getLogger("c10k")

# How long one loop turn may wait before Python checks for signals and stop.
_TURN_MS = 100


def format_addr(host: str, port: int) -> str:
    """The numeric address string the C API takes: ``"h:p"`` or ``"[h]:p"``."""
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an int in 0..65535, not {port!r}")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def callback_error(kind: Optional[type], value: Optional[BaseException], tb: Optional[TracebackType]) -> None:
    """Last resort for an exception escaping a cffi callback (the callbacks
    catch what user code raises, so this means a bug in the binding)."""
    log.error("c10k: exception in a library callback", exc_info=(kind, value, tb))  # type: ignore[arg-type]


class Server:
    """Base class of :class:`HttpServer` and :class:`TcpServer`.

    Subclasses implement ``_listen(loop)`` (returning the listener) and may
    override ``_open()`` and ``_close()`` for what lives beside the loop
    (thread pools, an asyncio loop).
    """

    def __init__(self, host: str, port: int, loops: int) -> None:
        if not isinstance(loops, int) or loops < 1:
            raise ValueError(f"loops must be a positive int, not {loops!r}")
        if loops > 1:
            raise NotImplementedError(
                "loops > 1 needs the library's multi-loop server API (c10k_server_*), "
                "which this build of libc10k does not have yet; use loops=1"
            )
        self._addr = format_addr(host, port)
        self._loops = loops
        self._lock = threading.Lock()
        self._loop: Any = None
        self._stopping = False
        self._running = False
        self._ready = threading.Event()
        self._startup_error: Optional[BaseException] = None
        self._thread: Optional[threading.Thread] = None
        self.address: Optional[tuple[str, int]] = None
        self._posted: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._post_cb = ffi.callback("void(void *, c10k_loop *)", self._run_posted, onerror=callback_error)

    def _listen(self, loop: Any) -> Any:
        raise NotImplementedError

    def _open(self) -> None:
        """Starts what the server needs beside its loop."""

    def _close(self) -> None:
        """Stops what ``_open`` started; the loop is no longer running."""

    def serve_forever(self, ready: Optional[Callable[["Server"], None]] = None) -> None:
        """Serves on the calling thread until :meth:`stop`, SIGINT or SIGTERM.

        Every callback (and, in ``inline`` mode, every handler) runs on this
        thread. ``ready(server)``, if given, is called once listening
        (:attr:`address` is then set). Signal handlers are installed only
        when this is the main thread, and the previous ones are restored on
        return.
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
        try:
            lp = ffi.new("c10k_loop **")
            check(lib.c10k_loop_new(lp), "c10k_loop_new")
            loop = lp[0]
        except BaseException as err:
            self._startup_error = err
            self._ready.set()
            raise
        listener = None
        previous: dict[int, Any] = {}
        try:
            self._open()
            listener = self._listen(loop)
            buf = ffi.new("char[]", lib.C10K_ADDRSTRLEN)
            check(lib.c10k_listener_addr(listener, buf, len(buf)), "c10k_listener_addr")
            self.address = parse_addr(ffi.string(buf).decode())
            if install_signals:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    previous[signum] = signal.signal(signum, self._on_signal)
            with self._lock:
                self._loop = loop
            self._ready.set()
            if ready is not None:
                ready(self)
            while not self._stopping:
                check(lib.c10k_loop_run_once(loop, _TURN_MS), "c10k_loop_run_once")
        except BaseException as err:
            if not self._ready.is_set():
                self._startup_error = err
                self._ready.set()
            raise
        finally:
            with self._lock:
                self._loop = None
            for number, previous_handler in previous.items():
                signal.signal(number, previous_handler)
            try:
                if listener is not None:
                    lib.c10k_listener_close(listener)
                self._close()
            finally:
                # Open connections are closed here (their on_close runs) and
                # replies completed after this point are dropped by the library.
                lib.c10k_loop_free(loop)

    def call_soon_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
        """Runs ``fn(*args)`` on the loop thread soon (``c10k_loop_post``),
        in call order; the way for other threads to use a transport."""
        with self._lock:
            if self._loop is None:
                raise RuntimeError("the server is not serving")
            self._posted.append((fn, args))
            check(lib.c10k_loop_post(self._loop, self._post_cb, ffi.NULL), "c10k_loop_post")

    def _run_posted(self, user_data: Any, loop: Any) -> None:
        fn, args = self._posted.popleft()
        try:
            fn(*args)
        except Exception:
            log.exception("c10k: a call posted to the loop failed")

    def _on_signal(self, signum: int, frame: Optional[FrameType]) -> None:
        # Runs on the serving thread between two turns or inside a callback,
        # so the loop cannot be freed meanwhile: no lock (it may be held).
        self._stopping = True
        loop = self._loop
        if loop is not None:
            lib.c10k_loop_stop(loop)

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

    def stop(self) -> None:
        """Stops serving; callable from any thread (and from handlers).

        After :meth:`start`, waits for the background thread to finish,
        unless called from that thread.
        """
        self._stopping = True
        with self._lock:
            if self._loop is not None:
                lib.c10k_loop_stop(self._loop)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, kind: Optional[type], value: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.stop()


"""``HttpServer``: HTTP/1.1 served by the library, answered by Python."""

from __future__ import annotations

from typing import Any, Optional

from . import _drain as drain
from ._config import AccessLog, AccessLogTarget, http_config
from ._errors import callback_error, check
from ._ffi import ffi, lib
from ._fast import c_pointers, http_dispatch
from ._modes import Handler, InlineMode, Mode, PoolMode, make_mode
from ._server import Server, marking, unchanged


class HttpServer(Server):
    """An HTTP/1.1 server calling ``handler(request)`` for each request.

    ``handler`` takes a :class:`Request` and returns a :class:`Response`,
    a :class:`FileResponse`, ``(status, headers, body)`` (an iterable body
    is streamed), or bytes/str for a 200.

    ``mode``:

    - ``"inline"``: on the loop thread, during the library's callback;
      fastest, must not block.
    - ``"threads"``: on a pool of ``threads`` threads (Python's with one
      loop, the library's worker pool with several); at most
      ``queue_size`` requests wait, more get 503.
    - ``"asyncio"``: ``async def`` handlers on an asyncio loop of their own.

    ``loops=N`` (N > 1) serves on N event loops on library threads, so
    handlers of every mode may run on several threads at once (one at a
    time holds the GIL) and :meth:`stop` is graceful.

    ``port=0`` picks a free port; :attr:`address` holds the real one once
    listening. ``max_body_bytes`` raises the library's 1 MiB body limit;
    ``access_log`` is ``True`` (standard output), a path, a descriptor or
    a file; every other field of ``c10k_http_config`` is a keyword too
    (:func:`c10k.http_defaults` lists them).
    """

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        loops: int = 1,
        mode: str = "inline",
        threads: int = 8,
        queue_size: int = 1024,
        max_body_bytes: Optional[int] = None,
        access_log: AccessLog = None,
        **http_options: Any,
    ) -> None:
        super().__init__(host, port, loops)
        self._mode_name = mode
        self._mode: Mode = make_mode(mode, handler, threads, queue_size, loops)
        self._access_log = AccessLogTarget(access_log)
        self._config = http_config(
            {**http_options, "max_body_bytes": max_body_bytes, "access_log_fd": self._access_log.fd}
        )
        # Kept on the server: the library calls them for as long as it lives.
        # One loop calls back on the serving thread; several on threads to mark.
        wrap = marking if loops > 1 else unchanged
        self._on_request = ffi.callback("void(void *, c10k_request *)", wrap(self._request_cb), onerror=callback_error)
        self._on_abort = ffi.callback("void(void *, uint64_t)", wrap(self._abort_cb), onerror=callback_error)
        self._on_drain = ffi.callback("void(void *, uint64_t)", lambda _, reply: drain.wake(reply), onerror=callback_error)
        self._callbacks = ffi.new(
            "c10k_http_callbacks *",
            {"size": ffi.sizeof("c10k_http_callbacks"), "on_request": self._on_request, "on_abort": self._on_abort},
        )
        self._user_data: Any = ffi.NULL
        if isinstance(self._mode, InlineMode):
            # Inline handlers (and the library's pool) run from compiled code.
            self._native = http_dispatch(handler, pool=isinstance(self._mode, PoolMode))
            self._callbacks, self._user_data = c_pointers(self._native)

    @property
    def mode(self) -> str:
        """The mode the server was made with."""
        return self._mode_name

    def _request_cb(self, user_data: Any, req: Any) -> None:
        self._mode.on_request(req)

    def _abort_cb(self, user_data: Any, reply: int) -> None:
        drain.wake(reply)
        self._mode.on_abort(reply)

    def _hook_streams(self) -> None:
        """Streamed replies wait for ``on_drain`` and learn of ``on_abort``,
        whichever ``on_request`` (Python's or the compiled one) is used."""
        self._callbacks.on_abort = self._on_abort
        self._callbacks.on_drain = self._on_drain

    def _configure(self, config: Any) -> None:
        self._mode.configure(config)

    def _open(self) -> None:
        self._mode.open()

    def _close(self) -> None:
        try:
            self._mode.close()
        finally:
            self._access_log.close()

    def _listen(self, loop: Any) -> Any:
        self._hook_streams()
        out = ffi.new("c10k_listener **")
        code = lib.c10k_http_listen(loop, self._addr.encode(), self._config, self._callbacks, self._user_data, out)
        check(code, f"listening on {self._addr}")
        return out[0]

    def _server_listen(self, server: Any) -> None:
        self._hook_streams()
        code = lib.c10k_server_http_listen(server, self._addr.encode(), self._config, self._callbacks, self._user_data)
        check(code, f"listening on {self._addr}")

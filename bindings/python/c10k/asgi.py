"""ASGI 3.0 applications (FastAPI, Starlette, Quart, raw) served by c10k.

::

    from c10k import asgi
    asgi.serve(app, "127.0.0.1", 8000)

The library parses, frames and writes; the app runs on an asyncio loop
(uvloop when installed) that turns the c10k loop on the same thread, so a
request costs no thread switch. Scopes: ``http`` (request bodies streamed
with ``more_body`` and backpressure, ``http.disconnect``, streaming
responses that wait for the client to drain), ``websocket`` (over the
library's WebSocket) and ``lifespan``.
"""

from __future__ import annotations

import asyncio
from asyncio import tasks as _tasks
from typing import Any, Optional

from . import _asgi_native
from ._asgi_http import ASGI_VERSION, HttpProtocol
from ._config import AccessLog, AccessLogTarget, http_config
from ._errors import callback_error, check
from ._fast import c_pointers
from ._ffi import ffi, lib
from ._lifespan import Lifespan, LifespanFailed
from ._loops import listener_addr
from ._nested import NestedLoop
from ._request import parse_addr
from ._server import Server

__all__ = ["ASGIServer", "LifespanFailed", "serve"]

# ASGI servers take bodies of any size (uvicorn, granian have no cap):
# they are streamed to the app, memory bounded by the reading pause.
UNLIMITED_BODY = 2**64 - 1


class ASGIServer(Server):
    """Serves the ASGI 3.0 application ``app``.

    ``root_path`` is the prefix the app is mounted under (ASGI
    ``root_path``). ``lifespan``: ``"auto"`` (default), ``"on"``, ``"off"``.
    ``event_loop``: ``"auto"`` (uvloop if installed), ``"asyncio"`` or
    ``"uvloop"``. ``access_log``: ``True`` (standard output), a path, a
    descriptor or a file. ``max_body_bytes`` caps request bodies (413
    beyond; default: no cap). Every other field of ``c10k_http_config``
    is a keyword too (see :func:`c10k.http_defaults`).
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        root_path: str = "",
        lifespan: str = "auto",
        event_loop: str = "auto",
        access_log: AccessLog = None,
        max_body_bytes: Optional[int] = UNLIMITED_BODY,
        **http_options: Any,
    ) -> None:
        super().__init__(host, port, 1)
        if not callable(app):
            raise TypeError(f"app must be an ASGI callable, not {type(app).__name__}")
        self.app = app
        self._event_loop = event_loop
        self._lifespan = Lifespan(app, lifespan)
        self._protocol = HttpProtocol(app, root_path.rstrip("/"), self._lifespan.state)
        self._access_log = AccessLogTarget(access_log)
        self._config = http_config(
            {**http_options, "max_body_bytes": max_body_bytes, "access_log_fd": self._access_log.fd},
            stream_bodies=True,
        )
        protocol = self._protocol
        # on_request in C; the rest (bodies, aborts, drains) in Python.
        self._native = _asgi_native.AsgiDispatch(
            app, protocol, ASGI_VERSION, self._protocol.root_path, self._lifespan.state,
            asyncio.Task, _tasks._enter_task, _tasks._leave_task,
        )
        self._callbacks, self._user_data = c_pointers(self._native)
        # Kept on the server: the library calls them for as long as it lives.
        self._cbs = (
            ffi.callback("void(void *, uint64_t)", lambda _, reply: protocol.on_abort(reply), onerror=callback_error),
            ffi.callback(
                "bool(void *, uint64_t, const uint8_t *, size_t, bool)",
                lambda _, reply, data, n, end: protocol.on_body(reply, data, n, end),
                onerror=callback_error,
            ),
            ffi.callback("void(void *, uint64_t)", lambda _, reply: protocol.on_drain(reply), onerror=callback_error),
        )
        self._callbacks.on_abort, self._callbacks.on_body, self._callbacks.on_drain = self._cbs

    def _make_runner(self) -> NestedLoop:
        self._nested = NestedLoop(self, self._event_loop)
        return self._nested

    def _open_in(self, aloop: Any) -> None:
        self._protocol.bind(aloop, self._nested.kick)
        aloop.run_until_complete(self._lifespan.startup())

    def _close_in(self, aloop: Any) -> None:
        try:
            aloop.run_until_complete(self._lifespan.shutdown())
        finally:
            self._access_log.close()

    async def _drain(self, deadline: float) -> None:
        await self._protocol.drain(deadline)

    def _listen(self, loop: Any) -> Any:
        out = ffi.new("c10k_listener **")
        check(
            lib.c10k_http_listen(loop, self._addr.encode(), self._config, self._callbacks, self._user_data, out),
            f"listening on {self._addr}",
        )
        self._protocol.server = parse_addr(listener_addr(out[0]))
        self._native.serve(self._nested.aloop, self._protocol.server)
        return out[0]


def serve(app: Any, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> None:
    """Serves ``app`` until SIGINT or SIGTERM (see :class:`ASGIServer`)."""
    ASGIServer(app, host, port, **options).serve_forever()

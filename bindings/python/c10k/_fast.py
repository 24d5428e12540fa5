"""The compiled request path (``_native``, a C extension over ``c10k.h``)
and the Python it falls back to for what is rare.

``_native`` receives ``on_request`` from the library in C, builds the
request (or the WSGI environ), calls the application and answers common
results (``(status, headers, body)``, bytes, str, :class:`Response`, a
WSGI ``[body]``) with ``c10k_respond`` without running any Python of
ours. Files, streamed bodies and errors come here.
"""

from __future__ import annotations

import logging
from typing import Any

from . import _native
from ._ffi import LIBRARY_PATH, ffi
from ._request import Headers
from ._response import Response, coerce
from ._send import respond, send_error
from ._server import mark_pool_thread, mark_serving_thread

log = logging.getLogger("c10k")

_native.bind(LIBRARY_PATH, Headers, Response)

_CALLBACKS = ffi.typeof("c10k_http_callbacks *")
_VOID_P = ffi.typeof("void *")


def c_pointers(dispatch: Any) -> tuple[Any, Any]:
    """The callbacks and user_data of a native dispatch, as cffi pointers
    for ``c10k_http_listen``; the dispatch must outlive the listener."""
    callbacks, user_data = dispatch.pointers()
    return ffi.cast(_CALLBACKS, callbacks), ffi.cast(_VOID_P, user_data)


def request_of(address: int) -> Any:
    """The ``c10k_request *`` at ``address`` (during its callback)."""
    return ffi.cast("c10k_request *", address)


def _answer(address: int, request: Any, result: Any) -> None:
    """Answers what C could not: files, streams, other result types."""
    req = request_of(address)
    try:
        respond(req, coerce(result))
    except Exception:
        log.exception("c10k: handler failed for %r", request)
        send_error(lambda response: respond(req, response))


def _failed(request: Any, error: BaseException) -> None:
    log.error("c10k: handler failed for %r", request, exc_info=error)


def http_dispatch(handler: Any, pool: bool = False) -> Any:
    """The native ``on_request`` for an inline handler (on the library's
    worker pool if ``pool``: its threads may block)."""
    return _native.HttpDispatch(handler, _answer, _failed, mark_pool_thread if pool else mark_serving_thread)

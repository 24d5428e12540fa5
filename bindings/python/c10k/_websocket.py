"""The native WebSocket API: a handler returns :class:`AcceptWebSocket`
and its callbacks receive whole messages on the loop thread.

::

    def handler(request):
        if request.headers.get("upgrade", "").lower() == "websocket":
            return c10k.AcceptWebSocket(on_message=lambda ws, data: ws.send(data))
        return "plain HTTP"

The library runs the protocol (framing, masking, fragments, UTF-8, pings,
the close handshake); :class:`WebSocket` sends from any thread. The
handshake is answered during the request's callback, so this is for the
``inline`` mode (the handler runs there); ASGI apps use ``c10k.asgi``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Optional, Union

from ._errors import C10kError, callback_error, check
from ._ffi import ffi, lib

log = logging.getLogger("c10k")

# The open WebSockets by handle: their callbacks find them here.
_open: dict[int, "WebSocket"] = {}


class WebSocket:
    """An accepted WebSocket; every method may be called from any thread.
    ``send`` returns False when the client is not keeping up (wait for
    ``on_drain``) and raises ``C10kError`` once it is closed."""

    def __init__(self, handle: int, accept: "AcceptWebSocket") -> None:
        self.handle = handle
        self.accept = accept
        self.closed = False

    def send(self, data: Union[bytes, str]) -> bool:
        """Sends a text (``str``) or binary (``bytes``) message."""
        binary = not isinstance(data, str)
        raw = data if binary else data.encode("utf-8")  # type: ignore[union-attr]
        return check(lib.c10k_ws_send(self.handle, raw, len(raw), binary), "c10k_ws_send") == 0

    def ping(self, data: bytes = b"") -> None:
        check(lib.c10k_ws_ping(self.handle, data, len(data)), "c10k_ws_ping")

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Starts the closing handshake; ``on_close`` follows."""
        raw = reason.encode("utf-8")
        code_ = lib.c10k_ws_close(self.handle, code, raw, len(raw))
        if code_ != lib.C10K_ECLOSED:
            check(code_, "c10k_ws_close")


class AcceptWebSocket:
    """What a handler returns to accept a WebSocket upgrade. Callbacks run
    on the loop thread: ``on_open(ws)``, ``on_message(ws, data)`` (``str``
    for text, ``bytes`` for binary), ``on_drain(ws)``, ``on_close(ws, code,
    reason)``. ``subprotocol`` must be one the client offered. An exception
    in a callback is logged and closes the WebSocket with 1011."""

    def __init__(
        self,
        on_message: Callable[[WebSocket, Any], Any],
        on_open: Optional[Callable[[WebSocket], Any]] = None,
        on_close: Optional[Callable[[WebSocket, int, str], Any]] = None,
        on_drain: Optional[Callable[[WebSocket], Any]] = None,
        subprotocol: Optional[str] = None,
    ) -> None:
        self.on_message = on_message
        self.on_open = on_open
        self.on_close = on_close
        self.on_drain = on_drain
        self.subprotocol = subprotocol

    def begin_upgrade(self, req: Any) -> None:
        """Accepts the request (during its callback)."""
        opts = ffi.new("c10k_ws_options *")
        lib.c10k_ws_options_init(opts, ffi.sizeof(opts[0]))
        raw = (self.subprotocol or "").encode()
        if raw:
            opts.subprotocol = ffi.from_buffer(raw)
            opts.subprotocol_len = len(raw)
        out = ffi.new("uint64_t *")
        check(lib.c10k_ws_accept(req, opts, _CALLBACKS, ffi.NULL, out), "c10k_ws_accept")
        ws = _open[out[0]] = WebSocket(out[0], self)
        _run(ws, self.on_open)


def _run(ws: WebSocket, callback: Optional[Callable[..., Any]], *args: Any) -> None:
    if callback is None:
        return
    try:
        callback(ws, *args)
    except Exception:
        log.exception("c10k: a WebSocket callback failed")
        try:
            ws.close(1011)
        except C10kError:
            pass


def _on_message(user_data: Any, handle: int, data: Any, length: int, binary: bool) -> None:
    ws = _open.get(handle)
    if ws is not None:
        payload = ffi.buffer(data, length)[:]
        _run(ws, ws.accept.on_message, payload if binary else payload.decode("utf-8"))


def _on_drain(user_data: Any, handle: int) -> None:
    ws = _open.get(handle)
    if ws is not None:
        _run(ws, ws.accept.on_drain)


def _on_close(user_data: Any, handle: int, code: int, reason: Any, length: int) -> None:
    ws = _open.pop(handle, None)
    if ws is not None:
        ws.closed = True
        text = ffi.buffer(reason, length)[:].decode("utf-8", "replace") if length else ""
        _run(ws, ws.accept.on_close, code, text)


_KEEP = (
    ffi.callback("void(void *, uint64_t, const uint8_t *, size_t, bool)", _on_message, onerror=callback_error),
    ffi.callback("void(void *, uint64_t)", _on_drain, onerror=callback_error),
    ffi.callback("void(void *, uint64_t, uint16_t, const uint8_t *, size_t)", _on_close, onerror=callback_error),
)
_CALLBACKS = ffi.new(
    "c10k_ws_callbacks *",
    {"size": ffi.sizeof("c10k_ws_callbacks"), "on_message": _KEEP[0], "on_drain": _KEEP[1], "on_close": _KEEP[2]},
)

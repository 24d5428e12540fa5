"""The ASGI ``websocket`` scope over the library's WebSocket (``c10k_ws_*``).

The library frames, unmasks, reassembles, checks UTF-8 and answers pings;
the app sees whole messages. ``c10k_ws_accept`` must be called during the
request's ``on_request``, so the app is started right there and stepped
synchronously until it accepts or refuses (``websocket.connect`` is
already waiting for it); the rest of it then runs as a task. An app that
awaits something else before deciding cannot be served (the handshake
cannot wait): it gets 500 and a log line saying why.

Incoming messages wait in a queue for ``receive()``; past
:data:`QUEUE_HIGH` messages reading pauses (``c10k_ws_pause_read``).
``send()`` waits for ``on_drain`` when the library says ``C10K_QUEUE_FULL``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Any, Optional

from ._asgi_native import Resume
from ._errors import C10kError, callback_error
from ._ffi import ffi, lib
from ._send import c_headers

if TYPE_CHECKING:
    from ._asgi_http import HttpProtocol

log = logging.getLogger("c10k")

# Messages that may wait for the app before reading pauses.
QUEUE_HIGH = 64
_FORBIDDEN = b"Forbidden"
_ERROR = b"Internal Server Error"


def settle(future: Optional[asyncio.Future[None]]) -> None:
    """Wakes whoever awaits ``future`` (if anyone still does)."""
    if future is not None and not future.done():
        future.set_result(None)


class ClientDisconnected(OSError):
    """``send()`` on a WebSocket that is closed (ASGI's server-specific OSError)."""


async def _resume(coro: Any, waiting: Any) -> None:
    """The rest of ``coro``, stepped by hand until it waited on ``waiting``."""
    await Resume(coro, waiting)


class WsCycle:
    """One WebSocket: the ``receive`` and ``send`` its app gets."""

    def __init__(self, protocol: "WsProtocol", req: Any) -> None:
        self.protocol = protocol
        self.req: Any = req  # live during on_request only
        self.ws = 0
        self.state = "connecting"  # then "open", "closed"; "refused" if never accepted
        self.queue: deque[dict[str, Any]] = deque([{"type": "websocket.connect"}])
        self.paused = False
        self.waiter: Optional[asyncio.Future[None]] = None
        self.drain: Optional[asyncio.Future[None]] = None
        self.close_code = 1006

    # From the library (loop thread).

    def on_message(self, data: bytes, binary: bool) -> None:
        message = {"type": "websocket.receive", "bytes": data} if binary else \
            {"type": "websocket.receive", "text": data.decode("utf-8")}
        self.queue.append(message)
        if len(self.queue) > QUEUE_HIGH and not self.paused:
            self.paused = True
            lib.c10k_ws_pause_read(self.ws)
        self._wake()

    def on_drain(self) -> None:
        settle(self.drain)
        self.drain = None

    def on_close(self, code: int, reason: str) -> None:
        self.state = "closed"
        self.queue.append({"type": "websocket.disconnect", "code": code, "reason": reason})
        self._wake()
        self.on_drain()

    def _wake(self) -> None:
        settle(self.waiter)
        self.waiter = None

    # The app's side.

    async def receive(self) -> dict[str, Any]:
        while not self.queue:
            if self.state in ("closed", "refused"):
                return {"type": "websocket.disconnect", "code": self.close_code, "reason": ""}
            self.waiter = self.protocol.http.aloop.create_future()
            await self.waiter
        message = self.queue.popleft()
        if self.paused and len(self.queue) <= QUEUE_HIGH // 2:
            self.paused = False
            lib.c10k_ws_resume_read(self.ws)
            self.protocol.http.kick()
        return message

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.close":
            self._close(message.get("code", 1000), message.get("reason") or "")
        elif kind == "websocket.send":
            if self.state != "open":
                raise ClientDisconnected("the WebSocket is not open")
            text = message.get("text")
            data = text.encode("utf-8") if text is not None else message.get("bytes") or b""
            code = lib.c10k_ws_send(self.ws, data, len(data), text is None)
            self.protocol.http.kick()
            if code == lib.C10K_QUEUE_FULL:
                self.drain = self.protocol.http.aloop.create_future()
                await self.drain
            elif code == lib.C10K_ECLOSED:
                raise ClientDisconnected("the WebSocket is closed")
            elif code < 0:
                raise C10kError(code, "c10k_ws_send")
        else:
            raise RuntimeError(f"ASGI: unexpected message {kind!r} in the websocket scope")

    def _accept(self, message: dict[str, Any]) -> None:
        if self.state != "connecting" or self.req is None:
            raise RuntimeError(
                "ASGI: 'websocket.accept' must come before the app's first await of anything "
                "but receive() (the handshake is answered during the request's callback)"
            )
        opts = ffi.new("c10k_ws_options *")
        lib.c10k_ws_options_init(opts, ffi.sizeof(opts[0]))
        keep = []
        subprotocol = message.get("subprotocol")
        if subprotocol:
            raw = subprotocol.encode()
            keep.append(raw)
            opts.subprotocol = ffi.from_buffer(raw)
            opts.subprotocol_len = len(raw)
        headers = [(bytes(n), bytes(v)) for n, v in message.get("headers", ())]
        array, n, buf = c_headers(headers)
        keep.append(buf)
        opts.headers = array
        opts.header_count = n
        out = ffi.new("uint64_t *")
        code = lib.c10k_ws_accept(self.req, opts, self.protocol.callbacks, ffi.NULL, out)
        if code < 0:
            raise C10kError(code, "c10k_ws_accept")
        self.ws = out[0]
        self.state = "open"
        self.protocol.sockets[self.ws] = self

    def _close(self, code: int, reason: str) -> None:
        if self.state == "connecting":
            # Refused: the handshake gets 403, as uvicorn answers.
            if self.req is None:
                raise RuntimeError("ASGI: 'websocket.close' came too late to refuse the handshake")
            self.state = "refused"
            lib.c10k_respond(self.req, 403, ffi.NULL, 0, _FORBIDDEN, len(_FORBIDDEN))
        elif self.state == "open":
            raw = reason.encode("utf-8")
            lib.c10k_ws_close(self.ws, code, raw, len(raw))
            self.state = "closing"
            self.protocol.http.kick()

    async def run(self, app: Any, scope: dict[str, Any]) -> None:
        try:
            await app(scope, self.receive, self.send)
        except BaseException as err:
            if not isinstance(err, (asyncio.CancelledError, ClientDisconnected)):
                log.error("c10k: exception in ASGI application", exc_info=err)
            self._end(1011)
            if not isinstance(err, Exception):
                raise
        else:
            self._end(1000)

    def _end(self, code: int) -> None:
        """After the app: refuse a handshake still open, close a WebSocket still open."""
        if self.state == "connecting" and self.req is not None:
            self.state = "refused"
            lib.c10k_respond(self.req, 500, ffi.NULL, 0, _ERROR, len(_ERROR))
        elif self.state == "open":
            lib.c10k_ws_close(self.ws, code, b"", 0)
            self.state = "closing"
            self.protocol.http.kick()


class WsProtocol:
    """The library's WebSocket callbacks and the open WebSockets of one app."""

    def __init__(self, http: "HttpProtocol") -> None:
        self.http = http
        self.sockets: dict[int, WsCycle] = {}
        self._cbs = (
            ffi.callback("void(void *, uint64_t, const uint8_t *, size_t, bool)", self._on_message, onerror=callback_error),
            ffi.callback("void(void *, uint64_t)", self._on_drain, onerror=callback_error),
            ffi.callback(
                "void(void *, uint64_t, uint16_t, const uint8_t *, size_t)", self._on_close, onerror=callback_error
            ),
        )
        on_message, on_drain, on_close = self._cbs
        self.callbacks = ffi.new(
            "c10k_ws_callbacks *",
            {"size": ffi.sizeof("c10k_ws_callbacks"), "on_message": on_message, "on_drain": on_drain, "on_close": on_close},
        )

    def on_request(self, req: Any, scope: dict[str, Any]) -> None:
        """Starts the app for an upgrade request and steps it until it
        accepted or refused; the rest runs as a task."""
        scope["type"] = "websocket"
        scope["scheme"] = "ws"
        scope["subprotocols"] = _subprotocols(req)
        del scope["method"]
        cycle = WsCycle(self, req)
        coro = cycle.run(self.http.app, scope)
        try:
            waiting = coro.send(None)
        except StopIteration:
            waiting = None
        finally:
            if cycle.state == "connecting":
                log.error("c10k: the ASGI app neither accepted nor refused the WebSocket before awaiting: answered 500")
                cycle.state = "refused"
                lib.c10k_respond(req, 500, ffi.NULL, 0, _ERROR, len(_ERROR))
            cycle.req = None
        if waiting is not None:
            self.http.aloop.create_task(_resume(coro, waiting))
        self.http.kick()

    def going_away(self) -> None:
        """The server stops: every open WebSocket is closed with 1001."""
        for cycle in list(self.sockets.values()):
            cycle._end(1001)

    def _on_message(self, user_data: Any, ws: int, data: Any, length: int, binary: bool) -> None:
        cycle = self.sockets.get(ws)
        if cycle is not None:
            cycle.on_message(ffi.buffer(data, length)[:], binary)

    def _on_drain(self, user_data: Any, ws: int) -> None:
        cycle = self.sockets.get(ws)
        if cycle is not None:
            cycle.on_drain()

    def _on_close(self, user_data: Any, ws: int, code: int, reason: Any, length: int) -> None:
        cycle = self.sockets.pop(ws, None)
        if cycle is not None:
            cycle.on_close(code, ffi.buffer(reason, length)[:].decode("utf-8", "replace") if length else "")


def _subprotocols(req: Any) -> list[str]:
    out, out_len = ffi.new("const uint8_t **"), ffi.new("size_t *")
    found = []
    index = 0
    while lib.c10k_ws_subprotocol(req, index, out, out_len) == 0:
        found.append(ffi.buffer(out[0], out_len[0])[:].decode("latin-1"))
        index += 1
    return found

"""Raw TCP: ``TcpServer`` with asyncio-like ``Protocol`` and ``Transport``.

Every protocol method runs on its connection's loop thread, and transport
methods must be called there too (from elsewhere, go through
``server.call_soon_threadsafe``, with one loop). With several loops,
protocols of different connections run on several threads at once. An
exception in a protocol method is logged and aborts its connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Optional

from ._errors import C10kError, callback_error, check
from ._ffi import ffi, lib
from ._request import parse_addr
from ._server import Server, marking, unchanged

log = logging.getLogger("c10k")


class Transport:
    """One connection's write side and flow control (loop thread only)."""

    __slots__ = ("_conn", "_protocol", "_closing", "_extra")

    def __init__(self, conn: int, protocol: "Protocol", extra: dict[str, Any]) -> None:
        self._conn = conn
        self._protocol = protocol
        self._closing = False
        self._extra = extra

    def write(self, data: bytes) -> None:
        """Queues a copy of ``data``. Writes after ``close()`` or after
        the connection ended are dropped, as asyncio does."""
        if self._closing or not data:
            return
        code = lib.c10k_conn_write(self._conn, ffi.from_buffer("uint8_t[]", data), len(data))
        if code == lib.C10K_QUEUE_FULL:
            self._protocol._queue_full()
        elif code not in (lib.C10K_ECLOSED, lib.C10K_EPIPE):
            check(code, "c10k_conn_write")

    def writelines(self, chunks: list[bytes]) -> None:
        """Writes each chunk in turn."""
        for chunk in chunks:
            self.write(chunk)

    def close(self) -> None:
        """Closes once queued output is written; ``connection_lost`` follows."""
        if not self._closing:
            self._closing = True
            lib.c10k_conn_close(self._conn)

    def abort(self) -> None:
        """Closes now, dropping queued output (the peer gets RST)."""
        self._closing = True
        lib.c10k_conn_abort(self._conn)

    def is_closing(self) -> bool:
        """True once ``close()`` or ``abort()`` was called or the connection ended."""
        return self._closing

    def pause_reading(self) -> None:
        """Stops ``data_received`` until ``resume_reading()``."""
        check(lib.c10k_conn_pause_read(self._conn), "c10k_conn_pause_read")

    def resume_reading(self) -> None:
        """Resumes ``data_received``."""
        check(lib.c10k_conn_resume_read(self._conn), "c10k_conn_resume_read")

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``"peername"`` and ``"sockname"`` as ``(host, port)``."""
        return self._extra.get(name, default)


class Protocol:
    """Base class of connection handlers, after ``asyncio.Protocol``."""

    _writing_paused = False

    def connection_made(self, transport: Transport) -> None:
        """The connection opened; keep ``transport`` to write."""

    def data_received(self, data: bytes) -> None:
        """Bytes arrived."""

    def eof_received(self) -> Optional[bool]:
        """The peer shut down its side. Return True to keep writing
        (half-open, close when done); anything else closes."""
        return None

    def connection_lost(self, exc: Optional[Exception]) -> None:
        """The connection ended: ``exc`` is None for a clean close, else a
        ``C10kError``. Nothing is called after this."""

    def pause_writing(self) -> None:
        """The write queue passed its high-water mark: stop writing."""

    def resume_writing(self) -> None:
        """The write queue drained: writing may go on."""

    def _queue_full(self) -> None:
        if not self._writing_paused:
            self._writing_paused = True
            self.pause_writing()


ProtocolFactory = Callable[[], Protocol]


def _conn_addr(getter: Any, conn: int) -> Optional[tuple[str, int]]:
    buf = ffi.new("char[]", lib.C10K_ADDRSTRLEN)
    if getter(conn, buf, len(buf)) != 0:
        return None
    return parse_addr(ffi.string(buf).decode())


class TcpServer(Server):
    """Accepts TCP connections, each served by ``protocol_factory()``.

    ``loops=N`` (N > 1) spreads connections over N loops on library threads
    (the factory and protocols then run on several threads at once) and
    makes :meth:`stop` graceful.
    """

    def __init__(self, protocol_factory: ProtocolFactory, host: str = "127.0.0.1", port: int = 8080, *, loops: int = 1) -> None:
        super().__init__(host, port, loops)
        if not callable(protocol_factory):
            raise TypeError("protocol_factory must be callable")
        self._factory = protocol_factory
        # Shared by the loops; each operation on it is atomic under the GIL.
        self._conns: dict[int, Transport] = {}
        # One loop calls back on the serving thread; several on threads to mark.
        wrap = marking if loops > 1 else unchanged
        # Kept on the server: the library calls them for as long as it lives.
        self._cbs = [
            ffi.callback("void(void *, uint64_t)", wrap(self._on_open), onerror=callback_error),
            ffi.callback("void(void *, uint64_t, const uint8_t *, size_t)", wrap(self._on_data), onerror=callback_error),
            ffi.callback("bool(void *, uint64_t)", wrap(self._on_end), error=False, onerror=callback_error),
            ffi.callback("void(void *, uint64_t)", wrap(self._on_drain), onerror=callback_error),
            ffi.callback("void(void *, uint64_t, int32_t)", wrap(self._on_close), onerror=callback_error),
        ]
        on_open, on_data, on_end, on_drain, on_close = self._cbs
        self._callbacks = ffi.new(
            "c10k_conn_callbacks *",
            {
                "size": ffi.sizeof("c10k_conn_callbacks"),
                "on_open": on_open,
                "on_data": on_data,
                "on_end": on_end,
                "on_drain": on_drain,
                "on_close": on_close,
            },
        )

    @property
    def connection_count(self) -> int:
        """Connections open now."""
        return len(self._conns)

    def _listen(self, loop: Any) -> Any:
        out = ffi.new("c10k_listener **")
        code = lib.c10k_listen(loop, self._addr.encode(), ffi.NULL, self._callbacks, ffi.NULL, out)
        check(code, f"listening on {self._addr}")
        return out[0]

    def _server_listen(self, server: Any) -> None:
        code = lib.c10k_server_listen(server, self._addr.encode(), ffi.NULL, self._callbacks, ffi.NULL)
        check(code, f"listening on {self._addr}")

    def _fail(self, conn: int, what: str) -> None:
        log.exception("c10k: protocol %s failed; aborting the connection", what)
        lib.c10k_conn_abort(conn)

    def _on_open(self, user_data: Any, conn: int) -> None:
        try:
            protocol = self._factory()
            extra = {
                "peername": _conn_addr(lib.c10k_conn_peer_addr, conn),
                "sockname": _conn_addr(lib.c10k_conn_local_addr, conn),
            }
            transport = Transport(conn, protocol, extra)
            self._conns[conn] = transport
            protocol.connection_made(transport)
        except Exception:
            self._fail(conn, "connection_made")

    def _on_data(self, user_data: Any, conn: int, data: Any, length: int) -> None:
        transport = self._conns.get(conn)
        if transport is None:
            return
        try:
            transport._protocol.data_received(ffi.buffer(data, length)[:])
        except Exception:
            self._fail(conn, "data_received")

    def _on_end(self, user_data: Any, conn: int) -> bool:
        transport = self._conns.get(conn)
        if transport is None:
            return False
        try:
            keep_open = bool(transport._protocol.eof_received())
            if not keep_open:
                transport._closing = True
            return keep_open
        except Exception:
            self._fail(conn, "eof_received")
            return False

    def _on_drain(self, user_data: Any, conn: int) -> None:
        transport = self._conns.get(conn)
        if transport is None or not transport._protocol._writing_paused:
            return
        protocol = transport._protocol
        protocol._writing_paused = False
        try:
            protocol.resume_writing()
        except Exception:
            self._fail(conn, "resume_writing")

    def _on_close(self, user_data: Any, conn: int, reason: int) -> None:
        transport = self._conns.pop(conn, None)
        if transport is None:
            return
        transport._closing = True
        try:
            transport._protocol.connection_lost(None if reason == 0 else C10kError(reason, "connection lost"))
        except Exception:
            log.exception("c10k: protocol connection_lost failed")

"""A PEP 3333 (WSGI) server: Flask, Django and friends on c10k.

The library reads and parses requests on its loop thread; each request is
copied, deferred and run on a pool of Python threads, and the response
goes back through the thread-safe deferred-reply calls. With ``loops=N``
(N > 1) the library's own worker pool runs the application instead, and
the response is sent from the pool thread. A result that
comes whole (the usual case: one chunk) is sent with a Content-Length;
a longer iterable is streamed, chunked unless the application gave a
Content-Length.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, Callable, Optional

from ._http import HttpServer
from ._request import Request
from ._response import AnyResponse, Response, StreamResponse

ExcInfo = tuple[type, BaseException, TracebackType]
StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Header names the environ carries without the HTTP_ prefix (PEP 3333).
_UNPREFIXED = {"CONTENT_TYPE", "CONTENT_LENGTH"}


class _Exchange:
    """The state of one WSGI call: ``start_response``, ``write`` and
    whether the head has gone to the client."""

    __slots__ = ("status", "headers", "written", "sent")

    def __init__(self) -> None:
        self.status: Optional[str] = None
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] = []
        self.sent = False

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Optional[ExcInfo] = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response called a second time without exc_info")
        if not isinstance(status, str) or len(status) < 3 or not status[:3].isdigit():
            raise ValueError(f"WSGI status must be a string like '200 OK', not {status!r}")
        self.status = status
        self.headers = list(headers)
        return self.write

    def write(self, data: bytes) -> None:
        if self.status is None:
            raise AssertionError("write() called before start_response()")
        if data:
            self.written.append(bytes(data))

    def take_written(self) -> list[bytes]:
        written, self.written = self.written, []
        return written


class _Body:
    """The streamed rest of a WSGI result; ``close()`` reaches the app's."""

    __slots__ = ("_first", "_rest", "_result", "_exchange")

    def __init__(self, first: list[bytes], rest: Iterator[bytes], result: Iterable[bytes], exchange: _Exchange) -> None:
        self._first = first
        self._rest = rest
        self._result = result
        self._exchange = exchange

    def __iter__(self) -> Iterator[bytes]:
        yield from self._first
        for chunk in self._rest:
            # write() calls made while iterating go out before the next chunk.
            yield from self._exchange.take_written()
            yield chunk
        yield from self._exchange.take_written()

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


class WSGIServer(HttpServer):
    """Serves a WSGI application on ``threads`` threads (``mode="threads"``
    of :class:`HttpServer`, so ``loops=N`` works as there).

    At most ``queue_size`` requests wait for a thread; more get 503.
    """

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 8080,
        *,
        threads: int = 8,
        queue_size: int = 1024,
        loops: int = 1,
        max_body_bytes: Optional[int] = None,
    ) -> None:
        self.app = app
        super().__init__(
            self._call_app,
            host,
            port,
            loops=loops,
            mode="threads",
            threads=threads,
            queue_size=queue_size,
            max_body_bytes=max_body_bytes,
        )

    def environ(self, request: Request) -> dict[str, Any]:
        """The PEP 3333 environ of ``request``."""
        server_host, server_port = self.address or ("", 0)
        peer_host, peer_port = request.peer
        body = request.body
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            # PEP 3333: the decoded bytes of the path, as latin-1 text.
            "PATH_INFO": request.path.encode("utf-8", "surrogateescape").decode("latin-1"),
            "QUERY_STRING": request.query,
            "REQUEST_URI": request.target,
            "RAW_URI": request.target,
            "SERVER_NAME": server_host,
            "SERVER_PORT": str(server_port),
            "SERVER_PROTOCOL": request.version,
            "REMOTE_ADDR": peer_host,
            "REMOTE_PORT": str(peer_port),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items_raw():
            # A name with "_" would collide with one spelled with "-":
            # dropped, as other servers do, so it cannot spoof a header.
            if "_" in name:
                continue
            key = name.upper().replace("-", "_")
            if key not in _UNPREFIXED:
                key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        if body and "CONTENT_LENGTH" not in environ:
            # A chunked body was read whole: its length is known now.
            environ["CONTENT_LENGTH"] = str(len(body))
        return environ

    def _call_app(self, request: Request) -> AnyResponse:
        exchange = _Exchange()
        result = self.app(self.environ(request), exchange.start_response)
        # Closed here unless the streamed body takes it over.
        owned: Optional[Iterable[bytes]] = result
        try:
            iterator = iter(result)
            chunks: list[bytes] = []
            exhausted = True
            # Read up to two chunks: one chunk is sent whole, more are streamed.
            for chunk in iterator:
                if chunk:
                    chunks.append(bytes(chunk))
                    if len(chunks) == 2:
                        exhausted = False
                        break
            if exchange.status is None:
                raise RuntimeError("the WSGI application returned without calling start_response")
            status = int(exchange.status[:3])
            first = exchange.take_written() + chunks
            if exhausted:
                return Response(status, exchange.headers, b"".join(first))
            exchange.sent = True
            owned = None
            return StreamResponse(status, exchange.headers, _Body(first, iterator, result, exchange))
        finally:
            close = getattr(owned, "close", None)
            if close is not None:
                close()


def serve(
    app: WSGIApp,
    host: str = "127.0.0.1",
    port: int = 8080,
    threads: int = 8,
    ready: Optional[Callable[[WSGIServer], None]] = None,
    **options: Any,
) -> None:
    """Serves ``app`` until SIGINT or SIGTERM (see :class:`WSGIServer`)."""
    server = WSGIServer(app, host, port, threads=threads, **options)
    server.serve_forever(ready=ready)  # type: ignore[arg-type]

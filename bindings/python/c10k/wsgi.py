"""A PEP 3333 (WSGI) server: Flask, Django and friends on c10k.

Per request the compiled path (``_native``) builds the environ, calls the
application with its ``start_response`` and, for the usual result (a list
of bytes), answers with ``c10k_respond``: no Python of ours runs. Longer
iterables are streamed (chunked unless the application gave a
Content-Length), ``wsgi.file_wrapper`` results go out with ``sendfile``,
and results are closed, all from here.

``threads=N`` (the default, 8) runs the application on the library's
worker pool: it may block, and ``queue_size`` requests may wait (more get
503). ``threads=0`` runs it on the loop thread, as bjoern does: the
fastest, for applications that never block.
"""

from __future__ import annotations

import io
import logging
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional

from . import _native
from ._fast import c_pointers, request_of
from ._ffi import ffi, lib
from ._http import HttpServer
from ._modes import PoolMode
from ._response import AnyResponse, Response, StreamResponse, header_pairs
from ._send import c_headers, close_chunks, respond, send_error
from ._server import mark_pool_thread, mark_serving_thread

log = logging.getLogger("c10k")

StartResponse = Callable[..., Callable[[bytes], None]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FileWrapper:
    """``wsgi.file_wrapper``: a file the server sends with ``sendfile(2)``
    when it is a regular file with a descriptor (from its current
    position); otherwise read in ``block_size`` pieces."""

    def __init__(self, filelike: Any, block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> Iterator[bytes]:
        read = self.filelike.read
        while True:
            data = read(self.block_size)
            if not data:
                return
            yield data

    def close(self) -> None:
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


class _Body:
    """The streamed rest of a WSGI result; ``close()`` reaches the app's."""

    __slots__ = ("_first", "_rest", "_result", "_exchange")

    def __init__(self, first: list[bytes], rest: Iterator[bytes], result: Iterable[bytes], exchange: Any) -> None:
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


def _file_range(wrapper: FileWrapper, headers: list[tuple[bytes, bytes]]) -> Optional[tuple[int, int, int]]:
    """``(fd, offset, length)`` of a wrapped regular file, or None."""
    fileno = getattr(wrapper.filelike, "fileno", None)
    if fileno is None:
        return None
    try:
        fd = fileno()
        info = os.fstat(fd)
        offset = os.lseek(fd, 0, os.SEEK_CUR)
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    length = max(0, info.st_size - offset)
    for name, value in headers:
        if name.lower() == b"content-length":
            length = min(length, int(value))
    return fd, offset, length


def _result_response(exchange: Any, result: Iterable[bytes]) -> tuple[AnyResponse, Optional[Iterable[bytes]]]:
    """The response of a result C did not answer, and what is left to
    close (None when a streamed body took the result over)."""
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
    status = _native.status_code(exchange.status)
    first = exchange.take_written() + chunks
    if exhausted:
        return Response(status, exchange.headers, b"".join(first)), result
    exchange.sent = True
    return StreamResponse(status, exchange.headers, _Body(first, iterator, result, exchange)), None


def _send_file(req: Any, exchange: Any, wrapper: FileWrapper) -> bool:
    """Answers a file_wrapper result with sendfile; False if it is no file."""
    if exchange.status is None:
        raise RuntimeError("the WSGI application returned without calling start_response")
    pairs = header_pairs(exchange.headers)
    found = _file_range(wrapper, pairs)
    if found is None:
        return False
    fd, offset, length = found
    array, n, _keep = c_headers(pairs)
    code = lib.c10k_respond_file(req, _native.status_code(exchange.status), array, n, fd, offset, length)
    if code not in (0, lib.C10K_ECLOSED, lib.C10K_EPIPE):
        raise RuntimeError(f"c10k_respond_file: {ffi.string(lib.c10k_strerror(code)).decode()}")
    exchange.sent = True
    return True


def _answer(address: int, environ: dict[str, Any], exchange: Any, result: Iterable[bytes]) -> None:
    """Answers, from Python, a result the compiled path left: an iterator,
    a file_wrapper, write() output."""
    req = request_of(address)
    owned: Optional[Iterable[bytes]] = result
    try:
        if isinstance(result, FileWrapper) and _send_file(req, exchange, result):
            return
        response, owned = _result_response(exchange, result)
        respond(req, response)
    except Exception:
        log.exception("c10k: WSGI application failed for %s %s", environ.get("REQUEST_METHOD"), environ.get("RAW_URI"))
        send_error(lambda response: respond(req, response))
    finally:
        if owned is not None:
            close_chunks(owned)


def _failed(environ: Any, error: BaseException) -> None:
    if isinstance(environ, dict):
        log.error(
            "c10k: WSGI application failed for %s %s",
            environ.get("REQUEST_METHOD"),
            environ.get("RAW_URI"),
            exc_info=error,
        )
    else:
        log.error("c10k: could not build a WSGI environ", exc_info=error)


class WSGIServer(HttpServer):
    """Serves a WSGI application.

    ``threads=N`` (N > 0): on the library's worker pool of N threads
    (``loops`` event loops in front); at most ``queue_size`` requests
    wait, more get 503. ``threads=0``: on the loop thread.
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
        **http_options: Any,
    ) -> None:
        if not isinstance(threads, int) or threads < 0:
            raise ValueError(f"threads must be an int >= 0, not {threads!r}")
        self.app = app
        self._threads = threads
        super().__init__(
            app,
            host,
            port,
            loops=loops,
            mode="inline" if threads == 0 else "threads",
            threads=max(threads, 1),
            queue_size=queue_size,
            max_body_bytes=max_body_bytes,
            **http_options,
        )
        if threads:
            self._mode = PoolMode(app, threads, queue_size)
        self._environ_base: dict[str, Any] = {
            "SCRIPT_NAME": "",
            "SERVER_NAME": host,
            "SERVER_PORT": str(port),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": threads > 0 or loops > 1,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
            "wsgi.file_wrapper": FileWrapper,
        }
        self._native = _native.WsgiDispatch(
            app, self._environ_base, io.BytesIO, _answer, _failed, mark_pool_thread if threads else mark_serving_thread
        )
        self._callbacks, self._user_data = c_pointers(self._native)

    def _library_loops(self) -> bool:
        # The worker pool belongs to the library's multi-loop server.
        return self._threads > 0 or self._loops > 1

    def _listened(self, address: tuple[str, int]) -> None:
        self._environ_base["SERVER_NAME"], port = address
        self._environ_base["SERVER_PORT"] = str(port)


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

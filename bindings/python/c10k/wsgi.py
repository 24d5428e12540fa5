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
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional

from . import _native
from ._fast import c_pointers, request_of
from ._errors import check
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


# A streamed body buffers at most about this much before reading pauses.
_BODY_HIGH_WATER = 1 << 20
# How often a reader waiting for body bytes checks that the client is still there.
_BODY_PROBE_S = 1.0
# The default cap on a request body (max_body_bytes): bodies stream, so
# this bounds the upload, not memory.
DEFAULT_MAX_BODY_BYTES = 1 << 30
# The environ keys every request sets (c10k/_native.c, wsgi_environ).
_PER_REQUEST_KEYS = (
    "REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "REQUEST_URI", "RAW_URI", "SERVER_PROTOCOL", "REMOTE_ADDR",
    "REMOTE_PORT",
)


class _EmptyInput(io.RawIOBase):
    """``wsgi.input`` of a request without a body: shared, always at EOF."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return 0

    def write(self, data: Any) -> int:
        raise io.UnsupportedOperation("wsgi.input is not writable")


class _BodyStream(io.RawIOBase):
    """A request body as it arrives (``on_body``, loop thread), read by the
    application on a pool thread. At most about ``_BODY_HIGH_WATER`` bytes
    wait; past that the library stops reading the socket until the
    application has taken half of them."""

    def __init__(self, reply: int) -> None:
        super().__init__()
        self.reply = reply
        self._cond = threading.Condition()
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._ended = self._aborted = self._paused = self._discarding = False

    def readable(self) -> bool:
        return True

    def _gone(self) -> bool:
        """Whether the reply died unseen (its client left before the body
        was opened); a live one is only asked to read on."""
        return lib.c10k_reply_resume_body(self.reply) == lib.C10K_ECLOSED

    def feed(self, data: bytes, end: bool) -> bool:
        """Takes a piece (loop thread); False pauses reading."""
        with self._cond:
            if not self._discarding and data:
                self._chunks.append(data)
                self._buffered += len(data)
            self._ended = self._ended or end
            self._cond.notify_all()
            self._paused = self._buffered > _BODY_HIGH_WATER
            return not self._paused

    def abort(self) -> None:
        with self._cond:
            self._aborted = True
            self._cond.notify_all()

    def discard(self) -> None:
        """The exchange is over: drop what is left, and read on."""
        with self._cond:
            self._discarding = True
            self._chunks.clear()
            self._buffered = 0
            resume, self._paused = self._paused, False
        if resume:
            lib.c10k_reply_resume_body(self.reply)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with self._cond:
            while not self._chunks and not self._ended and not self._aborted:
                if not self._cond.wait(_BODY_PROBE_S) and self._gone():
                    self._aborted = True
            if not self._chunks:
                if self._aborted and not self._ended:
                    raise OSError("the client closed the connection before sending the whole body")
                return 0
            chunk = self._chunks[0]
            n = min(len(view), len(chunk))
            view[:n] = chunk[:n]
            if n == len(chunk):
                self._chunks.popleft()
            else:
                self._chunks[0] = chunk[n:]
            self._buffered -= n
            resume = self._paused and self._buffered <= _BODY_HIGH_WATER // 2
            if resume:
                self._paused = False
        if resume:
            lib.c10k_reply_resume_body(self.reply)
        return n


class _Bodies:
    """Request bodies for the compiled path: ``open`` (the app's thread)
    gives a request's ``wsgi.input``; ``feed`` and ``abort`` come from the
    loop thread; ``done`` after the exchange."""

    def __init__(self, streamed: bool) -> None:
        self.streamed = streamed
        self._lock = threading.Lock()
        self._streams: dict[int, _BodyStream] = {}

    def _stream(self, reply: int) -> _BodyStream:
        with self._lock:
            stream = self._streams.get(reply)
            if stream is None:
                stream = self._streams[reply] = _BodyStream(reply)
            return stream

    def open(self, address: int) -> Any:
        req = request_of(address)
        if not self.streamed:
            data, size = ffi.new("const uint8_t **"), ffi.new("size_t *")
            check(lib.c10k_request_body(req, data, size), "c10k_request_body")
            return io.BytesIO(ffi.buffer(data[0], size[0])[:] if size[0] else b"")
        reply = ffi.new("uint64_t *")
        check(lib.c10k_request_defer(req, reply), "c10k_request_defer")
        return io.BufferedReader(self._stream(reply[0]))

    def feed(self, reply: int, data: bytes, end: bool) -> bool:
        return self._stream(reply).feed(data, end)

    def abort(self, reply: int) -> None:
        with self._lock:
            stream = self._streams.pop(reply, None)
        if stream is not None:
            stream.abort()

    def done(self, wsgi_input: Any) -> None:
        stream = getattr(wsgi_input, "raw", None)
        if isinstance(stream, _BodyStream):
            with self._lock:
                self._streams.pop(stream.reply, None)
            stream.discard()


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


def _set_reason(req: Any, status: str) -> None:
    """Keeps the application's reason phrase ("299 Custom Thing")."""
    reason = status[4:].encode("latin-1")
    if reason and reason != b"OK":
        check(lib.c10k_request_set_reason(req, reason, len(reason)), "c10k_request_set_reason")


def _send_file(req: Any, exchange: Any, wrapper: FileWrapper) -> bool:
    """Answers a file_wrapper result with sendfile; False if it is no file."""
    if exchange.status is None:
        raise RuntimeError("the WSGI application returned without calling start_response")
    pairs = header_pairs(exchange.headers)
    found = _file_range(wrapper, pairs)
    if found is None:
        return False
    fd, offset, length = found
    _set_reason(req, exchange.status)
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
        _set_reason(req, exchange.status)
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
            # Bodies stream to the application as they arrive.
            self._config.stream_bodies = True
            self._config.max_body_bytes = DEFAULT_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes
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
            "wsgi.input": io.BufferedReader(_EmptyInput()),
            # Set for each request by c10k._native; listed so that each
            # request's copy of this dict has their places already.
            **dict.fromkeys(_PER_REQUEST_KEYS, ""),
        }
        self._native = _native.WsgiDispatch(
            app, self._environ_base, _Bodies(streamed=threads > 0), _answer, _failed,
            mark_pool_thread if threads else mark_serving_thread,
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

"""Sending responses through the C API.

Two targets: a request still inside its ``on_request`` call (the
``c10k_respond*`` family, loop thread) and a deferred reply handle (the
``c10k_reply_*`` family, any thread). A client that left makes the reply
calls return ``C10K_ECLOSED``: that ends the work quietly, it is not an
error worth a traceback.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ._drain import BlockingWait, forget, may_block, register
from ._errors import C10kError, check
from ._ffi import ffi, lib
from ._response import AnyResponse, FileResponse, Response, StreamResponse

log = logging.getLogger("c10k")

_NOT_FOUND = Response(404, None, "Not Found\n")
_FORBIDDEN = Response(403, None, "Forbidden\n")
INTERNAL_ERROR = Response(500, None, "Internal Server Error\n")
SERVICE_UNAVAILABLE = Response(503, [("Retry-After", "1")], "Service Unavailable\n")

# Resolved once: a type given as a string is looked up on every call.
_U8_ARRAY = ffi.typeof("uint8_t[]")
_HEADER_ARRAY = ffi.typeof("c10k_header[]")

CHeaders = tuple[Any, int, Any]


def c_headers(pairs: list[tuple[bytes, bytes]]) -> CHeaders:
    """A ``c10k_header`` array over ``pairs``; the third item keeps the
    bytes alive: hold it (as ``_keep``) until the C call returns."""
    if not pairs:
        return ffi.NULL, 0, None
    blob = b"".join(name + value for name, value in pairs)
    buf = ffi.from_buffer(_U8_ARRAY, blob)
    array = ffi.new(_HEADER_ARRAY, len(pairs))
    offset = 0
    for i, (name, value) in enumerate(pairs):
        field = array[i]
        field.name = buf + offset
        field.name_len = len(name)
        offset += len(name)
        field.value = buf + offset
        field.value_len = len(value)
        offset += len(value)
    return array, len(pairs), buf


def headers_of(response: AnyResponse) -> CHeaders:
    """``c_headers`` of a response, kept on it while its headers stay the
    same: a constant response (a module-level ``HELLO``) is converted once."""
    cached = response._c_headers
    if cached is None or cached[0] != response.headers:
        cached = response._c_headers = (list(response.headers), c_headers(response.headers))
    return cached[1]


def _bytes_ptr(data: Any) -> Any:
    # cffi passes bytes to a uint8_t * as they are; other buffers need a view.
    return data if isinstance(data, bytes) else ffi.from_buffer(_U8_ARRAY, data)


def _file_error_response(code: int) -> Response:
    return _FORBIDDEN if code in (lib.C10K_EACCES, lib.C10K_EPERM) else _NOT_FOUND


def respond(req: Any, response: AnyResponse) -> None:
    """Answers a request during its callback (loop thread)."""
    if isinstance(response, Response):
        array, n, _keep = headers_of(response)
        body = response.body
        check(lib.c10k_respond(req, response.status, array, n, _bytes_ptr(body), len(body)), "c10k_respond")
    elif isinstance(response, FileResponse):
        array, n, _keep = headers_of(response)
        code = lib.c10k_respond_path(req, response.status, array, n, os.fsencode(response.path))
        if code in (lib.C10K_ENOENT, lib.C10K_EISDIR, lib.C10K_EACCES, lib.C10K_EPERM):
            respond(req, _file_error_response(code))
        else:
            check(code, "c10k_respond_path")
    elif hasattr(response, "begin_upgrade"):
        response.begin_upgrade(req)  # an AcceptWebSocket (c10k._websocket)
    else:
        reply = ffi.new("uint64_t *")
        check(lib.c10k_request_defer(req, reply), "c10k_request_defer")
        send(reply[0], response, lambda: False)


def _gone(code: int, context: str) -> bool:
    """True when the client left; raises for any other error."""
    if code == lib.C10K_ECLOSED:
        return True
    check(code, context)
    return False


def send(reply: int, response: AnyResponse, cancelled: Callable[[], bool]) -> None:
    """Completes a deferred reply (any thread)."""
    if isinstance(response, Response):
        array, n, _keep = headers_of(response)
        body = response.body
        _gone(lib.c10k_reply_send(reply, response.status, array, n, _bytes_ptr(body), len(body)), "c10k_reply_send")
    elif isinstance(response, FileResponse):
        send_file(reply, response)
    elif isinstance(response, StreamResponse):
        stream(reply, response, cancelled)
    else:
        response.begin(reply)  # a Deferred: the app completes the reply


def send_file(reply: int, response: FileResponse) -> None:
    """Sends a file to a deferred reply with ``sendfile(2)``."""
    try:
        fd = os.open(response.path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        code = lib.C10K_EACCES if err.errno in (errno.EACCES, errno.EPERM) else lib.C10K_ENOENT
        send(reply, _file_error_response(code), lambda: False)
        return
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            send(reply, _NOT_FOUND, lambda: False)
            return
        array, n, _keep = headers_of(response)
        # The library duplicates the descriptor, so closing ours below is safe.
        _gone(lib.c10k_reply_send_file(reply, response.status, array, n, fd, 0, info.st_size), "c10k_reply_send_file")
    finally:
        os.close(fd)


def stream_start(reply: int, response: StreamResponse) -> bool:
    """Sends the head of a streamed response; False if the client left."""
    array, n, _keep = headers_of(response)
    length = ffi.NULL if response.content_length is None else ffi.new("uint64_t *", response.content_length)
    return not _gone(lib.c10k_reply_start(reply, response.status, array, n, length), "c10k_reply_start")


def stream_write(reply: int, chunk: Any) -> int:
    """Sends one piece of a streamed body: 0, ``C10K_QUEUE_FULL`` (taken,
    but wait for a drain before the next) or ``C10K_ECLOSED`` (the client left)."""
    if isinstance(chunk, str):
        chunk = chunk.encode("utf-8")
    if not chunk:
        return 0
    code = lib.c10k_reply_write(reply, _bytes_ptr(chunk), len(chunk))
    return code if _gone(code, "c10k_reply_write") or code else 0


def stream_end(reply: int) -> None:
    """Ends a streamed response."""
    _gone(lib.c10k_reply_end(reply), "c10k_reply_end")


def close_chunks(chunks: Any) -> None:
    """Calls the iterable's ``close()``, as WSGI and generators expect."""
    close = getattr(chunks, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            log.exception("c10k: closing a response body failed")


@contextmanager
def aborting_on_error(reply: int) -> Iterator[None]:
    """Aborts a started reply (``c10k_reply_abort``, the client gets RST)
    if the body fails: a cut response must not pass for a complete one."""
    try:
        yield
    except BaseException:
        lib.c10k_reply_abort(reply)
        raise


def stream(reply: int, response: StreamResponse, cancelled: Callable[[], bool]) -> None:
    """Streams a synchronous iterable to a deferred reply, at the pace the
    client reads (``on_drain``); if it raises after the head went out, the
    reply is aborted. A thread that may block waits for each drain; on a
    loop thread the stream stops and the drain resumes it there."""
    if not may_block():
        _LoopStream(reply, response, cancelled).resume()
        return
    chunks = response.chunks
    waiting = BlockingWait(reply)
    try:
        if not stream_start(reply, response):
            return
        with aborting_on_error(reply):
            for chunk in chunks:
                if cancelled():
                    return
                waiting.arm()
                code = stream_write(reply, chunk)
                if code == lib.C10K_QUEUE_FULL:
                    waiting.wait()
                elif code:
                    return
            stream_end(reply)
    finally:
        forget(reply)
        close_chunks(chunks)


class _LoopStream:
    """A stream written from the loop thread: it writes until the queue is
    full, then returns; the drain calls :meth:`resume` on the loop thread."""

    def __init__(self, reply: int, response: StreamResponse, cancelled: Callable[[], bool]) -> None:
        self.reply = reply
        self.response = response
        self.chunks = iter(response.chunks)
        self.cancelled = cancelled
        self.started = False

    def resume(self) -> None:
        reply = self.reply
        try:
            if not self.started:
                self.started = True
                if not stream_start(reply, self.response):
                    return self._finish()
                register(reply, self.resume)
            with aborting_on_error(reply):
                for chunk in self.chunks:
                    if self.cancelled():
                        return self._finish()
                    code = stream_write(reply, chunk)
                    if code == lib.C10K_QUEUE_FULL:
                        return None
                    if code:
                        return self._finish()
                stream_end(reply)
        except Exception:
            log.exception("c10k: a streamed response failed")
        self._finish()

    def _finish(self) -> None:
        forget(self.reply)
        close_chunks(self.response.chunks)


def send_error(target: Callable[[Response], None], response: Response = INTERNAL_ERROR) -> None:
    """Sends an error response, ignoring a target that can no longer take
    one (already answered, started, or gone)."""
    try:
        target(response)
    except C10kError:
        pass

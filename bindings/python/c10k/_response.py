"""What a handler returns, and how it is brought to one of three shapes.

Each response keeps, in ``_c_headers``, the C form of its headers that
``_send`` made last, so a response reused for many requests is converted once.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable, Mapping
from typing import Any, Optional, Union

HeaderValue = Union[str, bytes, int]
HeadersLike = Union[Mapping[str, HeaderValue], Iterable[tuple[str, HeaderValue]], None]


def header_pairs(headers: HeadersLike) -> list[tuple[bytes, bytes]]:
    """Headers as latin-1 ``(name, value)`` byte pairs."""
    if not headers:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    pairs = []
    for name, value in items:
        if isinstance(value, int):
            value = str(value)
        pairs.append((_latin1(name), _latin1(value)))
    return pairs


def _latin1(text: Union[str, bytes]) -> bytes:
    return text if isinstance(text, bytes) else text.encode("latin-1")


def _has(pairs: list[tuple[bytes, bytes]], name: bytes) -> bool:
    return any(field.lower() == name for field, _ in pairs)


class Response:
    """A whole response: status, headers and a body of bytes or text.

    A ``str`` body is sent as UTF-8, with ``Content-Type: text/plain;
    charset=utf-8`` unless a content type is given. The library adds
    ``Content-Length``, ``Date`` and ``Connection``.
    """

    __slots__ = ("status", "headers", "body", "_c_headers")

    def __init__(self, status: int = 200, headers: HeadersLike = None, body: Union[bytes, str] = b"") -> None:
        self.status = status
        self.headers = header_pairs(headers)
        self._c_headers: Optional[tuple[Any, ...]] = None
        if isinstance(body, str):
            body = body.encode("utf-8")
            if not _has(self.headers, b"content-type"):
                self.headers.append((b"Content-Type", b"text/plain; charset=utf-8"))
        self.body = bytes(body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"


class FileResponse:
    """The file at ``path``, sent by the library with ``sendfile(2)``.

    ``Content-Type`` is guessed from the name unless given. A missing file
    or a directory answers 404, an unreadable one 403.
    """

    __slots__ = ("status", "headers", "path", "_c_headers")

    def __init__(self, path: Union[str, os.PathLike[str]], status: int = 200, headers: HeadersLike = None) -> None:
        self.path = os.fspath(path)
        self.status = status
        self.headers = header_pairs(headers)
        self._c_headers: Optional[tuple[Any, ...]] = None
        if not _has(self.headers, b"content-type"):
            guessed, _ = mimetypes.guess_type(self.path)
            self.headers.append((b"Content-Type", (guessed or "application/octet-stream").encode("latin-1")))

    def __repr__(self) -> str:
        return f"<FileResponse {self.status} {self.path!r}>"


class StreamResponse:
    """A body produced piece by piece from an iterable of bytes or str
    (or, in ``asyncio`` mode, an async iterable), sent as it comes.

    The body goes out chunked unless the headers give ``Content-Length``.
    The iterable's ``close()``, if any, is called when the response ends,
    fails or the client leaves.
    """

    __slots__ = ("status", "headers", "chunks", "content_length", "_c_headers")

    def __init__(self, status: int, headers: HeadersLike, chunks: Any) -> None:
        self.status = status
        pairs = header_pairs(headers)
        self.content_length: Optional[int] = None
        for name, value in pairs:
            if name.lower() == b"content-length":
                self.content_length = int(value)
        self.headers = pairs
        self.chunks = chunks
        self._c_headers: Optional[tuple[Any, ...]] = None

    def __repr__(self) -> str:
        return f"<StreamResponse {self.status}>"


AnyResponse = Union[Response, FileResponse, StreamResponse]


def coerce(result: Any) -> AnyResponse:
    """Turns what a handler returned into a response.

    Accepted: a response object; ``(status, headers, body)``; a body alone
    (bytes or str: 200); where the body is an iterable (not bytes or
    str), it is streamed.
    """
    if isinstance(result, (Response, FileResponse, StreamResponse)) or hasattr(result, "begin"):
        return result  # hasattr: a Deferred (c10k._reply), answered later
    if hasattr(result, "begin_upgrade"):
        return result  # an AcceptWebSocket (c10k._websocket)
    if isinstance(result, (bytes, bytearray, memoryview, str)):
        return Response(200, None, bytes(result) if not isinstance(result, str) else result)
    if isinstance(result, tuple) and len(result) == 3:
        status, headers, body = result
        if isinstance(body, (bytes, bytearray, memoryview, str)):
            return Response(status, headers, bytes(body) if not isinstance(body, str) else body)
        return StreamResponse(status, headers, body)
    if hasattr(result, "__iter__") or hasattr(result, "__aiter__"):
        return StreamResponse(200, None, result)
    raise TypeError(
        "a handler returns a Response, FileResponse, StreamResponse, "
        f"(status, headers, body), bytes or str; got {type(result).__name__}"
    )

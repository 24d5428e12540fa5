"""The request a handler receives, read from the library's borrowed views."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Optional

from ._ffi import ffi, lib


class Headers(Mapping[str, str]):
    """Header fields in arrival order, looked up case-insensitively.

    ``headers["content-type"]`` gives the first value; ``get_all(name)``
    every value of a repeated field. Names and values are latin-1 text, as
    HTTP/1.1 defines them.
    """

    __slots__ = ("_items", "_index")

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items
        self._index: dict[str, str] = {}
        for name, value in items:
            self._index.setdefault(name.lower(), value)

    def __getitem__(self, name: str) -> str:
        return self._index[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def get_all(self, name: str) -> list[str]:
        """Every value of the field ``name``, in arrival order."""
        key = name.lower()
        return [value for field, value in self._items if field.lower() == key]

    def items_raw(self) -> list[tuple[str, str]]:
        """Every field as sent, duplicates and original case kept."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class _Views:
    """Scratch out-parameters for reading views; one per loop thread."""

    __slots__ = ("ptr", "length", "name", "name_len", "addr")

    def __init__(self) -> None:
        self.ptr = ffi.new("const uint8_t **")
        self.length = ffi.new("size_t *")
        self.name = ffi.new("const uint8_t **")
        self.name_len = ffi.new("size_t *")
        self.addr = ffi.new("char[]", lib.C10K_ADDRSTRLEN)

    def read(self, getter: Any, req: Any) -> Optional[bytes]:
        """Copies the view ``getter`` stores; None when it has none."""
        if getter(req, self.ptr, self.length) != 0:
            return None
        return ffi.buffer(self.ptr[0], self.length[0])[:]


def parse_addr(text: str) -> tuple[str, int]:
    """``"127.0.0.1:80"`` or ``"[::1]:80"`` as a ``(host, port)`` pair."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def _percent_decode(raw: bytes) -> bytes:
    out = ffi.new("uint8_t[]", max(len(raw), 1))
    out_len = ffi.new("size_t *")
    # A malformed escape leaves the path as sent rather than failing the request.
    if lib.c10k_percent_decode(raw, len(raw), False, out, len(raw), out_len) != 0:
        return raw
    return ffi.buffer(out, out_len[0])[:]


_FIELDS = ("method", "target", "raw_path", "query", "version", "headers", "body", "peer", "keep_alive")


class Request:
    """An HTTP request.

    In ``inline`` mode each attribute is read from the library the first
    time it is used, and only during the handler's call: the library's
    views die when it returns (an attribute first read later raises
    ``RuntimeError``). In the other modes the request is copied whole
    before the handler runs, so it may be kept.

    Attributes: ``method`` (``"GET"``), ``target`` (as sent),
    ``raw_path`` (bytes, not decoded), ``path`` (percent-decoded, UTF-8
    with ``surrogateescape``), ``query`` (after ``?``, not decoded; ``""``
    if none), ``version`` (``"HTTP/1.1"``), ``headers`` (:class:`Headers`),
    ``body`` (bytes), ``peer`` (``(host, port)``), ``keep_alive``.
    """

    __slots__ = ("_req", "_views", "_cache")

    def __init__(self, req: Any, views: _Views) -> None:
        self._req = req
        self._views = views
        self._cache: dict[str, Any] = {}

    def _load(self, field: str) -> Any:
        req, views = self._req, self._views
        value: Any
        if req is None:
            raise RuntimeError(
                f"Request.{field} was first read after the handler returned; "
                "read it during the call (the library's views are gone)"
            )
        if field == "method":
            value = (views.read(lib.c10k_request_method, req) or b"").decode("latin-1")
        elif field == "target":
            value = (views.read(lib.c10k_request_target, req) or b"").decode("latin-1")
        elif field == "raw_path":
            value = views.read(lib.c10k_request_path, req) or b""
        elif field == "query":
            value = (views.read(lib.c10k_request_query, req) or b"").decode("latin-1")
        elif field == "version":
            value = f"HTTP/1.{lib.c10k_request_version(req)}"
        elif field == "body":
            value = views.read(lib.c10k_request_body, req) or b""
        elif field == "headers":
            value = self._read_headers(req, views)
        elif field == "peer":
            if lib.c10k_request_peer_addr(req, views.addr, lib.C10K_ADDRSTRLEN) != 0:
                value = ("", 0)
            else:
                value = parse_addr(ffi.string(views.addr).decode())
        else:
            value = bool(lib.c10k_request_keep_alive(req))
        self._cache[field] = value
        return value

    @staticmethod
    def _read_headers(req: Any, views: _Views) -> Headers:
        items = []
        for i in range(lib.c10k_request_header_count(req)):
            if lib.c10k_request_header_at(req, i, views.name, views.name_len, views.ptr, views.length) != 0:
                break
            name = ffi.buffer(views.name[0], views.name_len[0])[:].decode("latin-1")
            value = ffi.buffer(views.ptr[0], views.length[0])[:].decode("latin-1")
            items.append((name, value))
        return Headers(items)

    def _get(self, field: str) -> Any:
        try:
            return self._cache[field]
        except KeyError:
            return self._load(field)

    @property
    def method(self) -> str:
        return self._get("method")

    @property
    def target(self) -> str:
        return self._get("target")

    @property
    def raw_path(self) -> bytes:
        return self._get("raw_path")

    @property
    def path(self) -> str:
        try:
            return self._cache["path"]
        except KeyError:
            path = _percent_decode(self.raw_path).decode("utf-8", "surrogateescape")
            self._cache["path"] = path
            return path

    @property
    def query(self) -> str:
        return self._get("query")

    @property
    def version(self) -> str:
        return self._get("version")

    @property
    def headers(self) -> Headers:
        return self._get("headers")

    @property
    def body(self) -> bytes:
        return self._get("body")

    @property
    def peer(self) -> tuple[str, int]:
        return self._get("peer")

    @property
    def keep_alive(self) -> bool:
        return self._get("keep_alive")

    def _copy_all(self) -> None:
        """Reads every field now, so the request outlives its callback."""
        for field in _FIELDS:
            self._get(field)
        self._detach()

    def _detach(self) -> None:
        self._req = None

    def __repr__(self) -> str:
        if self._req is not None:
            return f"<Request {self.method} {self.target}>"
        return f"<Request {self._cache.get('method', '?')} {self._cache.get('target', '?')}>"

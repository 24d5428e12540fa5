"""The request a handler receives, read from the library's borrowed views."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Optional

from ._errors import check
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


class _Scratch(threading.local):
    """Out-parameters for reading views, one set per thread: with several
    loops (or a worker pool) callbacks run on several threads at once."""

    def __init__(self) -> None:
        self.info = ffi.new("c10k_request_info *", {"size": ffi.sizeof("c10k_request_info")})
        self.name = ffi.new("const uint8_t **")
        self.name_len = ffi.new("size_t *")
        self.value = ffi.new("const uint8_t **")
        self.value_len = ffi.new("size_t *")
        self.addr = ffi.new("char[]", lib.C10K_ADDRSTRLEN)


_scratch = _Scratch()


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


_buffer = ffi.buffer

# c10k_request_info.target_form as the names Request.target_form gives.
TARGET_FORMS = {
    lib.C10K_TARGET_ORIGIN: "origin",
    lib.C10K_TARGET_ABSOLUTE: "absolute",
    lib.C10K_TARGET_AUTHORITY: "authority",
    lib.C10K_TARGET_ASTERISK: "asterisk",
}


def _optional_text(pointer: Any, length: int, normalize: Callable[[str], str] = str) -> Optional[str]:
    """The view as latin-1 text (``normalize``d); ``None`` for a NULL one."""
    return None if pointer == ffi.NULL else normalize(_buffer(pointer, length)[:].decode("latin-1"))


# How each field comes out of a filled c10k_request_info (a NULL view with
# length 0 copies as b"").
_FROM_INFO: dict[str, Callable[[Any], Any]] = {
    "method": lambda info: _buffer(info.method, info.method_len)[:].decode("latin-1"),
    "raw_path": lambda info: _buffer(info.path, info.path_len)[:],
    "target": lambda info: _buffer(info.target, info.target_len)[:].decode("latin-1"),
    "query": lambda info: _buffer(info.query, info.query_len)[:].decode("latin-1"),
    "body": lambda info: _buffer(info.body, info.body_len)[:],
    "version": lambda info: f"HTTP/1.{info.version_minor}",
    "keep_alive": lambda info: bool(info.keep_alive),
    "target_form": lambda info: TARGET_FORMS[info.target_form],
    "scheme": lambda info: _optional_text(info.scheme, info.scheme_len, str.lower),
    "host": lambda info: _optional_text(info.host, info.host_len),
    "port": lambda info: None if info.port < 0 else info.port,
}
_FIELDS = (*_FROM_INFO, "headers", "peer")
_MISSING = object()


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
    ``body`` (bytes), ``peer`` (``(host, port)``), ``keep_alive``,
    ``target_form`` (``"origin"``, ``"absolute"``, ``"authority"`` for
    CONNECT, ``"asterisk"`` for ``OPTIONS *``), ``scheme`` (``"http"`` or
    ``"https"`` when an absolute-form target names one, else ``None``),
    ``host`` and ``port``: the host the request is for (RFC 9112 section
    3.3), from an absolute-form target's authority, else from ``Host``;
    without the port, an IPv6 literal in brackets; ``None`` only for an
    HTTP/1.0 request without ``Host``; ``port`` an int, ``None`` when
    neither names one.
    """

    __slots__ = ("_req", "_info", "_cache")

    def __init__(self, req: Any) -> None:
        self._req = req
        # This thread's c10k_request_info once filled for this request:
        # one C call gives every view but the header fields and the peer.
        self._info: Any = None
        self._cache: dict[str, Any] = {}

    def _live(self, field: str) -> Any:
        req = self._req
        if req is None:
            raise RuntimeError(
                f"Request.{field} was first read after the handler returned; "
                "read it during the call (the library's views are gone)"
            )
        return req

    def _fetch_info(self, field: str) -> Any:
        info = _scratch.info
        check(lib.c10k_request_get_info(self._live(field), info), "c10k_request_get_info")
        self._info = info
        return info

    def _get(self, field: str) -> Any:
        cache = self._cache
        value = cache.get(field, _MISSING)
        if value is _MISSING:
            extract = _FROM_INFO.get(field)
            if extract is not None:
                value = extract(self._info or self._fetch_info(field))
            elif field == "headers":
                value = self._read_headers(field)
            else:
                value = self._read_peer(field)
            cache[field] = value
        return value

    def _read_headers(self, field: str) -> Headers:
        count = (self._info or self._fetch_info(field)).header_count
        req, s = self._req, _scratch
        items = []
        for i in range(count):
            if lib.c10k_request_header_at(req, i, s.name, s.name_len, s.value, s.value_len) != 0:
                break
            name = _buffer(s.name[0], s.name_len[0])[:].decode("latin-1")
            items.append((name, _buffer(s.value[0], s.value_len[0])[:].decode("latin-1")))
        return Headers(items)

    def _read_peer(self, field: str) -> tuple[str, int]:
        addr = _scratch.addr
        if lib.c10k_request_peer_addr(self._live(field), addr, lib.C10K_ADDRSTRLEN) != 0:
            return ("", 0)
        return parse_addr(ffi.string(addr).decode())

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
        path = self._cache.get("path")
        if path is None:
            path = self._cache["path"] = _percent_decode(self.raw_path).decode("utf-8", "surrogateescape")
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

    @property
    def target_form(self) -> str:
        return self._get("target_form")

    @property
    def scheme(self) -> Optional[str]:
        return self._get("scheme")

    @property
    def host(self) -> Optional[str]:
        return self._get("host")

    @property
    def port(self) -> Optional[int]:
        return self._get("port")

    def _copy_all(self) -> None:
        """Reads every field now, so the request outlives its callback."""
        for field in _FIELDS:
            self._get(field)
        self._detach()

    def _detach(self) -> None:
        self._req = self._info = None

    def __repr__(self) -> str:
        if self._req is not None:
            return f"<Request {self.method} {self.target}>"
        return f"<Request {self._cache.get('method', '?')} {self._cache.get('target', '?')}>"

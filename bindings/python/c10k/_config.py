"""Every field of the library's ``c10k_http_config`` as a keyword argument.

The names are the C field names (``header_timeout_ms``, ``max_body_bytes``,
``backlog`` ...), read from the header cffi loaded: a field the library
adds is reachable from Python with no change here. Fields of the nested
``listen`` options (``backlog``, ``reuse_port``, ``max_connections``,
``idle_timeout_ms``, ``ipv6_only``) are given at the top level.
:func:`http_defaults` lists them all with the library's defaults.
"""

from __future__ import annotations

import os
import weakref
from typing import IO, Any, Optional, Union

from ._ffi import ffi, lib

_CONFIG = ffi.typeof("c10k_http_config")
_LISTEN = ffi.typeof("c10k_listen_options")
# Set by the binding itself: not options.
_INTERNAL = {"size", "listen", "stream_bodies"}


def _fields(ctype: Any) -> list[str]:
    return [name for name, _ in ctype.fields if name not in _INTERNAL]


HTTP_OPTIONS: tuple[str, ...] = tuple(_fields(_CONFIG))
LISTEN_OPTIONS: tuple[str, ...] = tuple(_fields(_LISTEN))


# What each config points to (its c10k_listen_options, its strings): kept
# while it lives.
_POINTED: "weakref.WeakKeyDictionary[Any, list[Any]]" = weakref.WeakKeyDictionary()
_CHAR_P = ffi.typeof("char *")


def _value(field: Any) -> Any:
    """A field as Python sees it: a C string as ``str`` (or None)."""
    if isinstance(field, ffi.CData) and ffi.typeof(field) in (_CHAR_P, ffi.typeof("const char *")):
        return None if field == ffi.NULL else ffi.string(field).decode()
    return field


def _read(struct: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _value(getattr(struct, name)) for name in names}


def http_defaults() -> dict[str, Any]:
    """Every option with the library's default (``c10k_http_config_init``)."""
    config, listen = ffi.new("c10k_http_config *"), ffi.new("c10k_listen_options *")
    lib.c10k_http_config_init(config)
    lib.c10k_listen_options_init(listen)
    return {**_read(config, HTTP_OPTIONS), **_read(listen, LISTEN_OPTIONS)}


def http_config(options: dict[str, Any], stream_bodies: bool = False) -> Any:
    """A ``c10k_http_config *`` with the defaults, then ``options``.

    Raises ``TypeError`` for a name the library does not have and
    ``ValueError`` for a value out of the field's range.
    """
    config, listen = ffi.new("c10k_http_config *"), ffi.new("c10k_listen_options *")
    lib.c10k_http_config_init(config)
    lib.c10k_listen_options_init(listen)
    config.listen = listen
    pointed = _POINTED[config] = [listen]  # alive as long as the config
    config.stream_bodies = stream_bodies
    for name, value in options.items():
        if value is None:
            continue
        if name in HTTP_OPTIONS:
            target = config
        elif name in LISTEN_OPTIONS:
            target = listen
        else:
            known = ", ".join(sorted(HTTP_OPTIONS + LISTEN_OPTIONS))
            raise TypeError(f"unknown HTTP option {name!r}; the library's options are: {known}")
        current = getattr(target, name)
        if isinstance(current, bool) and not isinstance(value, bool):
            raise TypeError(f"{name} takes a bool, not {type(value).__name__}")
        if isinstance(current, ffi.CData):  # a C string: kept with the config
            value = ffi.new("char[]", value.encode() if isinstance(value, str) else bytes(value))
            pointed.append(value)
        try:
            setattr(target, name, value)
        except OverflowError as err:
            raise ValueError(f"{name}={value!r} is out of range") from err
    return config


AccessLog = Union[bool, int, str, "os.PathLike[str]", IO[Any], None]


class AccessLogTarget:
    """Where the library's Common Log Format lines go: ``True`` for
    standard output, a descriptor, a file object with ``fileno()``, or a
    path opened for appending (kept open, and closed, here)."""

    def __init__(self, target: AccessLog) -> None:
        self._owned: Optional[int] = None
        self.fd = -1
        if target is None or target is False:
            return
        if target is True:
            self.fd = 1
        elif isinstance(target, int):
            self.fd = target
        elif hasattr(target, "fileno"):
            self.fd = target.fileno()  # type: ignore[union-attr]
        else:
            path = os.fspath(target)  # type: ignore[arg-type]
            self.fd = self._owned = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)

    def close(self) -> None:
        if self._owned is not None:
            os.close(self._owned)
            self._owned = None

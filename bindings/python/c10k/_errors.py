"""The exception every failing c10k call turns into, and the last resort
for one escaping a library callback."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Optional

from ._ffi import ffi, lib


class C10kError(OSError):
    """A c10k function returned a negative ``C10K_E*`` code.

    ``code`` is that code, ``name`` its symbol (``"C10K_EINVAL"``) and the
    message comes from ``c10k_strerror``. It is an ``OSError``, with
    ``errno`` set where the code is ``-errno``.
    """

    def __init__(self, code: int, context: str = "") -> None:
        self.code = code
        self.name = ffi.string(lib.c10k_err_name(code)).decode()
        message = ffi.string(lib.c10k_strerror(code)).decode()
        text = f"{context}: {message} ({self.name})" if context else f"{message} ({self.name})"
        super().__init__(-code if -1000 < code < 0 else None, text)
        self.args = (code, text)

    def __str__(self) -> str:
        return self.args[1]


def check(code: int, context: str = "") -> int:
    """Returns a non-negative result; raises ``C10kError`` for an error code."""
    if code < 0:
        raise C10kError(code, context)
    return code


def callback_error(kind: Optional[type], value: Optional[BaseException], tb: Optional[TracebackType]) -> None:
    """Logs an exception escaping a cffi callback (the callbacks catch what
    user code raises, so this means a bug in the binding)."""
    logging.getLogger("c10k").error("c10k: exception in a library callback", exc_info=(kind, value, tb))  # type: ignore[arg-type]

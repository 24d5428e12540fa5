"""Loading the shared library and declaring its API from ``c10k.h``.

The declarations are never kept by hand: the header bundled with the
package (copied from ``include/c10k.h`` at build time) is reduced
mechanically to what cffi's ``cdef`` reads, and the library is opened in
ABI mode. ``C10K_LIB`` may name another ``libc10k.so`` to load.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import cffi

_PKG_DIR = Path(__file__).resolve().parent
HEADER_PATH = _PKG_DIR / "c10k.h"
# setuptools-rust names it like an extension module (libc10k.cpython-311-....so).
BUNDLED_LIB_PATH = next(iter(sorted(_PKG_DIR.glob("libc10k*.so"))), _PKG_DIR / "libc10k.so")

_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_LINE_COMMENT = re.compile(r"//[^\n]*")
_CPLUSPLUS_BLOCK = re.compile(r"^#ifdef __cplusplus\b.*?^#endif[^\n]*$", re.S | re.M)
_DEFINE_INT = re.compile(r"^#define\s+(\w+)\s+\(?\s*(-?(?:0x[0-9a-fA-F]+|\d+))\s*\)?$")
_FUNCTION_NAME = re.compile(r"\b(c10k_\w+)\s*\(")


def cdef_source(header: str) -> str:
    """Reduces a C header to declarations cffi's ``cdef`` accepts.

    Comments, ``#include`` lines, include guards and ``extern "C"`` blocks
    go; integer ``#define`` constants stay as ``#define NAME number``, the
    one form of macro cffi's ABI mode reads (parentheses are dropped).
    """
    text = _BLOCK_COMMENT.sub("", header)
    text = _LINE_COMMENT.sub("", text)
    text = _CPLUSPLUS_BLOCK.sub("", text)
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            match = _DEFINE_INT.match(stripped)
            if match:
                lines.append(f"#define {match.group(1)} {match.group(2)}")
            continue
        lines.append(line)
    return "\n".join(lines)


def function_names(cdef: str) -> list[str]:
    """The names of the functions a reduced header declares, in order.

    Function-pointer fields and typedefs are written ``(*name)`` and so do
    not match.
    """
    return list(dict.fromkeys(_FUNCTION_NAME.findall(cdef)))


def _library_path() -> str:
    override = os.environ.get("C10K_LIB")
    if override:
        return override
    if not BUNDLED_LIB_PATH.exists():
        raise ImportError(
            f"c10k: {BUNDLED_LIB_PATH} is missing; install the package with "
            "`pip install ./bindings/python` (it builds the library) or set C10K_LIB"
        )
    return str(BUNDLED_LIB_PATH)


def _load() -> tuple[cffi.FFI, Any, str, str]:
    if not HEADER_PATH.exists():
        raise ImportError(f"c10k: {HEADER_PATH} is missing; reinstall the package")
    cdef = cdef_source(HEADER_PATH.read_text(encoding="utf-8"))
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    path = _library_path()
    lib = ffi.dlopen(path)
    found, expected = lib.c10k_abi_version(), lib.C10K_ABI_VERSION
    if found != expected:
        raise ImportError(
            f"c10k: {path} has ABI version {found}, but the bundled header "
            f"declares ABI version {expected}; rebuild or reinstall the package"
        )
    return ffi, lib, cdef, path


ffi, lib, CDEF, LIBRARY_PATH = _load()

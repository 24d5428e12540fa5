"""The binding declares every function of include/c10k.h, from the header."""

from __future__ import annotations

import os

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import c10k
from c10k import _ffi

ROOT_HEADER = Path(__file__).resolve().parents[3] / "include" / "c10k.h"
# A declaration line of the raw header: a return type, then `c10k_name(`.
_RAW_FUNCTION = re.compile(r"^(?:const\s+)?(?:struct\s+)?\w+\s*\**\s*(c10k_\w+)\(", re.M)


def raw_function_names() -> list[str]:
    return _RAW_FUNCTION.findall(ROOT_HEADER.read_text())


def test_the_bundled_header_is_the_repository_header() -> None:
    assert _ffi.HEADER_PATH.read_text() == ROOT_HEADER.read_text()


def test_every_header_function_is_declared_and_resolves() -> None:
    names = raw_function_names()
    assert len(names) >= 60
    assert _ffi.function_names(_ffi.CDEF) == names
    for name in names:
        function = getattr(_ffi.lib, name)
        assert _ffi.ffi.typeof(function).kind == "function", name


def _zero(arg_type: Any) -> object:
    if arg_type.kind in ("pointer", "function"):
        return _ffi.ffi.NULL
    if arg_type.cname == "_Bool":
        return False
    return 0


def test_every_function_is_callable_with_null_arguments() -> None:
    # NULL pointers, zero handles: each call answers an error or does
    # nothing, never crashes (the header's NULL rules). A function taking
    # a descriptor owns it even on failure (c10k_conn_sendfile), so the
    # zero passed closes standard input: put it back for later tests.
    stdin = os.dup(0)
    try:
        for name in raw_function_names():
            if name in ("c10k_loop_stop",):
                continue
            function = getattr(_ffi.lib, name)
            args = [_zero(arg) for arg in _ffi.ffi.typeof(function).args]
            result = function(*args)
            if isinstance(result, int) and _ffi.ffi.typeof(function).result.cname == "int32_t":
                assert result <= 0 or result == _ffi.lib.C10K_QUEUE_FULL, name
    finally:
        os.dup2(stdin, 0)
        os.close(stdin)
    assert _ffi.lib.c10k_loop_stop(_ffi.ffi.NULL) == _ffi.lib.C10K_EINVAL


def test_constants_come_from_the_header() -> None:
    text = ROOT_HEADER.read_text()
    for name, value in re.findall(r"^#define (C10K_E\w+) \((-?\d+)\)", text, re.M):
        assert getattr(_ffi.lib, name) == int(value)
    assert _ffi.lib.C10K_ABI_VERSION == _ffi.lib.c10k_abi_version()
    assert _ffi.lib.C10K_VERSION_HEX == _ffi.lib.c10k_version_hex()
    assert c10k.__version__ == "%d.%d.%d" % (
        _ffi.lib.C10K_VERSION_MAJOR,
        _ffi.lib.C10K_VERSION_MINOR,
        _ffi.lib.C10K_VERSION_PATCH,
    )


def test_cdef_source_strips_what_cffi_cannot_read() -> None:
    cdef = _ffi.cdef_source(ROOT_HEADER.read_text())
    assert "//" not in cdef and "extern" not in cdef and "#include" not in cdef
    assert "#define C10K_H" not in cdef
    assert "#define C10K_EINVAL -22" in cdef


def test_errors_carry_code_and_strerror() -> None:
    err = c10k.C10kError(_ffi.lib.C10K_EADDRINUSE, "listening")
    assert err.code == -98 and err.errno == 98 and err.name == "C10K_EADDRINUSE"
    assert "address already in use" in str(err)


def test_a_library_of_another_abi_is_refused(tmp_path: Path) -> None:
    package = Path(c10k.__file__).parent
    copy = tmp_path / "c10k"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    header = copy / "c10k.h"
    header.write_text(re.sub(r"#define C10K_ABI_VERSION \d+", "#define C10K_ABI_VERSION 999", header.read_text()))
    result = subprocess.run(
        [sys.executable, "-c", "import c10k"], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert "ABI version 999" in result.stderr and "ImportError" in result.stderr


def test_c10k_lib_overrides_the_library_path(tmp_path: Path) -> None:
    copy = tmp_path / "libc10k-copy.so"
    shutil.copyfile(_ffi.LIBRARY_PATH, copy)
    code = "from c10k import _ffi; print(_ffi.LIBRARY_PATH)"
    result = subprocess.run(
        [sys.executable, "-c", code], env={"C10K_LIB": str(copy), "PATH": ""}, capture_output=True, text=True, timeout=30
    )
    assert result.stdout.strip() == str(copy), result.stderr

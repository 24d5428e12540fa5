"""Measures what crossing the C boundary costs with cffi and with ctypes.

Two figures per FFI: a call from Python into the library
(``c10k_version_hex``) and a callback from the library into Python (tasks
posted with ``c10k_loop_post`` beforehand, then timed while one
``c10k_loop_run_once`` runs them all).

Usage: python bench/callback_overhead.py [N]   (after installing the package)
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable

from c10k._ffi import LIBRARY_PATH, ffi, lib


def per_call_ns(run: Callable[[int], float], n: int) -> float:
    """The best of three runs, per call; ``run`` returns its own seconds."""
    return min(run(n) for _ in range(3)) / n * 1e9


def timed(loop: Callable[[], None]) -> float:
    started = time.perf_counter()
    loop()
    return time.perf_counter() - started


def cffi_calls(n: int) -> float:
    version = lib.c10k_version_hex
    return timed(lambda: [version() for _ in range(n)] and None)


def cffi_callbacks(n: int) -> float:
    """Seconds spent in the loop running ``n`` posted Python callbacks."""
    out = ffi.new("c10k_loop **")
    assert lib.c10k_loop_new(out) == 0
    task = ffi.callback("void(void *, c10k_loop *)", lambda user_data, loop: None)
    for _ in range(n):
        lib.c10k_loop_post(out[0], task, ffi.NULL)
    seconds = timed(lambda: lib.c10k_loop_run_once(out[0], 0) and None)
    lib.c10k_loop_free(out[0])
    return seconds


clib = ctypes.CDLL(LIBRARY_PATH)
clib.c10k_version_hex.restype = ctypes.c_uint32
TASK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
clib.c10k_loop_new.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
clib.c10k_loop_post.argtypes = [ctypes.c_void_p, TASK, ctypes.c_void_p]
clib.c10k_loop_run_once.argtypes = [ctypes.c_void_p, ctypes.c_int32]
clib.c10k_loop_free.argtypes = [ctypes.c_void_p]


def ctypes_calls(n: int) -> float:
    version = clib.c10k_version_hex
    return timed(lambda: [version() for _ in range(n)] and None)


def ctypes_callbacks(n: int) -> float:
    """As ``cffi_callbacks``, through ctypes."""
    loop = ctypes.c_void_p()
    assert clib.c10k_loop_new(ctypes.byref(loop)) == 0
    task = TASK(lambda user_data, lp: None)
    for _ in range(n):
        clib.c10k_loop_post(loop, task, None)
    seconds = timed(lambda: clib.c10k_loop_run_once(loop, 0) and None)
    clib.c10k_loop_free(loop)
    return seconds


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    print(f"{'':10}{'call into C':>14}{'callback':>14}")
    print(f"{'cffi':10}{per_call_ns(cffi_calls, n):>11.0f} ns{per_call_ns(cffi_callbacks, n):>11.0f} ns")
    print(f"{'ctypes':10}{per_call_ns(ctypes_calls, n):>11.0f} ns{per_call_ns(ctypes_callbacks, n):>11.0f} ns")


if __name__ == "__main__":
    main()

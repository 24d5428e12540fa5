"""Builds the package: libc10k with setuptools-rust, the C extensions
``c10k._native`` (inline, WSGI) and ``c10k._asgi_native`` (ASGI) against
``include/c10k.h``, and the header bundled.

The repository root is found relative to this file (``../..``).
setuptools-rust runs cargo on the root's ``Cargo.toml`` and puts the
shared object (``libc10k*.so``) in the package; each extension is a plain
setuptools ``Extension`` that includes the header and finds the library's
functions at run time in the library cffi opened. A wheel made here
(``pip wheel ./bindings/python``) carries both and needs no Rust.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py
from setuptools_rust import Binding, RustExtension

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HEADER = ROOT / "include" / "c10k.h"


def cargo_version() -> str:
    """The crate's version, so the package and the library agree."""
    match = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    if not match:
        raise RuntimeError(f"no version in {ROOT / 'Cargo.toml'}")
    return match.group(1)


class BuildWithHeader(build_py):
    """``build_py`` that also bundles ``c10k.h`` (cffi reads it at import)."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "c10k"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HEADER, target / "c10k.h")


if not HEADER.exists():
    raise RuntimeError(f"{ROOT} is not the c10k repository (include/c10k.h expected)")

setup(
    version=cargo_version(),
    cmdclass={"build_py": BuildWithHeader},
    rust_extensions=[
        RustExtension(
            "c10k.libc10k",
            path=str(ROOT / "Cargo.toml"),
            binding=Binding.NoBinding,
            py_limited_api=False,
        )
    ],
    ext_modules=[
        Extension(
            name,
            sources=[f"c10k/{name.split('.')[1]}.c"],
            depends=["c10k/_native_common.h"],
            include_dirs=[str(ROOT / "include")],
            libraries=["dl"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
        )
        for name in ("c10k._native", "c10k._asgi_native")
    ],
    zip_safe=False,
)

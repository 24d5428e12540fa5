"""Builds libc10k with cargo and bundles it, with its header, in the package.

The repository root is found relative to this file (``../..``). Installing
(``pip install ./bindings/python``) runs ``cargo build --release --lib``
there and copies the shared object and ``include/c10k.h`` next to the
package's modules, so the installed package needs nothing else.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent.parent.parent
HEADER = ROOT / "include" / "c10k.h"


def cargo_version() -> str:
    """The crate's version, so the package and the library agree."""
    match = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    if not match:
        raise RuntimeError(f"no version in {ROOT / 'Cargo.toml'}")
    return match.group(1)


def build_library() -> Path:
    """Runs cargo and returns the path of the shared object it produced."""
    if not (ROOT / "Cargo.toml").exists() or not HEADER.exists():
        raise RuntimeError(f"{ROOT} is not the c10k repository (Cargo.toml and include/c10k.h expected)")
    cargo = shutil.which("cargo")
    if cargo is None:
        raise RuntimeError("building c10k needs the Rust toolchain: cargo is not on PATH")
    result = subprocess.run(
        [cargo, "build", "--release", "--lib", "--message-format=json-render-diagnostics"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and "cdylib" in message["target"]["kind"]:
            for filename in message["filenames"]:
                if filename.endswith(".so"):
                    return Path(filename)
    raise RuntimeError("cargo built no libc10k.so")


class BuildWithLibrary(build_py):
    """``build_py`` that also builds and copies the library and header."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "c10k"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build_library(), target / "libc10k.so")
        shutil.copyfile(HEADER, target / "c10k.h")


class BinaryDistribution(Distribution):
    """Marks wheels as platform-specific: they carry a native library."""

    def has_ext_modules(self) -> bool:
        return True


setup(version=cargo_version(), cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)

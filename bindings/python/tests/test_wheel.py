"""`pip wheel ./bindings/python` makes a wheel that carries the library,
the extension and the header, and that installs and serves in a fresh
venv whose PATH has no cargo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent

SERVE_ONE = """
import threading, urllib.request
import c10k
server = c10k.HttpServer(lambda r: (200, {}, "from the wheel " + r.path), port=0).start()
url = "http://%s:%d/x" % server.address
print(urllib.request.urlopen(url, timeout=10).read().decode())
print(c10k.__file__)
server.stop()
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), str(HERE)],
        check=True,
        timeout=900,
    )
    (found,) = out.glob("c10k-*.whl")
    return found


def test_the_wheel_carries_library_extension_and_header(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("c10k/libc10k") and n.endswith(".so") for n in names), names
    assert any(n.startswith("c10k/_native") and n.endswith(".so") for n in names), names
    assert "c10k/c10k.h" in names and "c10k/wsgi.py" in names
    assert "-linux_" in wheel.name or "-manylinux" in wheel.name  # a platform wheel, not py3-none-any


def test_the_wheel_installs_and_serves_without_cargo(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not (Path(p) / "cargo").exists())
    env = dict(os.environ, PATH=path)
    env.pop("C10K_LIB", None)
    assert shutil.which("cargo", path=path) is None
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, env=env, timeout=600)
    served = subprocess.run(
        [str(python), "-c", SERVE_ONE], check=True, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    lines = served.stdout.splitlines()
    assert lines[0] == "from the wheel /x"
    assert lines[1].startswith(str(env_dir))

"""Install what the run needs and build the c10k side. Every step is
best effort: what cannot be had shows up as `not built yet` or
`not installed` in the report instead of stopping the run."""
import os
import re
import shutil
import subprocess
from pathlib import Path

from .settings import REPO, VENV

# Debian package for each tool or file the peers need.
APT = {"wrk": "wrk", "nginx": "nginx-light", "h2o": "h2o", "strace": "strace",
       "sbcl": "sbcl",
       # socketify's bundled uWebSockets library links libuv.
       "/usr/lib/x86_64-linux-gnu/libuv.so.1": "libuv1",
       "/usr/share/common-lisp/systems/hunchentoot.asd": "cl-hunchentoot",
       # bjoern builds against libev.
       "/usr/include/ev.h": "libev-dev"}
# Python peers, module name -> pip package; each installed on its own, so
# that one that fails to build does not keep the others out. Add the
# servers a scenario compares against here.
PIP = {"uvloop": "uvloop", "httptools": "httptools", "websockets": "websockets",
       "socketify": "socketify", "bjoern": "bjoern", "granian": "granian",
       "uvicorn": "uvicorn", "gunicorn": "gunicorn", "flask": "flask"}
INSTALLED_MARK = VENV / ".c10k-installed"


def _missing_apt():
    return [pkg for what, pkg in APT.items()
            if not (Path(what).exists() if what.startswith("/")
                    else shutil.which(what))]


def _run(argv, **kw):
    print("  $ " + " ".join(map(str, argv)), flush=True)
    return subprocess.run(argv, **kw).returncode == 0


def apt_packages():
    pkgs = _missing_apt()
    if not pkgs:
        return
    if os.geteuid() != 0:
        print(f"  cannot install {pkgs}: not root")
        return
    # The first try may fail on an old package list; update only then.
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", *pkgs]
    if not _run(cmd, env=env, timeout=900):
        _run(["apt-get", "update", "-q"], env=env, timeout=600)
        _run(cmd, env=env, timeout=900)


def venv():
    python = VENV / "bin" / "python"
    if not python.exists():
        VENV.parent.mkdir(parents=True, exist_ok=True)
        _run(["python3", "-m", "venv", str(VENV)], timeout=300)
    for module, package in PIP.items():
        probe = [str(python), "-c", f"import {module}"]
        if subprocess.run(probe, capture_output=True).returncode != 0:
            _run([str(python), "-m", "pip", "install", "-q", package], timeout=600)


def _has_make_target(name):
    makefile = REPO / "Makefile"
    return makefile.exists() and re.search(
        rf"^{name}\s*:", makefile.read_text(), re.M) is not None


def build_c10k():
    """`make examples`, which links the examples against the release library
    (no variables passed: RELEASE is the Makefile's own path variable), then
    the Python binding into the bench venv, marked so that a failed build is
    not mistaken for an older one."""
    if _has_make_target("examples"):
        args = os.environ.get("BENCH_MAKE_ARGS", "")
        _run(["make", "-C", str(REPO), "examples", *args.split()], timeout=1800)
    else:
        print(f"  no `examples` target in {REPO}/Makefile: c10k not built yet")
    INSTALLED_MARK.unlink(missing_ok=True)
    binding = REPO / "bindings" / "python"
    if (binding / "pyproject.toml").exists() or (binding / "setup.py").exists():
        if _run([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q",
                 str(binding)], timeout=1800):
            INSTALLED_MARK.touch()


def everything():
    print("== preparing", flush=True)
    apt_packages()
    venv()
    if os.environ.get("BENCH_NO_BUILD", "") in ("", "0"):
        build_c10k()

"""What each benchmarked server is and how to start it.

A Spec knows how to build its command line for an address; `missing` says
why it cannot run (the c10k side is often `not built yet`)."""
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from . import peerconf
from .settings import BENCH_DIR, EXAMPLES, REPO, VENV

NOT_BUILT = "not built yet"


@dataclass
class Spec:
    name: str
    argv: Callable  # (host, port, workdir) -> list of str
    is_c10k: bool = False
    missing: Optional[str] = None
    timeout: float = 20.0
    env: Optional[dict] = field(default=None)


def _need_files(*paths):
    return None if all(Path(p).exists() for p in paths) else NOT_BUILT


def _need_tool(tool):
    return None if shutil.which(tool) else f"{tool} not installed"


def c10k_example(binary, *args, name="c10k", before_addr=()):
    """A C example from target/examples-c; `before_addr` are arguments that
    precede the address (static_files takes ROOT first)."""
    path = EXAMPLES / binary
    return Spec(
        name=name, is_c10k=True, missing=_need_files(path),
        argv=lambda h, p, w: [str(path), *before_addr, f"{h}:{p}", *args])


def nginx(max_conns=20000, static_root=None, workers=1):
    def argv(host, port, workdir):
        conf = peerconf.write(workdir, "nginx.conf", peerconf.nginx_conf(
            host, port, workdir, max_conns, static_root, workers))
        # -e: keep even the startup error log out of /var/log.
        return ["nginx", "-p", str(workdir), "-e",
                f"{workdir}/nginx-error.log", "-c", str(conf)]
    return Spec(name="nginx", argv=argv, missing=_need_tool("nginx"))


def h2o(max_conns=20000):
    def argv(host, port, workdir):
        conf = peerconf.write(workdir, "h2o.yaml", peerconf.h2o_conf(
            host, port, workdir, max_conns))
        return ["h2o", "-c", str(conf)]
    return Spec(name="h2o", argv=argv, missing=_need_tool("h2o"))


def _venv_python():
    return VENV / "bin" / "python"


def python_c10k():
    script = REPO / "bindings/python/examples/hello.py"
    return Spec(
        name="python c10k", is_c10k=True, timeout=60,
        missing=_need_files(script, VENV / ".c10k-installed"),
        argv=lambda h, p, w: [str(_venv_python()), str(script), f"{h}:{p}"])


def uvloop_peer():
    script = BENCH_DIR / "peers/uvloop_hello.py"
    return Spec(
        name="uvloop+httptools", timeout=30,
        missing=_need_files(_venv_python()),
        argv=lambda h, p, w: [str(_venv_python()), str(script), f"{h}:{p}"])


def _sbcl(script, name, is_c10k, missing):
    # The first start compiles FASLs into ~/.cache, hence the long timeout.
    return Spec(
        name=name, is_c10k=is_c10k, timeout=300,
        missing=missing or _need_tool("sbcl"),
        argv=lambda h, p, w: ["sbcl", "--script", str(script), f"{h}:{p}"])


def lisp_c10k():
    script = REPO / "bindings/lisp/examples/hello.lisp"
    return _sbcl(script, "lisp c10k", True, _need_files(script))


def lisp_clack():
    script = REPO / "bindings/lisp/examples/clack-hello.lisp"
    return _sbcl(script, "lisp clack", True, _need_files(script))


def hunchentoot_peer():
    asd = Path("/usr/share/common-lisp/systems/hunchentoot.asd")
    return _sbcl(BENCH_DIR / "peers/hunchentoot_hello.lisp", "hunchentoot",
                 False, None if asd.exists() else "cl-hunchentoot not installed")


# --- the Python scenario: the binding's modes and Python's fast servers ------

def _need_module(module):
    """None if the bench venv imports `module`, else why not."""
    found = _venv_python().exists() and subprocess.run(
        [str(_venv_python()), "-c", f"import {module}"],
        capture_output=True).returncode == 0
    return None if found else f"{module} not installed"


def _python_script(name, script, *args, is_c10k=False, missing=None):
    return Spec(
        name=name, is_c10k=is_c10k, timeout=60,
        missing=missing or _need_files(script, _venv_python()),
        argv=lambda h, p, w: [str(_venv_python()), str(script), f"{h}:{p}",
                              *args])


def python_c10k_wsgi():
    """c10k.wsgi with the app on the loop thread (threads=0, as bjoern)."""
    return _python_script("c10k wsgi", REPO / "bindings/python/bench/wsgi_hello.py",
                          is_c10k=True,
                          missing=_need_files(VENV / ".c10k-installed"))


def socketify_peer():
    return _python_script("socketify", BENCH_DIR / "peers/socketify_hello.py",
                          missing=_need_module("socketify"))


def bjoern_peer():
    return _python_script("bjoern", BENCH_DIR / "peers/wsgi_hello.py",
                          missing=_need_module("bjoern"))


def granian_wsgi_peer():
    """granian --interface wsgi, one worker, one runtime and one blocking
    thread (the fairness rule: one thread serves)."""
    granian = VENV / "bin" / "granian"
    env = dict(os.environ, PYTHONPATH=str(BENCH_DIR / "peers"))
    return Spec(
        name="granian wsgi", timeout=60, env=env,
        missing=_need_files(granian),
        argv=lambda h, p, w: [str(granian), "--interface", "wsgi", "--host", h,
                              "--port", str(p), "--workers", "1",
                              "--runtime-threads", "1", "--blocking-threads", "1",
                              "--no-ws", "--log-level", "warning", "wsgi_hello:app"])


# --- the ASGI scenario: c10k.asgi and Flask under --workers, and peers -------

def _peer_env():
    return dict(os.environ, PYTHONPATH=str(BENCH_DIR / "peers"))


def _c10k_cli(name, app, *args):
    """`python -m c10k APP ARGS` with bench/peers importable."""
    return Spec(
        name=name, is_c10k=True, timeout=60, env=_peer_env(),
        missing=_need_files(VENV / ".c10k-installed"),
        argv=lambda h, p, w: [str(_venv_python()), "-m", "c10k", app, "--host", h,
                              "--port", str(p), "--log-level", "warning", *args])


def c10k_asgi():
    return _c10k_cli("c10k asgi", "asgi_hello:app", "--interface", "asgi")


def uvicorn_peer():
    """uvicorn with uvloop and httptools, one process, no access log."""
    uvicorn = VENV / "bin" / "uvicorn"
    return Spec(
        name="uvicorn", timeout=60, env=_peer_env(), missing=_need_files(uvicorn),
        argv=lambda h, p, w: [str(uvicorn), "--loop", "uvloop", "--http", "httptools",
                              "--host", h, "--port", str(p), "--no-access-log",
                              "--log-level", "warning", "asgi_hello:app"])


def _granian(name, interface, app, workers, *args):
    granian = VENV / "bin" / "granian"
    return Spec(
        name=name, timeout=60, env=_peer_env(), missing=_need_files(granian),
        argv=lambda h, p, w: [str(granian), "--interface", interface, "--host", h,
                              "--port", str(p), "--workers", str(workers), *args,
                              "--no-ws", "--log-level", "warning", app])


def granian_asgi_peer():
    """granian --interface asgi, one worker with one runtime thread."""
    return _granian("granian asgi", "asgi", "asgi_hello:app", 1, "--runtime-threads", "1")


def c10k_flask_workers():
    return _c10k_cli("c10k wsgi x2", "flask_json:app", "--interface", "wsgi",
                     "--workers", "2", "--threads", "8")


def gunicorn_flask_workers():
    gunicorn = VENV / "bin" / "gunicorn"
    return Spec(
        name="gunicorn gthread x2", timeout=60, env=_peer_env(), missing=_need_files(gunicorn),
        argv=lambda h, p, w: [str(gunicorn), "-w", "2", "-k", "gthread", "--threads", "8",
                              "--no-control-socket", "--log-level", "warning",
                              "-b", f"{h}:{p}", "flask_json:app"])


def granian_flask_workers():
    return _granian("granian wsgi x2", "wsgi", "flask_json:app", 2, "--blocking-threads", "8")

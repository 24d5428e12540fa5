"""``python -m c10k module:app``: serve an application with no code, in
the conventions of uvicorn and granian.

One process serves (``--loops`` event loops, ``--threads`` pool threads);
``--workers N`` runs N such processes on one port (``SO_REUSEPORT``) under
a supervisor (:mod:`c10k._workers`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Any, Optional

INTERFACES = ("asgi", "wsgi", "c10k")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m c10k",
        description="Serve a Python application with c10k.",
        epilog="Interfaces: asgi (ASGI 3.0: FastAPI, Starlette), wsgi (PEP 3333: Flask, Django), "
        "c10k (a handler taking c10k.Request). SIGTERM and SIGINT stop gracefully; "
        "with --workers, SIGHUP restarts the workers one at a time.",
    )
    p.add_argument("app", help="the application, as module:attribute (module.sub:attr.attr)")
    p.add_argument("--interface", choices=INTERFACES, default="asgi", help="how to call the app (default: asgi)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")
    p.add_argument("--loops", type=int, default=1, help="event loops per process (wsgi, c10k; default: 1)")
    p.add_argument("--workers", type=int, default=1, help="processes sharing the port (default: 1)")
    p.add_argument(
        "--threads", type=int, default=None,
        help="pool threads per process: wsgi default 8 (0: on the loop), c10k default 0 (inline handlers)",
    )
    p.add_argument("--access-log", action="store_true", help="write a Common Log Format line per request to stdout")
    p.add_argument("--keep-alive-timeout", type=float, default=None, metavar="SECONDS",
                   help="idle time allowed between two requests (library default: 60)")
    p.add_argument("--max-body-size", type=int, default=None, metavar="BYTES",
                   help="larger request bodies get 413 (default: asgi none; wsgi 1 GiB, streamed, or 1 MiB with --threads 0; c10k 1 MiB)")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="(default: info)")
    p.add_argument("--root-path", default="", help="asgi: the prefix the app is mounted under")
    p.add_argument("--lifespan", choices=("auto", "on", "off"), default="auto", help="asgi: lifespan (default: auto)")
    p.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                   help="asgi: the event loop (default: uvloop if installed)")
    p.add_argument("--factory", action="store_true", help="the attribute is a function returning the app")
    return p


def load_app(spec: str, factory: bool = False) -> Any:
    """The object ``module:attr`` names, importing from the current directory too."""
    module_name, sep, attrs = spec.partition(":")
    if not sep or not module_name or not attrs:
        raise SystemExit(f"error: the app must be given as module:attribute, not {spec!r}")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as err:
        if err.name and module_name.startswith(err.name):
            raise SystemExit(f"error: could not import module {module_name!r}: {err}") from None
        raise
    for attr in attrs.split("."):
        try:
            target = getattr(target, attr)
        except AttributeError:
            raise SystemExit(f"error: module {module_name!r} has no attribute {attrs!r}") from None
    return target() if factory else target


def server_options(args: argparse.Namespace, reuse_port: bool) -> dict[str, Any]:
    """The library options the command line sets."""
    options: dict[str, Any] = {"reuse_port": reuse_port}
    if args.keep_alive_timeout is not None:
        options["keepalive_timeout_ms"] = round(args.keep_alive_timeout * 1000)
    if args.max_body_size is not None:
        options["max_body_bytes"] = args.max_body_size
    if args.access_log:
        options["access_log"] = True
    return options


def make_server(args: argparse.Namespace, reuse_port: bool) -> Any:
    """The server of one process for ``args``."""
    app = load_app(args.app, args.factory)
    options = server_options(args, reuse_port)
    if args.interface == "asgi":
        from .asgi import ASGIServer

        if args.loops != 1:
            raise SystemExit("error: asgi serves on one event loop per process; use --workers for more cores")
        return ASGIServer(app, args.host, args.port, root_path=args.root_path, lifespan=args.lifespan,
                          event_loop=args.loop, **options)
    if args.interface == "wsgi":
        from .wsgi import WSGIServer

        threads = 8 if args.threads is None else args.threads
        return WSGIServer(app, args.host, args.port, threads=threads, loops=args.loops, **options)
    from ._http import HttpServer

    threads = args.threads or 0
    mode = "threads" if threads else "inline"
    return HttpServer(app, args.host, args.port, loops=args.loops, mode=mode, threads=max(threads, 1), **options)


def serve_one(args: argparse.Namespace, reuse_port: bool, ready_fd: Optional[int] = None) -> int:
    """Serves in this process until SIGTERM or SIGINT."""
    server = make_server(args, reuse_port)

    def ready(server: Any) -> None:
        host, port = server.address
        print(f"listening on {host}:{port}" if ":" not in host else f"listening on [{host}]:{port}", flush=True)
        if ready_fd is not None:
            os.write(ready_fd, b"ready\n")
            os.close(ready_fd)

    server.serve_forever(ready)
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("workers", "loops"):
        if getattr(args, name) < 1:
            raise SystemExit(f"error: --{name} must be at least 1")
    ready_fd = os.environ.pop("C10K_READY_FD", None)
    if ready_fd is not None:
        # A worker of a supervisor: serve, sharing the port.
        return serve_one(args, True, int(ready_fd))
    if args.workers > 1:
        from ._workers import Supervisor

        return Supervisor(args, sys.argv[1:] if argv is None else argv).run()
    return serve_one(args, False)

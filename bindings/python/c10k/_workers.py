"""``--workers N``: N server processes on one port, kept alive.

Each worker is ``python -m c10k`` again, listening with ``SO_REUSEPORT``
(the kernel spreads connections among them) and telling the supervisor
through a pipe once it listens. The supervisor:

- restarts a worker that dies (after a pause if it died before listening,
  so a broken app does not spin);
- on SIGTERM or SIGINT, stops every worker with SIGTERM (each drains:
  accepting ends, requests in flight finish) and exits when all have;
- on SIGHUP, replaces the workers one at a time: a new one first, and
  the old one is told to stop only once the new one listens, so the port
  is never without a listener.

It turns on ``net.ipv4.tcp_migrate_req`` where it may, so connections
queued on a stopping worker's socket move to another instead of being
reset. With ``--port 0`` the supervisor picks the port by binding (not
listening) a ``SO_REUSEPORT`` socket it keeps, so the workers share it.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from typing import Optional

log = logging.getLogger("c10k.workers")

# How long a stopping worker may drain before it is killed.
STOP_TIMEOUT_S = 30.0
# How long a new worker may take to listen.
START_TIMEOUT_S = 60.0
MIGRATE_REQ = "/proc/sys/net/ipv4/tcp_migrate_req"
# The pause before restarting a worker that died before it listened.
CRASH_PAUSE_S = 1.0


class Worker:
    """One worker process and the pipe it says ``ready`` on."""

    def __init__(self, argv: list[str]) -> None:
        read, write = os.pipe()
        env = dict(os.environ, C10K_READY_FD=str(write))
        self.proc = subprocess.Popen([sys.executable, "-m", "c10k", *argv], env=env, pass_fds=(write,))
        os.close(write)
        self._ready_pipe: Optional[int] = read
        self.ready = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float) -> bool:
        """Waits until the worker listens; False if it died or took too long."""
        pipe = self._ready_pipe
        if pipe is None:
            return self.ready
        readable, _, _ = select.select([pipe], [], [], timeout)
        self.ready = bool(readable) and os.read(pipe, 64).startswith(b"ready")
        os.close(pipe)
        self._ready_pipe = None
        return self.ready

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def reap(self, timeout: float) -> None:
        """Waits for the exit, killing the worker after ``timeout``."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("c10k: worker %d did not stop in %.0f s: killed", self.pid, timeout)
            self.proc.kill()
            self.proc.wait()
        if self._ready_pipe is not None:
            os.close(self._ready_pipe)
            self._ready_pipe = None


class Supervisor:
    """Runs and watches ``args.workers`` workers of the command line ``argv``."""

    def __init__(self, args: argparse.Namespace, argv: list[str]) -> None:
        self.count = args.workers
        self._reserved: Optional[socket.socket] = None
        port = args.port
        if port == 0:
            port = self._reserve_port(args.host)
        self.host, self.port = args.host, port
        self.argv = _with_port(argv, port)
        self.workers: list[Worker] = []
        self._stopping = False
        self._reload = False

    def _reserve_port(self, host: str) -> int:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, 0))
        self._reserved = sock
        return sock.getsockname()[1]

    def _on_stop(self, signum: int, frame: object) -> None:
        self._stopping = True

    def _on_hup(self, signum: int, frame: object) -> None:
        self._reload = True

    def _start(self) -> Worker:
        worker = Worker(self.argv)
        if not worker.wait_ready(START_TIMEOUT_S):
            log.error("c10k: worker %d did not start listening", worker.pid)
        return worker

    def run(self) -> int:
        _migrate_queued_connections()
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        try:
            self.workers = [self._start() for _ in range(self.count)]
            if not any(worker.ready for worker in self.workers):
                log.error("c10k: no worker could start")
                return 1
            print(f"listening on {self.host}:{self.port} ({self.count} workers)", flush=True)
            while not self._stopping:
                if self._reload:
                    self._reload = False
                    self._restart_all()
                self._replace_dead()
                time.sleep(0.1)
            return 0
        finally:
            for worker in self.workers:
                worker.stop()
            for worker in self.workers:
                worker.reap(STOP_TIMEOUT_S)
            if self._reserved is not None:
                self._reserved.close()

    def _replace_dead(self) -> None:
        for i, worker in enumerate(self.workers):
            code = worker.proc.poll()
            if code is None or self._stopping:
                continue
            log.warning("c10k: worker %d exited with %d; starting another", worker.pid, code)
            worker.reap(0)
            if not worker.ready:
                time.sleep(CRASH_PAUSE_S)
            self.workers[i] = self._start()

    def _restart_all(self) -> None:
        """One at a time: the new worker listens before the old one stops."""
        log.info("c10k: restarting %d workers", len(self.workers))
        for i, old in enumerate(list(self.workers)):
            if self._stopping:
                return
            new = self._start()
            self.workers[i] = new
            if not new.ready:
                log.error("c10k: the new worker failed; keeping worker %d", old.pid)
                self.workers[i] = old
                new.stop()
                new.reap(STOP_TIMEOUT_S)
                continue
            old.stop()
            old.reap(STOP_TIMEOUT_S)


def _migrate_queued_connections() -> None:
    """Turns on ``net.ipv4.tcp_migrate_req`` (Linux 5.14+) where it is
    off and this process may: without it, connections the kernel queued on
    a stopping worker's ``SO_REUSEPORT`` socket are reset when it closes,
    instead of moving to another worker."""
    try:
        with open(MIGRATE_REQ, "r+") as setting:
            if setting.read().strip() == "0":
                setting.seek(0)
                setting.write("1")
                log.info("c10k: set net.ipv4.tcp_migrate_req=1 (connections queued on a stopping worker move on)")
    except OSError as err:
        log.warning("c10k: cannot turn on net.ipv4.tcp_migrate_req (%s): a worker stopping under load may reset "
                    "connections the kernel had queued on it", err.strerror)


def _with_port(argv: list[str], port: int) -> list[str]:
    """``argv`` with ``--port`` set to ``port``."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--port":
            skip = True
            continue
        if arg.startswith("--port="):
            continue
        out.append(arg)
    return [*out, "--port", str(port)]

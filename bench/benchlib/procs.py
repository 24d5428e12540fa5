"""Starting, watching and stopping the processes a run owns."""
import os
import resource
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

from .settings import HOST

CLK_TCK = os.sysconf("SC_CLK_TCK")


def raise_nofile(want=1_048_576):
    """Raise RLIMIT_NOFILE for us and every child (wrk, servers, helpers)."""
    nr_open = int(Path("/proc/sys/fs/nr_open").read_text())
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = min(want, nr_open)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, max(limit, hard)))
    except (ValueError, PermissionError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port(host=HOST):
    # The kernel picks a free port; the small race before the server binds
    # it is acceptable on a loopback-only bench machine.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _ppid_map():
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(pid):
    """pid and all its descendants (nginx master + worker, for example)."""
    children, tree, todo = _ppid_map(), [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def rss_kib(pids):
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def cpu_seconds(pids):
    """utime + stime of the given processes, all threads included."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def fd_count(pids):
    return sum(len(os.listdir(f"/proc/{pid}/fd")) for pid in pids)


def wait_port(host, port, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_pids(pids, grace=5.0):
    """SIGTERM each pid, then SIGKILL what is left after the grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.05)


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


class Running:
    """A started server: its Popen, address and log file."""

    def __init__(self, name, argv, host, port, workdir, env=None, timeout=20):
        self.name, self.host, self.port = name, host, port
        self.command = shlex.join(argv)
        self.log = Path(workdir) / f"{name}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=env)
        try:
            ready = wait_port(host, port, self.proc, timeout)
        except BaseException:  # Ctrl-C while waiting: do not leak the server
            self.stop()
            raise
        if not ready:
            tail = self.log.read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"{name} did not start: {self.command}\n{tail}")

    @property
    def addr(self):
        return f"{self.host}:{self.port}"

    @property
    def url(self):
        return f"http://{self.addr}/"

    def pids(self):
        return process_tree(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            stop_pids(self.pids())
        self.proc.wait()

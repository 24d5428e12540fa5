"""Load generators: wrk (with output parsing), strace -c, our Python helpers."""
import json
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from .settings import BENCH_DIR

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out):
    """Requests/s, total requests, p99 (ms, if --latency), socket errors and
    non-2xx/3xx responses from wrk's text output. ok_rps counts only the
    2xx/3xx responses (wrk's Requests/sec counts every response)."""
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    res = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
           "requests": int(total.group(1))}
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if p99:
        res["p99_ms"] = _ms(p99.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), "
                     r"write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(non2xx.group(1)) if non2xx else 0
    kinds = dict(zip(("connect", "read", "write", "timeout"),
                     map(int, sock.groups()) if sock else (0, 0, 0, 0)))
    res.update({f"err_{k}": v for k, v in kinds.items()}, non2xx=bad)
    res["errors"] = sum(kinds.values()) + bad
    res["ok_rps"] = (res["requests"] - bad) / (
        _ms(total.group(2) + total.group(3)) / 1000)
    mb = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    if mb:
        scale = {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}
        res["mib_s"] = float(mb.group(1)) * scale[mb.group(2)]
    return res


def wrk_argv(url, threads, conns, seconds, script=None, latency=True,
             timeout=None):
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s"]
    if latency:
        argv.append("--latency")
    if timeout:
        argv.append(f"--timeout={timeout}s")
    if script:
        argv += ["-s", str(BENCH_DIR / script)]
    return argv + [url]


def run_wrk(argv, log):
    """Run wrk bounded in time; return (parsed result, raw output)."""
    seconds = int(re.search(r"-d(\d+)s", " ".join(argv)).group(1))
    log(shlex.join(argv))
    out = subprocess.run(argv, capture_output=True, text=True, check=True,
                         timeout=seconds + 60).stdout
    return parse_wrk(out), out


def wrk(url, log, threads=1, conns=100, seconds=5, **kw):
    return run_wrk(wrk_argv(url, threads, conns, seconds, **kw), log)[0]


def _traced(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"TracerPid:\s+(\d+)", status).group(1)) != 0


def syscalls_during(pids, workdir, action, log):
    """Count the system calls `pids` make while `action()` runs.
    Returns (total calls, per-syscall table text, action's result)."""
    out = Path(workdir) / "strace.txt"
    argv = ["strace", "-c", "-f", "-q", "-o", str(out)]
    for pid in pids:
        argv += ["-p", str(pid)]
    log(shlex.join(argv))
    tracer = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not all(_traced(p) for p in pids):
            if time.monotonic() > deadline or tracer.poll() is not None:
                raise RuntimeError("strace could not attach")
            time.sleep(0.05)
        result = action()
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
    table = out.read_text()
    total = re.search(r"^\s*100\.00\s+\S+\s+\S+\s+(\d+).*total\s*$",
                      table, re.M)
    return int(total.group(1)), table, result


def run_helper(script, args, log, timeout):
    """Run one of our Python helpers; it prints one JSON object last."""
    argv = [sys.executable, str(BENCH_DIR / script), *map(str, args)]
    log(shlex.join(argv))
    out = subprocess.run(argv, capture_output=True, text=True, check=True,
                         timeout=timeout).stdout
    return json.loads(out.strip().splitlines()[-1])

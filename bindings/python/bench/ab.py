"""Runs HTTP servers in turn (A B A B ...) under ``wrk`` and prints medians.

Each server is ``NAME=COMMAND``, where ``{addr}`` in the command becomes
``127.0.0.1:PORT`` (``{host}`` and ``{port}`` also work). A server is
measured once it answers ``GET PATH`` and is stopped with SIGTERM after its
run, so every round starts fresh and alternating spreads the noise of a
shared machine over all of them.

Usage::

    python bench/ab.py [--rounds 3] [--wrk "-t1 -c100 -d5s"] [--path /] \\
        'c10k=python examples/hello.py {addr}' \\
        'uvloop=python ../../bench/peers/uvloop_hello.py {addr}'
"""

from __future__ import annotations

import argparse
import re
import shlex
import signal
import socket
import statistics
import subprocess
import time
import urllib.request

_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_ERRORS = re.compile(r"(Non-2xx or 3xx responses|Socket errors):[^\n]*")
_START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Polls ``url`` until it answers; raises if the server died or is slow."""
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} in {_START_TIMEOUT_S} s")


def measure(command: str, wrk_args: list[str], path: str) -> float:
    """Starts the server, runs wrk once against it, stops it; requests/s."""
    port = free_port()
    argv = shlex.split(command.format(addr=f"127.0.0.1:{port}", host="127.0.0.1", port=port))
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}{path}"
        wait_until_serving(url, proc)
        out = subprocess.run(["wrk", *wrk_args, url], check=True, capture_output=True, text=True).stdout
        for problem in _ERRORS.findall(out):
            print(f"    wrk reported {problem}")
        match = _RATE.search(out)
        if match is None:
            raise RuntimeError(f"no Requests/sec in wrk's output:\n{out}")
        return float(match.group(1))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wrk", default="-t1 -c100 -d5s", help="wrk's options (default %(default)s)")
    parser.add_argument("--path", default="/")
    parser.add_argument("servers", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args()
    servers = [spec.split("=", 1) for spec in args.servers]
    rates: dict[str, list[float]] = {name: [] for name, _ in servers}
    for round_number in range(1, args.rounds + 1):
        for name, command in servers:
            rate = measure(command, shlex.split(args.wrk), args.path)
            rates[name].append(rate)
            print(f"round {round_number} {name:>16}: {rate:>10,.0f} req/s", flush=True)
    print(f"medians over {args.rounds} rounds, wrk {args.wrk}:")
    for name, values in rates.items():
        print(f"  {name:>16}: {statistics.median(values):>10,.0f} req/s")


if __name__ == "__main__":
    main()

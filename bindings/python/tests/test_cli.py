"""``python -m c10k module:app``: each interface, the options, and
``--workers`` (a dead worker replaced, SIGHUP restarting with no failed
request, SIGTERM draining), with real clients against real processes."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
APPS = {"asgi": "cli_apps:asgi_app", "wsgi": "cli_apps:wsgi_app", "c10k": "cli_apps:c10k_handler"}


class Served:
    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port

    def get(self, path: str = "/", method: str = "GET", body: bytes = b"") -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body or None)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def children(self) -> set[int]:
        text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return {int(pid) for pid in text.split()}


@contextmanager
def serve(*args: str) -> Iterator[Served]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "c10k", *args, "--port", "0"],
        cwd=HERE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        match = None
        # Workers each say they listen; the supervisor says it once all do.
        ready = re.compile(r"listening on 127\.0\.0\.1:(\d+)" + (r" \(\d+ workers\)" if "--workers" in args else ""))
        for line in proc.stdout:
            match = ready.search(line)
            if match:
                break
        assert match, "the server did not say it listens"
        # Keep reading the output so the process never blocks on a full pipe.
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()  # type: ignore[arg-type]
        served = Served(proc, int(match.group(1)))
        served.lines = lines  # type: ignore[attr-defined]
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def wait_for(predicate: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("interface", ["asgi", "wsgi", "c10k"])
def test_each_interface_serves_and_stops_on_sigterm(interface: str) -> None:
    with serve(APPS[interface], "--interface", interface) as served:
        status, body = served.get("/")
        assert status == 200 and body == f"{interface} {served.proc.pid}".encode()
        assert served.get("/echo", "POST", b"payload") == (200, b"payload")
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(30) == 0


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_options_reach_the_server(interface: str) -> None:
    with serve(APPS[interface], "--interface", interface, "--max-body-size", "10", "--access-log",
               "--keep-alive-timeout", "0.3", "--log-level", "warning") as served:
        assert served.get("/echo", "POST", b"x" * 11)[0] == 413
        assert served.get("/echo", "POST", b"x" * 10) == (200, b"x" * 10)
        assert wait_for(lambda: any('"POST /echo HTTP/1.1" 200' in line for line in served.lines))  # type: ignore[attr-defined]
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        conn.request("GET", "/")
        conn.getresponse().read()
        time.sleep(1.0)  # past the keep-alive timeout: the server closed the connection
        assert conn.sock.recv(1) == b""


def test_bad_app_spec_is_a_clear_error() -> None:
    result = subprocess.run([sys.executable, "-m", "c10k", "cli_apps:nothing", "--port", "0"],
                            cwd=HERE, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "no attribute" in result.stderr


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_workers_share_the_port_and_a_killed_worker_is_replaced(interface: str) -> None:
    with serve(APPS[interface], "--interface", interface, "--workers", "2") as served:
        workers = served.children()
        assert len(workers) == 2
        seen = set()
        for _ in range(200):
            status, body = served.get("/")
            assert status == 200
            seen.add(int(body.split()[1]))
            if seen == workers:
                break
        assert seen == workers, "the kernel spread connections over both workers"
        victim = sorted(workers)[0]
        os.kill(victim, signal.SIGKILL)
        assert wait_for(lambda: len(served.children()) == 2 and victim not in served.children())
        replacement = (served.children() - workers).pop()
        assert wait_for(lambda: served.get("/")[1] == f"{interface} {replacement}".encode(), 60)


def test_sighup_restarts_workers_with_no_failed_request() -> None:
    with serve(APPS["asgi"], "--interface", "asgi", "--workers", "2") as served:
        before = served.children()
        ok, failures, stop = [0], [], threading.Event()

        def load() -> None:
            while not stop.is_set():
                try:
                    status, _ = served.get("/")
                    if status == 200:
                        ok[0] += 1
                    else:
                        failures.append(status)
                except OSError as err:
                    failures.append(err)

        clients = [threading.Thread(target=load) for _ in range(4)]
        for client in clients:
            client.start()
        try:
            time.sleep(0.3)
            served.proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda: len(served.children()) == 2 and not served.children() & before, 90)
            time.sleep(0.3)
        finally:
            stop.set()
            for client in clients:
                client.join()
        assert failures == []
        assert ok[0] > 0


def test_sigterm_lets_requests_in_flight_finish() -> None:
    with serve(APPS["asgi"], "--interface", "asgi", "--workers", "2") as served:
        results: list[tuple[int, bytes]] = []
        slow = [threading.Thread(target=lambda: results.append(served.get("/slow"))) for _ in range(4)]
        for thread in slow:
            thread.start()
        time.sleep(0.2)
        served.proc.send_signal(signal.SIGTERM)
        for thread in slow:
            thread.join()
        assert served.proc.wait(30) == 0
        assert [status for status, _ in results] == [200] * 4

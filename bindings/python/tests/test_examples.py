"""The example programs: hello.py answers like hello_http, echo.py echoes,
and both exit cleanly on SIGINT and SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def example(name: str, stop: int) -> Iterator[str]:
    addr = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen([sys.executable, str(EXAMPLES / name), addr], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"listening on {addr}"
        yield addr
        proc.send_signal(stop)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_hello(stop: int) -> None:
    with example("hello.py", stop) as addr:
        response = requests.get(f"http://{addr}/")
        assert (response.status_code, response.text) == (200, "Hello, World!")
        assert response.headers["Content-Type"] == "text/plain"
        echoed = requests.post(f"http://{addr}/echo", data=b"echo me")
        assert (echoed.status_code, echoed.content) == (200, b"echo me")
        assert requests.get(f"http://{addr}/other").status_code == 404


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_echo(stop: int) -> None:
    with example("echo.py", stop) as addr:
        host, port = addr.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"ping")
            assert sock.recv(4) == b"ping"

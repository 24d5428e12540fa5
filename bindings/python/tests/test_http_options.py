"""Every library option reachable from Python: names checked, values
reaching the library (seen in its behaviour), access log written."""

from __future__ import annotations

import http.client
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import running

import c10k
from c10k.asgi import ASGIServer


def hello(request: c10k.Request) -> tuple[int, dict[str, str], str]:
    return 200, {"Content-Type": "text/plain"}, "Hello, World!"


def test_defaults_list_every_config_field() -> None:
    defaults = c10k.http_defaults()
    for name in ("max_head_bytes", "max_headers", "max_body_bytes", "header_timeout_ms", "body_timeout_ms",
                 "keepalive_timeout_ms", "max_requests_per_conn", "access_log_fd", "answer_half_closed",
                 "backlog", "reuse_port", "max_connections", "idle_timeout_ms"):
        assert name in defaults
    assert defaults["max_body_bytes"] == 1024 * 1024
    assert defaults["access_log_fd"] == -1


def test_unknown_option_and_bad_value_are_refused() -> None:
    with pytest.raises(TypeError, match="max_head_bytes"):
        c10k.HttpServer(hello, port=0, max_head_byte=10)
    with pytest.raises(ValueError):
        c10k.HttpServer(hello, port=0, max_headers=-1)
    with pytest.raises(TypeError):
        c10k.HttpServer(hello, port=0, reuse_port=1)


def test_limits_reach_the_library() -> None:
    with running(c10k.HttpServer(hello, port=0, max_head_bytes=256, max_requests_per_conn=2)) as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        conn.request("GET", "/", headers={"X-Big": "a" * 400})
        assert conn.getresponse().status == 431
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        conn.request("GET", "/")
        first = conn.getresponse()
        first.read()
        conn.request("GET", "/")
        second = conn.getresponse()
        second.read()
        assert first.getheader("connection") != "close" and second.getheader("connection") == "close"


@pytest.mark.parametrize("kind", ["http", "asgi"])
def test_header_timeout_cuts_a_slow_head(kind: str) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    server = c10k.HttpServer(hello, port=0, header_timeout_ms=200) if kind == "http" else \
        ASGIServer(app, port=0, lifespan="off", header_timeout_ms=200)
    with running(server):
        with socket.create_connection(server.address, timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\n")
            reply = sock.recv(4096)
            assert reply.startswith(b"HTTP/1.1 408")


@pytest.mark.parametrize("kind", ["http", "asgi"])
def test_access_log_to_a_path(tmp_path: Path, kind: str) -> None:
    log = tmp_path / "access.log"

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"made"})

    server = c10k.HttpServer(hello, port=0, access_log=log) if kind == "http" else \
        ASGIServer(app, port=0, lifespan="off", access_log=str(log))
    with running(server):
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        conn.request("GET", "/logged?x=1")
        conn.getresponse().read()
        deadline = time.monotonic() + 10
        while b"/logged" not in log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.02)
    line = log.read_bytes().decode()
    assert '"GET /logged?x=1 HTTP/1.1"' in line
    assert (" 200 " if kind == "http" else " 201 ") in line


def test_string_options_reach_the_library() -> None:
    assert c10k.http_defaults()["health_path"] is None
    with running(c10k.HttpServer(hello, port=0, health_path="/healthz")) as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        assert response.status == 200
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"Hello, World!"

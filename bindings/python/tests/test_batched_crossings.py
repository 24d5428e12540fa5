"""One crossing per loop turn: inline handlers and WSGI on the loop thread
receive the requests of a turn in one call from the library
(``on_requests``), and the stats count one host call for all of them."""

from __future__ import annotations

import http.client
import socket
import threading
from typing import Any

import pytest

import c10k
from c10k.wsgi import WSGIServer
from conftest import running

CLIENTS = 10


def _hello_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["PATH_INFO"].encode("latin-1")]


def _hello_handler(request: Any) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "text/plain"}, request.path.encode()


def _read(conn: http.client.HTTPConnection) -> bytes:
    response = conn.getresponse()
    assert response.status == 200
    return response.read()


@pytest.mark.parametrize("kind", ["inline", "wsgi"])
def test_the_requests_of_one_turn_cost_one_call(kind: str) -> None:
    holding, release = threading.Event(), threading.Event()

    def hold_then(answer: Any) -> Any:
        # /hold keeps the loop thread busy until the other requests are sent.
        def wrapped(*args: Any) -> Any:
            first = args[0]
            path = first["PATH_INFO"] if isinstance(first, dict) else first.path
            if path == "/hold":
                holding.set()
                assert release.wait(10)
            return answer(*args)

        return wrapped

    if kind == "inline":
        server: c10k.Server = c10k.HttpServer(hold_then(_hello_handler), port=0, mode="inline")
    else:
        server = WSGIServer(hold_then(_hello_app), port=0, threads=0)
    with running(server):
        host, port = server.address
        holder = http.client.HTTPConnection(host, port, timeout=10)
        others = [http.client.HTTPConnection(host, port, timeout=10) for _ in range(CLIENTS)]
        for i, conn in enumerate([holder, *others]):
            conn.request("GET", f"/warm{i}")
            assert _read(conn) == f"/warm{i}".encode()
        before = server.stats()
        held = threading.Thread(target=lambda: (holder.request("GET", "/hold"), _read(holder)))
        held.start()
        assert holding.wait(10)
        for i, conn in enumerate(others):
            conn.request("GET", f"/batch{i}")
        release.set()
        for i, conn in enumerate(others):
            assert _read(conn) == f"/batch{i}".encode()
        held.join(10)
        after = server.stats()
        for conn in [holder, *others]:
            conn.close()
    assert after.requests - before.requests == CLIENTS + 1
    # One call for /hold, one for the ten requests that waited behind it.
    assert after.request_callbacks - before.request_callbacks == 2


def test_pipelined_requests_are_answered_in_order() -> None:
    with running(c10k.HttpServer(_hello_handler, port=0, mode="inline")) as server:
        host, port = server.address
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(b"".join(f"GET /p{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(16)))
            data = b""
            while data.count(b"HTTP/1.1 200") < 16 or not data.endswith(b"/p15"):
                chunk = sock.recv(65536)
                assert chunk
                data += chunk
    bodies = [part.rsplit(b"\r\n\r\n", 1)[-1] for part in data.split(b"HTTP/1.1 200 OK")[1:]]
    assert bodies == [f"/p{i}".encode() for i in range(16)]

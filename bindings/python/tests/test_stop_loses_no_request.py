"""A graceful stop of the ASGI server and of the WSGI server with its
thread pool (SIGTERM, a worker restarted by SIGHUP) loses no request: a client that connected before the stop began
but sends its request only after still gets its answer, and an idle
keep-alive connection is closed cleanly (end of stream, not a reset)."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from typing import Any

import pytest

from c10k import Server
from c10k.asgi import ASGIServer
from c10k.wsgi import WSGIServer


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


SERVERS = {
    "asgi": lambda: ASGIServer(app, port=0, lifespan="off"),
    "wsgi with threads": lambda: WSGIServer(wsgi_app, port=0, threads=2),
}


def wait_until(predicate: Any, seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def refuses_connections(address: tuple[str, int]) -> bool:
    try:
        # A probe that connects closes at once: the server sees its end of
        # stream and closes it, so the stop does not wait for it.
        socket.create_connection(address, timeout=10).close()
    except ConnectionRefusedError:
        return True
    return False


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("kind", SERVERS)
def test_a_request_sent_after_the_stop_began_is_answered_and_idle_connections_end_cleanly(kind: str) -> None:
    server: Server = SERVERS[kind]()
    server.start()
    address = server.address
    stopper = threading.Thread(target=server.stop)
    try:
        idle = http.client.HTTPConnection(*address, timeout=10)
        idle.request("GET", "/")
        assert idle.getresponse().read() == b"ok"
        fresh = socket.create_connection(address, timeout=10)
        wait_until(lambda: server.stats().open_connections == 2)

        stopper.start()
        wait_until(lambda: refuses_connections(address))
        fresh.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        answer = read_all(fresh)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"\r\nconnection: close\r\n" in answer.lower()
        assert answer.endswith(b"\r\n\r\nok")
        assert idle.sock is not None and idle.sock.recv(1) == b""
        fresh.close()
        idle.close()
    finally:
        if not stopper.is_alive() and stopper.ident is None:
            stopper.start()
        stopper.join(30)
    assert not stopper.is_alive()

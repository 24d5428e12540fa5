"""What the compiled WSGI path reuses from one request to the next (the
start_response object, str objects of repeated texts) never leaks one
request's state into another's, in both modes."""

from __future__ import annotations

import http.client
import socket
import sys
from typing import Any

import pytest

from c10k.wsgi import WSGIServer
from conftest import running

MODES = pytest.mark.parametrize("threads", [4, 0], ids=["pool", "loop-thread"])


@MODES
def test_a_start_response_the_app_keeps_is_not_given_to_a_later_request(threads: int) -> None:
    kept: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen = any(start_response is old for old in kept)
        kept.append(start_response)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"seen" if seen else b"new"]

    with running(WSGIServer(app, port=0, threads=threads)) as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        bodies = []
        for _ in range(5):
            conn.request("GET", "/")
            bodies.append(conn.getresponse().read())
        conn.close()
    assert bodies == [b"new"] * 5


@MODES
def test_each_request_gets_its_own_status_headers_and_body(threads: int) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        n = environ["PATH_INFO"].strip("/")
        if n == "write":
            write = start_response("201 Made", [("X-N", n)])
            write(b"written ")
            return [b"then returned"]
        if n == "fail":
            try:
                raise ValueError("after start_response")
            except ValueError:
                start_response("200 OK", [("X-N", "early")])
                start_response("500 Oops", [("X-N", n)], sys.exc_info())
            return [b"failed"]
        start_response("200 OK", [("X-N", n)])
        return [n.encode()]

    with running(WSGIServer(app, port=0, threads=threads)) as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        got = []
        for path in ("/1", "/write", "/2", "/fail", "/3"):
            conn.request("GET", path)
            r = conn.getresponse()
            got.append((r.status, r.reason, r.getheader("X-N"), r.read()))
        conn.close()
    assert got == [
        (200, "OK", "1", b"1"),
        (201, "Made", "write", b"written then returned"),
        (200, "OK", "2", b"2"),
        (500, "Oops", "fail", b"failed"),
        (200, "OK", "3", b"3"),
    ]


@MODES
def test_repeated_texts_are_each_requests_own(threads: int) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        fields = ("REQUEST_METHOD", "HTTP_HOST", "HTTP_X_TAG", "REMOTE_ADDR", "REMOTE_PORT")
        return [" ".join(str(environ.get(k)) for k in fields).encode()]

    def ask(sock: socket.socket, method: str, host: str, tag: str) -> str:
        sock.sendall(f"{method} / HTTP/1.1\r\nHost: {host}\r\nX-Tag: {tag}\r\nContent-Length: 0\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data or not data.split(b"\r\n\r\n", 1)[1]:
            chunk = sock.recv(4096)
            assert chunk, "server closed"
            data += chunk
        return data.split(b"\r\n\r\n", 1)[1].decode()

    with running(WSGIServer(app, port=0, threads=threads)) as server:
        first = socket.create_connection(server.address, timeout=10)
        second = socket.create_connection(server.address, timeout=10)
        port1, port2 = first.getsockname()[1], second.getsockname()[1]
        answers = [
            ask(first, "GET", "a.example", "one"),
            ask(second, "POST", "b.example", "two"),
            ask(first, "PUT", "a.example", "one"),
            ask(second, "GET", "a.example:8080", "three"),
        ]
        first.close()
        second.close()
    assert answers == [
        f"GET a.example one 127.0.0.1 {port1}",
        f"POST b.example two 127.0.0.1 {port2}",
        f"PUT a.example one 127.0.0.1 {port1}",
        f"GET a.example:8080 three 127.0.0.1 {port2}",
    ]

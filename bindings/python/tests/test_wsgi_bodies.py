"""WSGI request bodies: streamed to the application as they arrive (a
100 MB upload passes with memory bounded), capped by max_body_bytes, and
buffered whole when the application runs on the loop thread."""

from __future__ import annotations

import hashlib
import http.client
import resource
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from c10k.wsgi import WSGIServer
from conftest import running

MIB = 1 << 20


def _digest_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers the size and SHA-256 of the body, read in 64 KiB pieces."""
    digest, size = hashlib.sha256(), 0
    stream = environ["wsgi.input"]
    while True:
        piece = stream.read(64 * 1024)
        if not piece:
            break
        digest.update(piece)
        size += len(piece)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{size} {digest.hexdigest()}".encode()]


def _pieces(total: int, seed: bytes = b"c10k") -> Iterator[bytes]:
    block = hashlib.sha256(seed).digest() * (MIB // 32)
    for _ in range(total // MIB):
        yield block


def _expected(total: int) -> str:
    digest = hashlib.sha256()
    for piece in _pieces(total):
        digest.update(piece)
    return f"{total} {digest.hexdigest()}"


def _post(server: WSGIServer, body: Any, headers: dict[str, str]) -> tuple[int, bytes]:
    host, port = server.address
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        chunked = headers.get("Transfer-Encoding") == "chunked"
        conn.request("POST", "/upload", body=body, headers=headers, encode_chunked=chunked)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_100_mb_upload_streams_with_memory_bounded() -> None:
    total = 100 * MIB
    peak_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with running(WSGIServer(_digest_app, port=0)) as server:
        status, body = _post(server, _pieces(total), {"Content-Length": str(total)})
    assert status == 200 and body.decode() == _expected(total)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before_kib) / 1024
    # Client and server share this process: neither held the body whole.
    assert grown_mib < 50, f"peak memory grew by {grown_mib:.0f} MiB for a 100 MiB body"


def test_a_chunked_upload_streams() -> None:
    total = 8 * MIB
    with running(WSGIServer(_digest_app, port=0)) as server:
        status, body = _post(server, _pieces(total), {"Transfer-Encoding": "chunked"})
    assert status == 200 and body.decode() == _expected(total)


def test_the_cap_is_configurable() -> None:
    with running(WSGIServer(_digest_app, port=0, max_body_bytes=1000)) as server:
        assert _post(server, b"x" * 1000, {})[0] == 200
        assert _post(server, b"x" * 1001, {})[0] == 413


def test_a_client_that_leaves_mid_body_ends_the_read_with_an_error() -> None:
    failures: list[BaseException] = []
    reading = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        reading.set()
        try:
            environ["wsgi.input"].read()
        except OSError as err:
            failures.append(err)
            raise
        start_response("200 OK", [])
        return [b"unexpected"]

    with running(WSGIServer(app, port=0)) as server:
        sock = socket.create_connection(server.address, timeout=10)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"z" * 1000)
        assert reading.wait(10)
        sock.close()
        deadline = time.monotonic() + 10
        while not failures and time.monotonic() < deadline:
            time.sleep(0.05)
    assert failures and isinstance(failures[0], OSError)


def test_an_app_that_ignores_the_body_answers_and_the_connection_goes_on() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [environ["PATH_INFO"].encode()]

    with running(WSGIServer(app, port=0)) as server:
        host, port = server.address
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.request("POST", "/first", body=b"y" * (4 * MIB))
        assert conn.getresponse().read() == b"/first"
        conn.request("GET", "/second")
        assert conn.getresponse().read() == b"/second"
        conn.close()


@pytest.mark.parametrize("threads", [0, 4])
def test_small_bodies_in_both_modes(threads: int) -> None:
    with running(WSGIServer(_digest_app, port=0, threads=threads)) as server:
        status, body = _post(server, b"hello", {"Content-Type": "text/plain"})
        empty = _post(server, b"", {})
    assert status == 200 and body.decode() == f"5 {hashlib.sha256(b'hello').hexdigest()}"
    assert empty == (200, f"0 {hashlib.sha256(b'').hexdigest()}".encode())

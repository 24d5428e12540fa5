"""PEP 3333 details: environ, start_response with exc_info, write(), close()."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import requests

from c10k.wsgi import WSGIServer
from conftest import running, url


def test_the_environ_is_complete() -> None:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        seen["input"] = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with running(WSGIServer(app, port=0)) as server:
        requests.post(
            url(server, "/p%C3%A4th/x%2Fy?a=1&b=%20"),
            data=b"body!",
            headers={"Content-Type": "text/x-test", "X-Two": "2", "X_Smuggled": "no"},
        )
        host, port = server.address
    assert seen["REQUEST_METHOD"] == "POST"
    assert seen["SCRIPT_NAME"] == ""
    assert seen["PATH_INFO"] == "/p\u00c3\u00a4th/x/y"  # decoded bytes as latin-1
    assert seen["QUERY_STRING"] == "a=1&b=%20"
    assert seen["CONTENT_TYPE"] == "text/x-test"
    assert seen["CONTENT_LENGTH"] == "5"
    assert (seen["SERVER_NAME"], seen["SERVER_PORT"]) == (host, str(port))
    assert seen["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert seen["REMOTE_ADDR"] == "127.0.0.1"
    assert seen["HTTP_X_TWO"] == "2" and seen["HTTP_HOST"] == f"{host}:{port}"
    assert "HTTP_X_SMUGGLED" not in seen and "HTTP_CONTENT_TYPE" not in seen
    assert seen["wsgi.version"] == (1, 0) and seen["wsgi.url_scheme"] == "http"
    assert seen["wsgi.multithread"] is True and seen["wsgi.multiprocess"] is False
    assert seen["wsgi.run_once"] is False and seen["wsgi.errors"] is sys.stderr
    assert seen["input"] == b"body!"


def test_exc_info_replaces_the_status_before_sending() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("X-First", "1")])
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("503 Service Unavailable", [("X-Second", "1")], sys.exc_info())
        return [b"replaced"]

    with running(WSGIServer(app, port=0)) as server:
        response = requests.get(url(server))
    assert response.status_code == 503 and response.text == "replaced"
    assert "X-First" not in response.headers and response.headers["X-Second"] == "1"


def test_write_and_close_are_honoured() -> None:
    closed = threading.Event()

    class Result:
        def __iter__(self) -> Iterator[bytes]:
            yield b"b"
            yield b""
            yield b"c"

        def close(self) -> None:
            closed.set()

    def app(environ: dict[str, Any], start_response: Any) -> Result:
        write = start_response("200 OK", [("Content-Length", "3")])
        write(b"a")
        return Result()

    with running(WSGIServer(app, port=0)) as server:
        response = requests.get(url(server))
    assert response.content == b"abc" and response.headers["Content-Length"] == "3"
    assert closed.wait(5)


def test_an_app_that_raises_gives_500() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise KeyError("no")

    with running(WSGIServer(app, port=0)) as server:
        assert requests.get(url(server)).status_code == 500

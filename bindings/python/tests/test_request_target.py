"""The request-target forms and the effective host (RFC 9112 sections 3.2
and 3.3) as handlers, WSGI and ASGI applications see them, sent over raw
sockets: an absolute-form target names the host, overriding ``Host``."""

from __future__ import annotations

import json
import socket
from typing import Any
from wsgiref.util import request_uri

import pytest

import c10k
from c10k.asgi import ASGIServer
from c10k.wsgi import WSGIServer
from conftest import running

ABSOLUTE = b"GET http://example.org:8081/a?b=1 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n"


def exchange(server: Any, raw: bytes) -> tuple[int, bytes]:
    """Sends ``raw`` and reads until the server closes: the status and body."""
    with socket.create_connection(server.address, timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def describe(request: c10k.Request) -> c10k.Response:
    return c10k.Response(
        200,
        {"Content-Type": "application/json"},
        json.dumps(
            {
                "target_form": request.target_form,
                "scheme": request.scheme,
                "host": request.host,
                "port": request.port,
                "path": request.path,
                "query": request.query,
                "host_field": request.headers.get("host"),
            }
        ),
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            ABSOLUTE,
            {"target_form": "absolute", "scheme": "http", "host": "example.org", "port": 8081,
             "path": "/a", "query": "b=1", "host_field": "other"},
        ),
        (
            b"GET HTTPS://Example.org HTTP/1.1\r\nHost: other:9\r\nConnection: close\r\n\r\n",
            {"target_form": "absolute", "scheme": "https", "host": "Example.org", "port": None,
             "path": "/", "query": "", "host_field": "other:9"},
        ),
        (
            b"GET http://[::1]:8443/v6 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n",
            {"target_form": "absolute", "scheme": "http", "host": "[::1]", "port": 8443,
             "path": "/v6", "query": "", "host_field": "other"},
        ),
        (
            b"GET /o?k=v HTTP/1.1\r\nHost: origin.test:9000\r\nConnection: close\r\n\r\n",
            {"target_form": "origin", "scheme": None, "host": "origin.test", "port": 9000,
             "path": "/o", "query": "k=v", "host_field": "origin.test:9000"},
        ),
        (
            b"OPTIONS * HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n",
            {"target_form": "asterisk", "scheme": None, "host": "origin.test", "port": None,
             "path": "*", "query": "", "host_field": "origin.test"},
        ),
        (
            b"GET /old HTTP/1.0\r\n\r\n",
            {"target_form": "origin", "scheme": None, "host": None, "port": None,
             "path": "/old", "query": "", "host_field": None},
        ),
    ],
    ids=["absolute", "https-no-port", "ipv6", "origin", "asterisk", "http10-no-host"],
)
def test_the_request_names_the_effective_host(mode: str, raw: bytes, expected: dict[str, Any]) -> None:
    with running(c10k.HttpServer(describe, port=0, mode=mode)) as server:
        status, body = exchange(server, raw)
    assert status == 200
    assert json.loads(body) == expected


def test_the_parts_outlive_the_handler_once_read() -> None:
    kept: list[c10k.Request] = []

    def handler(request: c10k.Request) -> str:
        _ = (request.host, request.scheme)
        kept.append(request)
        return "ok"

    with running(c10k.HttpServer(handler, port=0)) as server:
        assert exchange(server, ABSOLUTE) == (200, b"ok")
    request = kept[0]
    assert (request.host, request.scheme, request.port, request.target_form) == ("example.org", "http", 8081, "absolute")


def wsgi_environ_of(raw: bytes) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with running(WSGIServer(app, port=0)) as server:
        assert exchange(server, raw) == (200, b"ok")
        seen["listening"] = server.address
    return seen


def test_wsgi_absolute_form_names_the_host_and_port() -> None:
    environ = wsgi_environ_of(ABSOLUTE)
    assert (environ["PATH_INFO"], environ["QUERY_STRING"]) == ("/a", "b=1")
    assert environ["HTTP_HOST"] == "example.org:8081"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.org", "8081")
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["REQUEST_URI"] == environ["RAW_URI"] == "http://example.org:8081/a?b=1"
    assert request_uri(environ) == "http://example.org:8081/a?b=1"


def test_wsgi_absolute_form_without_port_means_the_schemes_default() -> None:
    environ = wsgi_environ_of(b"GET https://example.org/s HTTP/1.1\r\nHost: other:81\r\nConnection: close\r\n\r\n")
    assert environ["HTTP_HOST"] == "example.org"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.org", "443")
    assert environ["PATH_INFO"] == "/s"


def test_wsgi_origin_form_keeps_host_and_the_listening_address() -> None:
    environ = wsgi_environ_of(b"GET /a?b=1 HTTP/1.1\r\nHost: other:81\r\nConnection: close\r\n\r\n")
    host, port = environ["listening"]
    assert environ["HTTP_HOST"] == "other:81"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == (host, str(port))
    assert request_uri(environ) == "http://other:81/a?b=1"


def test_asgi_absolute_form_gets_the_uris_path_and_the_raw_host_header() -> None:
    scopes: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        scopes.append(scope)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        assert exchange(server, ABSOLUTE) == (200, b"ok")
        scope = scopes[0]
        assert (scope["path"], scope["raw_path"], scope["query_string"]) == ("/a", b"/a", b"b=1")
        assert (b"host", b"other") in scope["headers"]
        assert scope["scheme"] == "http"
        assert scope["server"] == server.address

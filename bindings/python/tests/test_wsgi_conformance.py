"""PEP 3333 from the application's side: a plain app passes under
wsgiref.validate (which checks the environ, start_response, the input
stream and the result), reason phrases, and wsgi.file_wrapper answered
with sendfile, in both modes (pool threads and the loop thread)."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

import pytest

from c10k.wsgi import WSGIServer
from conftest import running

MODES = pytest.mark.parametrize("threads", [4, 0], ids=["pool", "loop-thread"])


def _plain(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    # wsgiref.validate wants a size: PEP 3333 does not promise EOF past it.
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body) + 3))])
    return [b"ok:", body]


def _request(server: WSGIServer, method: str, path: str, body: bytes = b"") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(*server.address, timeout=10)
    conn.request(method, path, body=body or None)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@MODES
def test_a_plain_app_passes_wsgiref_validate(threads: int) -> None:
    errors: list[BaseException] = []
    checked = validator(_plain)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return checked(environ, start_response)
        except BaseException as err:  # an AssertionError from the validator
            errors.append(err)
            raise

    with running(WSGIServer(app, port=0, threads=threads)) as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        for method, body in (("GET", b""), ("POST", b"payload"), ("GET", b"")):
            conn.request(method, "/p?q=1", body=body or None)
            response = conn.getresponse()
            assert response.status == 200 and response.read() == b"ok:" + body
        conn.close()
    assert errors == []


@MODES
def test_reason_phrases_are_kept(threads: int) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        status = {"/custom": "299 Custom Thing", "/renamed": "404 Nothing Here", "/plain": "200 OK"}[path]
        start_response(status, [("Content-Type", "text/plain")])
        if environ["QUERY_STRING"] == "stream":
            return iter([b"a", b"b", b"c"])
        return [b"x"]

    with running(WSGIServer(app, port=0, threads=threads)) as server:
        for query in ("", "stream"):
            for path, status, reason in (("/custom", 299, "Custom Thing"), ("/renamed", 404, "Nothing Here"),
                                         ("/plain", 200, "OK")):
                response = _request(server, "GET", f"{path}?{query}")
                assert (response.status, response.reason) == (status, reason)


@MODES
def test_file_wrapper_sends_the_file_and_closes_it(threads: int, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    opened: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        f = open(source, "rb")
        f.seek(1000)  # from the file's position
        opened.append(f)
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](f, 8192)

    with running(WSGIServer(app, port=0, threads=threads)) as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.status == 200 and response.read() == data[1000:]
        conn.close()
    assert opened and all(f.closed for f in opened)

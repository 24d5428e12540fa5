"""Requests and answers over real sockets, in every mode."""

from __future__ import annotations

import http.client
import json

import requests

import c10k
from conftest import running, url


def describe(request: c10k.Request) -> c10k.Response:
    body = {
        "method": request.method,
        "path": request.path,
        "raw_path": request.raw_path.decode(),
        "query": request.query,
        "target": request.target,
        "version": request.version,
        "x_test": request.headers.get("x-TEST"),
        "x_multi": request.headers.get_all("X-Multi"),
        "has_host": "Host" in request.headers,
        "body": request.body.decode(),
        "peer_host": request.peer[0],
        "keep_alive": request.keep_alive,
    }
    return c10k.Response(201, {"Content-Type": "application/json", "X-Reply": "yes"}, json.dumps(body))


def test_a_request_reaches_the_handler_whole(mode: str) -> None:
    with running(c10k.HttpServer(describe, port=0, mode=mode)) as server:
        response = requests.post(url(server, "/a%20b/c?x=1&y=%20"), data=b"payload", headers={"X-Test": "t"})
        assert response.status_code == 201
        assert response.headers["X-Reply"] == "yes"
        got = response.json()
        assert got == {
            "method": "POST",
            "path": "/a b/c",
            "raw_path": "/a%20b/c",
            "query": "x=1&y=%20",
            "target": "/a%20b/c?x=1&y=%20",
            "version": "HTTP/1.1",
            "x_test": "t",
            "x_multi": [],
            "has_host": True,
            "body": "payload",
            "peer_host": "127.0.0.1",
            "keep_alive": True,
        }


def test_repeated_headers_and_keep_alive(mode: str) -> None:
    with running(c10k.HttpServer(describe, port=0, mode=mode)) as server:
        conn = http.client.HTTPConnection(*server.address, timeout=10)
        for i in range(3):
            conn.putrequest("GET", f"/n{i}")
            conn.putheader("X-Multi", "a")
            conn.putheader("X-Multi", "b")
            conn.endheaders()
            got = json.loads(conn.getresponse().read())
            assert got["x_multi"] == ["a", "b"] and got["path"] == f"/n{i}" and got["query"] == ""
        conn.close()


def test_handler_results_of_every_shape(mode: str) -> None:
    def handler(request: c10k.Request) -> object:
        return {
            "/tuple": (202, [("X-Kind", "tuple")], b"t"),
            "/str": "text \u00e9",
            "/bytes": b"raw",
            "/status": c10k.Response(404, None, b"nope"),
        }[request.path]

    with running(c10k.HttpServer(handler, port=0, mode=mode)) as server:
        response = requests.get(url(server, "/tuple"))
        assert (response.status_code, response.headers["X-Kind"], response.content) == (202, "tuple", b"t")
        response = requests.get(url(server, "/str"))
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content == "text \u00e9".encode()
        assert requests.get(url(server, "/bytes")).content == b"raw"
        assert requests.get(url(server, "/status")).status_code == 404


def test_head_gets_headers_only(mode: str) -> None:
    with running(c10k.HttpServer(lambda r: "hello", port=0, mode=mode)) as server:
        response = requests.head(url(server))
        assert response.status_code == 200 and response.content == b""
        assert response.headers["Content-Length"] == "5"


def test_async_handlers_in_asyncio_mode() -> None:
    async def handler(request: c10k.Request) -> tuple[int, dict[str, str], str]:
        return 200, {}, f"async {request.path}"

    with running(c10k.HttpServer(handler, port=0, mode="asyncio")) as server:
        assert requests.get(url(server, "/x")).text == "async /x"

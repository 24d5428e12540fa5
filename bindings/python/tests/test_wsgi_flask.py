"""A real Flask application behind c10k.wsgi, driven by requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask import Flask, Response, jsonify, request, stream_with_context

from c10k.wsgi import WSGIServer
from conftest import running, url


def make_app() -> Flask:
    app = Flask("c10k-test")

    @app.get("/")
    def index() -> str:
        return "index"

    @app.get("/hello/<name>")
    def hello(name: str) -> str:
        return f"hello {name}"

    @app.post("/json")
    def echo_json() -> Response:
        return jsonify(got=request.get_json(), args=request.args.to_dict())

    @app.post("/form")
    def form() -> Response:
        return jsonify(dict(request.form))

    @app.get("/search")
    def search() -> Response:
        return jsonify(q=request.args.get("q"), tags=request.args.getlist("tag"))

    @app.get("/headers")
    def headers() -> Response:
        reply = jsonify(agent=request.headers.get("User-Agent"), custom=request.headers.get("X-Custom"))
        reply.headers["X-From-Flask"] = "yes"
        return reply

    @app.get("/created")
    def created() -> tuple[str, int, dict[str, str]]:
        return "made", 201, {"Location": "/thing/1"}

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("flask handler bug")

    @app.get("/stream")
    def stream() -> Response:
        def parts() -> Iterator[str]:
            for i in range(5):
                yield f"part {i}\n"

        return Response(stream_with_context(parts()), mimetype="text/plain")

    return app


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running(WSGIServer(make_app(), port=0, threads=4)) as server:
        yield url(server, "")


def test_routes(base: str) -> None:
    assert requests.get(base + "/").text == "index"
    assert requests.get(base + "/hello/w%C3%B6rld").text == "hello w\u00f6rld"


def test_json_post(base: str) -> None:
    response = requests.post(base + "/json?x=1", json={"a": [1, 2], "b": "c"})
    assert response.status_code == 200
    assert response.json() == {"got": {"a": [1, 2], "b": "c"}, "args": {"x": "1"}}


def test_form_post(base: str) -> None:
    assert requests.post(base + "/form", data={"name": "Ada", "lang": "en"}).json() == {"name": "Ada", "lang": "en"}


def test_query_strings(base: str) -> None:
    got = requests.get(base + "/search", params=[("q", "a b&c"), ("tag", "x"), ("tag", "y")]).json()
    assert got == {"q": "a b&c", "tags": ["x", "y"]}


def test_headers_both_ways(base: str) -> None:
    response = requests.get(base + "/headers", headers={"User-Agent": "ua/1", "X-Custom": "v"})
    assert response.json() == {"agent": "ua/1", "custom": "v"}
    assert response.headers["X-From-Flask"] == "yes"
    assert response.headers["Content-Type"] == "application/json"


def test_status_and_location(base: str) -> None:
    response = requests.get(base + "/created", allow_redirects=False)
    assert (response.status_code, response.headers["Location"], response.text) == (201, "/thing/1", "made")


def test_404(base: str) -> None:
    assert requests.get(base + "/nowhere").status_code == 404


def test_an_exception_is_a_500_and_serving_goes_on(base: str) -> None:
    assert requests.get(base + "/boom").status_code == 500
    assert requests.get(base + "/").text == "index"


def test_streamed_response(base: str) -> None:
    response = requests.get(base + "/stream")
    assert response.text == "".join(f"part {i}\n" for i in range(5))
    assert response.headers["Transfer-Encoding"] == "chunked"


def test_flask_on_two_loops() -> None:
    with running(WSGIServer(make_app(), port=0, threads=4, loops=2)) as server:
        with requests.Session() as session:
            for name in ("a", "b", "c"):
                assert session.get(url(server, f"/hello/{name}")).text == f"hello {name}"
        assert requests.post(url(server, "/json"), json=[1]).json() == {"got": [1], "args": {}}
        assert requests.get(url(server, "/stream")).text == "".join(f"part {i}\n" for i in range(5))

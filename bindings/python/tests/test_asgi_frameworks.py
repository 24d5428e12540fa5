"""FastAPI and Starlette applications served by ``c10k.asgi``, driven
by ``requests``: routing, JSON bodies, streaming, background tasks,
lifespan events, and a failing route answered 500 while serving goes on."""

from __future__ import annotations

import time

import requests
from asgi_apps import fastapi_app, starlette_app
from conftest import running, url

from c10k.asgi import ASGIServer


def test_fastapi_routes_json_streaming_and_lifespan() -> None:
    events: list[str] = []
    with running(ASGIServer(fastapi_app(events), port=0)) as server:
        assert events == ["startup"]
        with requests.Session() as client:
            r = client.get(url(server, "/"))
            assert (r.status_code, r.json()) == (200, {"greeting": "hello"})
            r = client.get(url(server, "/items/42?q=x%20y"))
            assert r.json() == {"item_id": 42, "q": "x y"}
            assert client.get(url(server, "/items/nope")).status_code == 422
            assert client.get(url(server, "/missing")).status_code == 404
            r = client.post(url(server, "/items"), json={"name": "pen", "price": 1.5, "tags": ["a"]})
            assert r.json() == {"name": "PEN", "total": 3.0, "tags": ["a"]}
            r = client.get(url(server, "/stream?n=100"))
            assert r.headers["transfer-encoding"] == "chunked"
            assert r.text == "".join(f"line {i}\n" for i in range(100))
    assert events == ["startup", "shutdown"]


def test_fastapi_streamed_upload_arrives_in_pieces() -> None:
    body = bytes(range(256)) * 40_000  # 10 MB, more than the library's 1 MiB buffered limit
    with running(ASGIServer(fastapi_app([]), port=0)) as server:
        r = requests.post(url(server, "/upload"), data=iter([body[i : i + 65536] for i in range(0, len(body), 65536)]))
        assert r.status_code == 200
        assert r.json()["bytes"] == len(body)
        assert r.json()["pieces"] > 1


def test_fastapi_background_task_runs_after_the_response() -> None:
    events: list[str] = []
    with running(ASGIServer(fastapi_app(events), port=0)) as server:
        r = requests.get(url(server, "/background?tag=one"))
        assert (r.status_code, r.text) == (200, "scheduled")
        deadline = time.monotonic() + 10
        while "background one" not in events and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "background one" in events


def test_fastapi_exception_is_500_and_serving_goes_on() -> None:
    with running(ASGIServer(fastapi_app([]), port=0)) as server:
        with requests.Session() as client:
            for _ in range(3):
                r = client.get(url(server, "/boom"))
                assert r.status_code == 500
                assert client.get(url(server, "/items/1")).json() == {"item_id": 1, "q": ""}


def test_starlette_lifespan_json_and_root_path() -> None:
    events: list[str] = []
    server = ASGIServer(starlette_app(events), port=0, root_path="/api")
    with running(server):
        assert events == ["startup"]
        r = requests.get(url(server, "/"))
        assert r.json() == {"path": "/api/", "root_path": "/api"}
        r = requests.post(url(server, "/echo"), json={"a": [1, 2]})
        assert r.json() == {"got": {"a": [1, 2]}}
    assert events == ["startup", "shutdown"]

"""A real Django project (settings configured in place) behind c10k.wsgi:
routing, a JSON POST, query strings, headers, redirects, 404 and an
exception turned into 500 while serving goes on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from c10k.wsgi import WSGIServer
from conftest import running, url

django = pytest.importorskip("django")

from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="c10k-test",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        LOGGING_CONFIG=None,
    )
    django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


def hello(request: Any, name: str) -> HttpResponse:
    return HttpResponse(f"hello {name}", content_type="text/plain")


@csrf_exempt
def echo(request: Any) -> JsonResponse:
    return JsonResponse({"got": json.loads(request.body), "q": request.GET.get("q"), "method": request.method})


def info(request: Any) -> JsonResponse:
    reply = JsonResponse({"agent": request.headers.get("User-Agent"), "custom": request.META.get("HTTP_X_CUSTOM")})
    reply["X-From-Django"] = "yes"
    return reply


def moved(request: Any) -> HttpResponseRedirect:
    return HttpResponseRedirect("/hello/there")


def boom(request: Any) -> HttpResponse:
    raise RuntimeError("django view bug")


def stream(request: Any) -> StreamingHttpResponse:
    return StreamingHttpResponse((f"line {i}\n" for i in range(4)), content_type="text/plain")


urlpatterns = [
    path("hello/<str:name>", hello),
    path("echo", echo),
    path("info", info),
    path("moved", moved),
    path("boom", boom),
    path("stream", stream),
]


@pytest.fixture(scope="module", params=[4, 0], ids=["pool", "loop-thread"])
def base(request: Any) -> Iterator[str]:
    with running(WSGIServer(get_wsgi_application(), port=0, threads=request.param)) as server:
        yield url(server, "")


def test_routes(base: str) -> None:
    response = requests.get(f"{base}/hello/world")
    assert response.status_code == 200 and response.text == "hello world"
    assert response.headers["Content-Type"].startswith("text/plain")


def test_json_post_and_query(base: str) -> None:
    response = requests.post(f"{base}/echo?q=c10k", json={"a": [1, 2]})
    assert response.json() == {"got": {"a": [1, 2]}, "q": "c10k", "method": "POST"}


def test_headers_both_ways(base: str) -> None:
    response = requests.get(f"{base}/info", headers={"User-Agent": "tester/1", "X-Custom": "v"})
    assert response.json() == {"agent": "tester/1", "custom": "v"}
    assert response.headers["X-From-Django"] == "yes"


def test_redirect(base: str) -> None:
    response = requests.get(f"{base}/moved", allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"] == "/hello/there"
    assert requests.get(f"{base}/moved").text == "hello there"


def test_404_and_500_then_serving_goes_on(base: str) -> None:
    assert requests.get(f"{base}/nowhere").status_code == 404
    assert requests.get(f"{base}/boom").status_code == 500
    assert requests.get(f"{base}/hello/again").text == "hello again"


def test_streaming_response(base: str) -> None:
    assert requests.get(f"{base}/stream").text == "".join(f"line {i}\n" for i in range(4))

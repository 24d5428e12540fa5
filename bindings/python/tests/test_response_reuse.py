"""One Response object answers many requests; changing its headers
between them takes effect (their C form is kept only while they match)."""

from __future__ import annotations

import requests

import c10k
from conftest import running, url

SHARED = c10k.Response(200, {"X-Version": "1"}, b"shared")


def test_a_shared_response_is_reused_and_follows_its_headers(mode: str) -> None:
    with running(c10k.HttpServer(lambda r: SHARED, port=0, mode=mode)) as server:
        with requests.Session() as session:
            for _ in range(3):
                response = session.get(url(server))
                assert (response.content, response.headers["X-Version"]) == (b"shared", "1")
            SHARED.headers[0] = (b"X-Version", b"2")
            try:
                assert session.get(url(server)).headers["X-Version"] == "2"
            finally:
                SHARED.headers[0] = (b"X-Version", b"1")

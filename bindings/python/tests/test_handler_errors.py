"""A failing handler answers 500, is logged, and the server goes on."""

from __future__ import annotations

import logging

import pytest
import requests

import c10k
from conftest import running, url


def handler(request: c10k.Request) -> object:
    if request.path == "/raise":
        raise ValueError("handler bug")
    if request.path == "/bad-type":
        return 42
    if request.path == "/bad-header":
        return 200, {"X-Bad": "a\r\nInjected: yes"}, "x"
    if request.path == "/bad-status":
        return 7, {}, "x"
    return "fine"


@pytest.mark.parametrize("path", ["/raise", "/bad-type", "/bad-header", "/bad-status"])
def test_errors_answer_500_and_serving_goes_on(mode: str, path: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="c10k"):
        with running(c10k.HttpServer(handler, port=0, mode=mode)) as server:
            with requests.Session() as session:
                response = session.get(url(server, path))
                assert response.status_code == 500
                assert "Injected" not in response.headers
                assert session.get(url(server, "/ok")).text == "fine"
    assert any(record.exc_info for record in caplog.records), "the error was not logged with its traceback"


def test_the_traceback_names_the_handler(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="c10k"):
        with running(c10k.HttpServer(handler, port=0)) as server:
            requests.get(url(server, "/raise"))
    assert "handler bug" in caplog.text and "ValueError" in caplog.text


def test_a_request_read_after_the_inline_call_raises() -> None:
    kept: list[c10k.Request] = []

    def keep(request: c10k.Request) -> str:
        kept.append(request)
        return request.method

    with running(c10k.HttpServer(keep, port=0)) as server:
        assert requests.get(url(server)).text == "GET"
    assert kept[0].method == "GET"
    with pytest.raises(RuntimeError, match="after the handler returned"):
        kept[0].body


def test_invalid_arguments_raise() -> None:
    with pytest.raises(ValueError):
        c10k.HttpServer(lambda r: "", port=70000)
    with pytest.raises(ValueError, match="mode"):
        c10k.HttpServer(lambda r: "", mode="fibers")
    with pytest.raises(TypeError):
        c10k.HttpServer("not callable")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="loops"):
        c10k.HttpServer(lambda r: "", loops=0)
    with pytest.raises(c10k.C10kError) as info:
        c10k.HttpServer(lambda r: "", host="localhost", port=0).start()
    assert info.value.code == c10k.lib.C10K_EINVAL


def test_an_address_in_use_raises_c10kerror() -> None:
    with running(c10k.HttpServer(lambda r: "", port=0)) as first:
        with pytest.raises(c10k.C10kError) as info:
            c10k.HttpServer(lambda r: "", port=first.address[1]).start()
        assert info.value.code == c10k.lib.C10K_EADDRINUSE

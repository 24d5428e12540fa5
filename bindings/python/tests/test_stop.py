"""Servers stop cleanly: from another thread, from a handler, repeatedly."""

from __future__ import annotations

import threading

import requests

import c10k
from conftest import MODES, url


def test_start_stop_many_times_leaves_no_threads() -> None:
    before = threading.active_count()
    for _ in range(3):
        for mode in MODES:
            server = c10k.HttpServer(lambda r: "x", port=0, mode=mode).start()
            assert requests.get(url(server)).text == "x"
            server.stop()
    assert threading.active_count() == before


def test_serve_forever_returns_after_stop_from_another_thread() -> None:
    server = c10k.HttpServer(lambda r: "x", port=0)
    listening = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"ready": lambda s: listening.set()})
    thread.start()
    assert listening.wait(5)
    assert requests.get(url(server)).text == "x"
    server.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_a_handler_may_stop_its_server() -> None:
    server: c10k.HttpServer

    def handler(request: c10k.Request) -> str:
        server.stop()
        return "stopping"

    server = c10k.HttpServer(handler, port=0)
    done = threading.Thread(target=server.serve_forever)
    done.start()
    while server.address is None:
        threading.Event().wait(0.01)
    assert requests.get(url(server)).text == "stopping"
    done.join(5)
    assert not done.is_alive()


def test_the_port_is_free_again_after_stop() -> None:
    server = c10k.HttpServer(lambda r: "x", port=0).start()
    port = server.address[1]
    server.stop()
    again = c10k.HttpServer(lambda r: "again", port=port).start()
    try:
        assert requests.get(url(again)).text == "again"
    finally:
        again.stop()


def test_stop_before_start_is_harmless() -> None:
    server = c10k.HttpServer(lambda r: "x", port=0)
    server.stop()

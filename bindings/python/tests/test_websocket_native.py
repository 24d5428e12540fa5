"""The native WebSocket API (inline handlers returning AcceptWebSocket),
driven by the ``websockets`` client."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from conftest import running, url
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import c10k


def test_echo_broadcast_close_and_plain_http_beside() -> None:
    members: list[c10k.WebSocket] = []
    closed: list[tuple[int, str]] = []
    done = threading.Event()

    def on_message(ws: c10k.WebSocket, data: Any) -> None:
        if data == "room":
            for member in members:
                member.send("to all")
        elif data == "bye":
            ws.close(4000, "done")
        else:
            ws.send(data)

    def on_close(ws: c10k.WebSocket, code: int, reason: str) -> None:
        members.remove(ws)
        closed.append((code, reason))
        done.set()

    def handler(request: c10k.Request) -> Any:
        if request.headers.get("upgrade", "").lower() == "websocket":
            return c10k.AcceptWebSocket(on_message, on_open=members.append, on_close=on_close)
        return "plain"

    with running(c10k.HttpServer(handler, port=0)) as server:
        assert requests.get(url(server)).text == "plain"
        ws_url = url(server).replace("http", "ws")
        with connect(ws_url) as a, connect(ws_url) as b:
            a.send("hello")
            assert a.recv(timeout=10) == "hello"
            a.send(b"\x01\x02" * 100_000)
            assert a.recv(timeout=10) == b"\x01\x02" * 100_000
            b.send("room")
            assert a.recv(timeout=10) == "to all" and b.recv(timeout=10) == "to all"
            a.send("bye")
            with pytest.raises(ConnectionClosed) as info:
                a.recv(timeout=10)
            assert info.value.rcvd.code == 4000
        assert done.wait(10)
        assert (4000, "done") in closed

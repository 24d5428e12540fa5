"""The ASGI ``websocket`` scope, driven by the ``websockets`` and
``wsproto`` clients: echo of text and binary (empty to several MiB),
subprotocols, refusal, close codes both ways, and Starlette/FastAPI
WebSocket routes."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import wsproto
import wsproto.events as ev
from conftest import running
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from c10k.asgi import ASGIServer

closes: list[tuple[int, str]] = []


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    if scope["path"] == "/refuse":
        await send({"type": "websocket.close"})
        return
    chosen = "chat" if "chat" in scope["subprotocols"] else None
    await send({"type": "websocket.accept", "subprotocol": chosen, "headers": [(b"x-server", b"c10k")]})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            closes.append((message["code"], message.get("reason", "")))
            return
        if message.get("text") == "close me":
            await send({"type": "websocket.close", "code": 4001, "reason": "asked"})
            continue
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


def ws_url(server: ASGIServer, path: str = "/") -> str:
    host, port = server.address
    return f"ws://{host}:{port}{path}"


def test_echo_text_and_binary_with_websockets() -> None:
    with running(ASGIServer(echo, port=0, lifespan="off")) as server:
        with connect(ws_url(server), subprotocols=["chat"], max_size=None) as ws:
            assert ws.subprotocol == "chat"
            assert ws.response.headers["x-server"] == "c10k"
            for text in ["", "hello", "é" * 1000]:
                ws.send(text)
                assert ws.recv() == text
            for size in [0, 1, 125, 126, 65536, 3 * 1024 * 1024]:
                data = bytes(i % 251 for i in range(size))
                ws.send(data)
                assert ws.recv() == data
            ws.send(["frag", "mented"])  # one message in two frames
            assert ws.recv() == "fragmented"


def test_close_codes_both_ways() -> None:
    closes.clear()
    with running(ASGIServer(echo, port=0, lifespan="off")) as server:
        with connect(ws_url(server)) as ws:
            ws.send("close me")
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv()
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "asked")
        with connect(ws_url(server)) as ws:
            ws.close(3000, "bye")
        import time
        deadline = time.monotonic() + 10
        while (3000, "bye") not in closes and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (3000, "bye") in closes


def test_refused_handshake_gets_403() -> None:
    with running(ASGIServer(echo, port=0, lifespan="off")) as server:
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(server, "/refuse"))
        assert refused.value.response.status_code == 403


def test_wsproto_client_with_ping_between_fragments() -> None:
    with running(ASGIServer(echo, port=0, lifespan="off")) as server:
        host, port = server.address
        conn = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(conn.send(ev.Request(host=host, target="/")))
            events: list[Any] = []

            def pump() -> None:
                conn.receive_data(sock.recv(65536))
                events.extend(conn.events())

            while not any(isinstance(e, ev.AcceptConnection) for e in events):
                pump()
            sock.sendall(conn.send(ev.TextMessage(data="par", message_finished=False)))
            sock.sendall(conn.send(ev.Ping(payload=b"p")))
            sock.sendall(conn.send(ev.TextMessage(data="ts", message_finished=True)))
            while not any(isinstance(e, ev.TextMessage) for e in events):
                pump()
            assert any(isinstance(e, ev.Pong) and e.payload == b"p" for e in events)
            assert "".join(e.data for e in events if isinstance(e, ev.TextMessage)) == "parts"
            sock.sendall(conn.send(ev.CloseConnection(code=1000)))
            while not any(isinstance(e, ev.CloseConnection) for e in events):
                pump()


def test_fastapi_websocket_route() -> None:
    app = FastAPI()

    @app.websocket("/ws/{room}")
    async def room(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        try:
            while True:
                data = await websocket.receive_json()
                await websocket.send_json({"room": room, "echo": data})
        except WebSocketDisconnect:
            pass

    with running(ASGIServer(app, port=0)) as server:
        with connect(ws_url(server, "/ws/blue")) as ws:
            ws.send('{"n": 1}')
            assert ws.recv() == '{"room":"blue","echo":{"n":1}}'


def test_chat_example_broadcasts_to_every_client() -> None:
    import subprocess
    import sys
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "examples" / "asgi_chat.py"
    proc = subprocess.Popen([sys.executable, str(example), "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split(":")[-1])
        url = f"ws://127.0.0.1:{port}/room"
        with connect(url) as a, connect(url) as b, connect(url) as c:
            a.send("hi all")
            assert [ws.recv(timeout=10) for ws in (a, b, c)] == ["hi all"] * 3
            c.send(b"\x00bin")
            assert [ws.recv(timeout=10) for ws in (a, b, c)] == [b"\x00bin"] * 3
    finally:
        proc.terminate()
        assert proc.wait(30) == 0

"""The ASGI ``http`` and ``lifespan`` scopes as the spec and uvicorn
define them, with raw sockets and http.client as clients."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
from typing import Any

import pytest
from conftest import running

from c10k.asgi import ASGIServer, LifespanFailed


def connect(server: ASGIServer) -> http.client.HTTPConnection:
    host, port = server.address
    return http.client.HTTPConnection(host, port, timeout=10)


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Hello, World!"})


def test_scope_fields() -> None:
    scopes: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scopes.append(scope)
        await hello(scope, receive, send)

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        conn = connect(server)
        conn.request("GET", "/caf%C3%A9/x?a=1&b=%20", headers={"X-Custom": "Value"})
        assert conn.getresponse().read() == b"Hello, World!"
        scope = scopes[0]
        assert scope["asgi"]["version"] == "3.0"
        assert (scope["http_version"], scope["method"], scope["scheme"]) == ("1.1", "GET", "http")
        assert scope["path"] == "/café/x"
        assert scope["raw_path"] == b"/caf%C3%A9/x"
        assert scope["query_string"] == b"a=1&b=%20"
        assert scope["root_path"] == ""
        assert (b"x-custom", b"Value") in scope["headers"]
        assert all(name == name.lower() and isinstance(value, bytes) for name, value in scope["headers"])
        assert scope["server"] == server.address
        assert scope["client"] == conn.sock.getsockname()[:2]


def test_body_in_pieces_and_more_body() -> None:
    messages: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            messages.append(message)
            if not message.get("more_body"):
                break
        total = sum(len(m["body"]) for m in messages)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(total).encode()})

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        host, port = server.address
        with socket.create_connection((host, port)) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            # The second piece comes later: the app sees more_body meanwhile.
            deadline = 100
            while not messages and deadline:
                threading.Event().wait(0.05)
                deadline -= 1
            sock.sendall(b"6\r\n world\r\n0\r\n\r\n")
            reply = sock.recv(4096)
        assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"11")
        assert messages[0] == {"type": "http.request", "body": b"hello", "more_body": True}
        assert messages[-1]["more_body"] is False
        assert b"".join(m["body"] for m in messages) == b"hello world"


def test_request_without_body_gets_one_empty_message() -> None:
    got: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        got.append(await receive())
        await hello(scope, receive, send)
        got.append(await receive())

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        conn = connect(server)
        conn.request("GET", "/")
        conn.getresponse().read()
    assert got == [{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}]


def test_client_leaving_gives_http_disconnect() -> None:
    disconnected = threading.Event()
    started = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "http.request"
        started.set()
        if (await receive())["type"] == "http.disconnect":
            disconnected.set()

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        with socket.create_connection(server.address) as sock:
            sock.sendall(b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
            assert started.wait(10)
        assert disconnected.wait(10)


def test_streaming_response_and_chunked_framing() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-stream", b"yes")]})
        for i in range(50):
            await send({"type": "http.response.body", "body": b"%d," % i, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        conn = connect(server)
        for _ in range(2):  # the connection stays usable
            conn.request("GET", "/")
            response = conn.getresponse()
            assert (response.status, response.getheader("x-stream")) == (201, "yes")
            assert response.getheader("transfer-encoding") == "chunked"
            assert response.read() == b"".join(b"%d," % i for i in range(50))


def test_declared_content_length_and_head() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
        if scope["method"] != "HEAD":
            await send({"type": "http.response.body", "body": b"01234", "more_body": True})
            await send({"type": "http.response.body", "body": b"56789"})
        else:
            await send({"type": "http.response.body", "body": b""})

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        conn = connect(server)
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.getheader("content-length") == "10" and response.read() == b"0123456789"
        conn.request("HEAD", "/")
        response = conn.getresponse()
        assert response.getheader("content-length") == "10" and response.read() == b""
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"0123456789"


def test_failures_answer_500_or_cut_and_serving_goes_on() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        if path == "/raise":
            raise ValueError("boom")
        if path == "/nothing":
            return
        if path == "/half":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"partial", "more_body": True})
            raise ValueError("boom after the head")
        await hello(scope, receive, send)

    with running(ASGIServer(app, port=0, lifespan="off")) as server:
        conn = connect(server)
        for path in ("/raise", "/nothing"):
            conn.request("GET", path)
            response = conn.getresponse()
            assert response.status == 500
            response.read()
        conn.request("GET", "/half")
        # Cut (RST): the client sees an error, never a complete response.
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            conn.getresponse().read()
        conn = connect(server)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"Hello, World!"


def test_lifespan_state_reaches_requests_and_shutdown_runs() -> None:
    events: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    scope["state"]["db"] = "ready"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["state"]["db"].encode()})

    with running(ASGIServer(app, port=0)) as server:
        conn = connect(server)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"ready"
    assert events == ["lifespan.startup", "lifespan.shutdown"]


def test_lifespan_startup_failure_stops_the_server_from_starting() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    server = ASGIServer(app, port=0)
    with pytest.raises(LifespanFailed, match="no database"):
        server.start()


def test_lifespan_unsupported_is_skipped_in_auto_and_fatal_when_on() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http here")
        await hello(scope, receive, send)

    with running(ASGIServer(app, port=0)) as server:
        conn = connect(server)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"Hello, World!"
    with pytest.raises(LifespanFailed):
        ASGIServer(app, port=0, lifespan="on").start()


def test_requests_in_flight_finish_on_stop() -> None:
    started = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        started.set()
        await asyncio.sleep(0.3)
        await hello(scope, receive, send)

    server = ASGIServer(app, port=0, lifespan="off").start()
    conn = connect(server)
    conn.request("GET", "/slow")
    assert started.wait(10)
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    assert conn.getresponse().read() == b"Hello, World!"
    stopper.join()

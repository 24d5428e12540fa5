"""Applications the command line tests serve: one per interface, each
answering ``/`` with its interface and process id, ``/slow`` after a
pause, ``POST /echo`` with the body."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/slow":
        await asyncio.sleep(0.5)
    answer = body if scope["path"] == "/echo" else f"asgi {os.getpid()}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": answer})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/slow":
        time.sleep(0.5)
    if environ["PATH_INFO"] == "/echo":
        answer = environ["wsgi.input"].read()
    else:
        answer = f"wsgi {os.getpid()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [answer]


def c10k_handler(request: Any) -> tuple[int, dict[str, str], bytes]:
    if request.path == "/slow":
        time.sleep(0.5)
    answer = request.body if request.path == "/echo" else f"c10k {os.getpid()}".encode()
    return 200, {"Content-Type": "text/plain"}, answer

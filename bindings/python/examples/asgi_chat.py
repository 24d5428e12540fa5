"""A chat room in ASGI, the same as examples-c/chat.c: every message a
client sends on a WebSocket (any path) goes to every connected client;
``GET /`` over plain HTTP answers ``Hello, World!``.

Usage: python asgi_chat.py [ADDR]   (default 127.0.0.1:8080)
Prints ``listening on ADDR`` when ready; SIGINT or SIGTERM stops it.
Also: ``python -m c10k asgi_chat:app`` from this directory.
"""

import sys
from typing import Any

from c10k.asgi import ASGIServer

room: set[Any] = set()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"Hello, World!"})
    else:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        room.add(send)
        try:
            while (message := await receive())["type"] == "websocket.receive":
                for member in list(room):
                    try:
                        await member({**message, "type": "websocket.send"})
                    except OSError:
                        room.discard(member)  # that client left
        finally:
            room.discard(send)


def main() -> None:
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8080").rpartition(":")
    server = ASGIServer(app, host.strip("[]"), int(port))
    server.serve_forever(lambda s: print(f"listening on {s.address[0]}:{s.address[1]}", flush=True))


if __name__ == "__main__":
    main()

"""The ASGI hello every ASGI server of the python_asgi scenario serves
(c10k, uvicorn, granian): GET / -> 200 "Hello, World!" (text/plain),
anything else 404. A raw ASGI 3.0 app: no framework cost."""

HELLO_START = {"type": "http.response.start", "status": 200,
               "headers": [(b"content-type", b"text/plain")]}
HELLO_BODY = {"type": "http.response.body", "body": b"Hello, World!"}
NOT_FOUND_START = {"type": "http.response.start", "status": 404,
                   "headers": [(b"content-type", b"text/plain")]}
NOT_FOUND_BODY = {"type": "http.response.body", "body": b"Not Found\n"}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path, method = scope["path"], scope["method"]
    if path == "/" and method in ("GET", "HEAD"):
        await send(HELLO_START)
        await send(HELLO_BODY)
    else:
        await send(NOT_FOUND_START)
        await send(NOT_FOUND_BODY)

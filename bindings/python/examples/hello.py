"""Hello server, the same as examples-c/hello_http.c.

``GET /`` answers 200 ``Hello, World!`` (text/plain), ``POST /echo`` answers
200 with the request body, any other path 404.

Usage: python hello.py [ADDR]   (default 127.0.0.1:8080)
Prints ``listening on ADDR`` when ready; SIGINT or SIGTERM stops it.
"""

import sys

import c10k

HELLO = c10k.Response(200, {"Content-Type": "text/plain"}, b"Hello, World!")
NOT_FOUND = c10k.Response(404, {"Content-Type": "text/plain"}, b"Not Found\n")


def handler(request: c10k.Request) -> c10k.Response:
    """Answers on the loop thread (inline mode): nothing here blocks."""
    path, method = request.raw_path, request.method
    if path == b"/" and method in ("GET", "HEAD"):
        return HELLO
    if path == b"/echo" and method == "POST":
        return c10k.Response(200, {"Content-Type": "application/octet-stream"}, request.body)
    return NOT_FOUND


def main() -> None:
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8080").rpartition(":")
    server = c10k.HttpServer(handler, host.strip("[]"), int(port), mode="inline")
    server.serve_forever(ready=lambda s: print("listening on %s:%d" % s.address, flush=True))


if __name__ == "__main__":
    main()

"""The WSGI hello every WSGI server of the `python` scenario serves
(c10k.wsgi, bjoern, granian): GET / -> 200 "Hello, World!" (text/plain).

As a script, serves it with bjoern: wsgi_hello.py HOST:PORT"""
import sys

HELLO = [b"Hello, World!"]
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", "13")]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return HELLO


if __name__ == "__main__":
    import bjoern

    host, _, port = sys.argv[1].rpartition(":")
    bjoern.run(app, host, int(port))

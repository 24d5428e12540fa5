"""The small Flask application of the WSGI benchmark, and its c10k server.

``app`` answers ``GET /`` with ``Hello, World!`` (text/plain) and
``GET /json`` with a small JSON object. Served by c10k::

    python bench/flask_hello.py [ADDR] [THREADS]     (default 127.0.0.1:8000, 8)

and by gunicorn, for comparison::

    gunicorn -w 1 --threads 8 -b ADDR --chdir bench flask_hello:app
"""

from __future__ import annotations

import sys
from typing import Any

from flask import Flask, Response, jsonify

app = Flask("flask_hello")


@app.get("/")
def hello() -> Response:
    return Response("Hello, World!", mimetype="text/plain")


@app.get("/json")
def json() -> Response:
    return jsonify(message="Hello, World!", items=[1, 2, 3])


def announce(server: Any) -> None:
    """Prints the bound address, as the examples do."""
    print("listening on %s:%d" % server.address, flush=True)


def main() -> None:
    # Imported here so that gunicorn, loading ``app``, needs no c10k.
    from c10k import wsgi

    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8000").rpartition(":")
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    wsgi.serve(app, host.strip("[]"), int(port), threads=threads, ready=announce)


if __name__ == "__main__":
    main()

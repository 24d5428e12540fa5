"""Peer for the `python` scenario: socketify (uWebSockets) answering
GET / with 200 "Hello, World!" (text/plain), one process.

usage: socketify_hello.py HOST:PORT"""
import sys

from socketify import App, AppListenOptions


def hello(res, req):
    res.write_header("Content-Type", "text/plain")
    res.end("Hello, World!")


if __name__ == "__main__":
    host, _, port = sys.argv[1].rpartition(":")
    app = App()
    app.get("/", hello)
    app.listen(AppListenOptions(port=int(port), host=host), lambda config: print("listening", flush=True))
    app.run()

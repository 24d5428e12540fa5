#!/usr/bin/env python3
"""Peer for the hosts scenario: asyncio on uvloop with httptools, one process
and one loop thread, behaving like the c10k hello examples:
GET / -> 200 "Hello, World!" (text/plain), POST /echo -> the body, else 404.

usage: uvloop_hello.py [HOST:PORT]"""
import asyncio
import sys

import httptools
import uvloop


def response(status, body, ctype=b"text/plain"):
    reason = {200: b"OK", 404: b"Not Found"}[status]
    return (b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (status, reason, ctype, len(body)) + body)


HELLO = response(200, b"Hello, World!")
NOT_FOUND = response(404, b"Not Found")


class HttpProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)
        self.url, self.body = b"", []

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    # httptools callbacks
    def on_message_begin(self):
        self.url, self.body = b"", []

    def on_url(self, url):
        self.url += url

    def on_body(self, body):
        self.body.append(body)

    def on_message_complete(self):
        method = self.parser.get_method()
        if method == b"GET" and self.url == b"/":
            out = HELLO
        elif method == b"POST" and self.url == b"/echo":
            out = response(200, b"".join(self.body), b"application/octet-stream")
        else:
            out = NOT_FOUND
        self.transport.write(out)
        if not self.parser.should_keep_alive():
            self.transport.close()


def main():
    host, _, port = (sys.argv[1] if len(sys.argv) > 1
                     else "127.0.0.1:8080").rpartition(":")
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(HttpProtocol, host, int(port), backlog=4096))
    print(f"listening on {host}:{port}", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()

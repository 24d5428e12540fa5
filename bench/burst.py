#!/usr/bin/env python3
"""Open COUNT connections to HOST:PORT, then send one GET on each at once and
wait for every reply. Prints JSON: wall time from the first send to the last
reply, replies that were 200 and complete, errors.

usage: burst.py HOST:PORT COUNT [--path /] [--timeout S]"""
import argparse
import json
import selectors
import time

from benchlib.clients import open_connections, prepare


def reply_complete(buf):
    """True/False once a whole response is in buf, None while incomplete."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if len(body) < length:
        return None
    return head.startswith(b"HTTP/1.1 200")


def send_all(socks, request):
    errors = 0
    for s in socks:
        try:
            s.send(request)  # a few dozen bytes: always fits the send buffer
        except OSError:
            errors += 1
    return errors


def collect(socks, deadline):
    """Read until every socket has a full reply; returns (ok, errors)."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    ok = errors = 0
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            bufs[s] += chunk
            state = reply_complete(bufs[s])
            if state is None and chunk:
                continue
            ok += state is True
            errors += state is not True
            sel.unregister(s)
            s.close()
    errors += len(sel.get_map())
    return ok, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("count", type=int)
    ap.add_argument("--path", default="/")
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    host, port = prepare(a.target, a.count)
    t0 = time.monotonic()
    socks, conn_errors = open_connections(host, port, a.count,
                                          t0 + a.timeout)
    request = f"GET {a.path} HTTP/1.1\r\nHost: {a.target}\r\n\r\n".encode()
    t1 = time.monotonic()
    send_errors = send_all(socks, request)
    ok, read_errors = collect(socks, t1 + a.timeout)
    t2 = time.monotonic()
    print(json.dumps({"count": a.count, "ok": ok,
                      "errors": conn_errors + send_errors + read_errors,
                      "connect_s": round(t1 - t0, 3),
                      "wall_s": round(t2 - t1, 3)}))


if __name__ == "__main__":
    main()

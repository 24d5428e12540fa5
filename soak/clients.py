#!/usr/bin/env python3
"""Soak load wrk cannot make: slow clients and connection churn.

Usage: clients.py slow|churn HOST PORT SECONDS
Prints one line at the end: `MODE requests=N errors=N`.
- slow: keeps 50 connections that send a request head one byte every
  300 ms (the server's header timeout ends most of them with 408; the
  rest finish their head and are answered), reconnecting as they end.
- churn: new connections in a loop: connect and close at once, reset
  (SO_LINGER 0) after half a request, or one request with Connection:
  close whose answer must be 200.
"""
import random
import select
import socket
import struct
import sys
import time

mode, host, port, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
end = time.monotonic() + seconds
requests = errors = 0
HEAD = b"GET / HTTP/1.1\r\nHost: soak\r\nUser-Agent: slow-soak-client\r\n\r\n"


def connect():
    s = socket.create_connection((host, port), timeout=10)
    return s


def slow():
    global requests, errors
    conns = {}
    while time.monotonic() < end:
        while len(conns) < 50:
            try:
                s = connect()
                s.setblocking(False)
                # Most heads take longer than the 10 s header timeout (63 bytes at
                # 1 byte/300 ms); a third are short enough (27 bytes) to be answered.
                head = HEAD if random.random() < 0.67 else b"GET / HTTP/1.1\r\nHost: s\r\n\r\n"
                conns[s] = [head, 0, b""]
            except OSError:
                errors += 1
                time.sleep(0.1)
        readable, _, _ = select.select(list(conns), [], [], 0.3)
        for s in readable:
            st = conns[s]
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            st[2] += data
            if not data or (b"\r\n\r\n" in st[2] and st[1] >= len(st[0])):
                status = st[2][9:12]
                if status in (b"408", b"200"):
                    requests += 1
                else:
                    errors += 1
                s.close()
                del conns[s]
        for s, st in list(conns.items()):
            if st[1] < len(st[0]):
                try:
                    s.send(st[0][st[1]:st[1] + 1])
                    st[1] += 1
                except OSError:
                    pass
    for s in conns:
        s.close()


def churn():
    global requests, errors
    i = 0
    while time.monotonic() < end:
        i += 1
        try:
            s = connect()
            kind = i % 3
            if kind == 0:
                s.close()
            elif kind == 1:
                s.send(b"GET / HTTP/1.1\r\nHo")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            else:
                s.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                s.close()
                if data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"Hello, World!"):
                    requests += 1
                else:
                    errors += 1
        except OSError:
            errors += 1
        if i % 50 == 0:
            time.sleep(0.01)


{"slow": slow, "churn": churn}[mode]()
print(f"{mode} requests={requests} errors={errors}")

#!/usr/bin/env python3
"""WebSocket load for bench/run's ws_echo and ws_broadcast scenarios.

usage: ws_load.py echo HOST:PORT [--conns N] [--seconds S] [--size B]
       ws_load.py broadcast HOST:PORT [--conns N] [--seconds S] [--rate R]
                  [--size B] [--procs P] [--workdir DIR]

Both connect first, print one JSON line {"ready": ...}, wait for a line on
stdin (so that the caller can read the server's CPU time after the
connections are made), run, and print one JSON line of results.

echo: every connection sends a SIZE-byte binary message and waits for its
echo before sending the next; counts round trips. broadcast: CONNS clients
(in P processes, from source addresses 127.0.0.2 and up) and one publisher
that sends RATE messages a second, each carrying its sequence number and
send time; every client checks it gets every message in order and records
each delivery's latency. Standard library only."""
import argparse
import array
import json
import os
import selectors
import socket
import struct
import sys
import time

REQUEST = ("GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
KEY = b"\x11\x22\x33\x44"


def masked(payload, opcode=2):
    n = len(payload)
    assert n < 126
    return bytes([0x80 | opcode, 0x80 | n]) + KEY + bytes(b ^ KEY[i % 4] for i, b in enumerate(payload))


def handshake(addr, source=None):
    host, port = addr.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if source:
        s.bind((source, 0))
    s.settimeout(60)
    s.connect((host, int(port)))
    s.sendall(REQUEST.format(addr=addr).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(head[:60].decode(errors="replace"))
    rest = head.split(b"\r\n\r\n", 1)[1]
    s.setblocking(False)
    return s, rest


def connect_many(addr, count, first_ip):
    socks = []
    for i in range(count):
        # Spread over ten source addresses: ephemeral ports stay plentiful.
        s, _ = handshake(addr, f"127.0.0.{first_ip + i % 10}")
        socks.append(s)
    return socks


def ready_then_wait(info):
    print(json.dumps({"ready": info}), flush=True)
    sys.stdin.readline()


def echo(args):
    socks = [handshake(args.addr)[0] for _ in range(args.conns)]
    ready_then_wait(len(socks))
    frame = masked(b"x" * args.size)
    reply = 2 + args.size
    sel = selectors.DefaultSelector()
    pending = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        pending[s] = 0
        s.send(frame)
    done, start = 0, time.monotonic()
    end = start + args.seconds
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            got = pending[s] + len(s.recv(65536))
            n, pending[s] = divmod(got, reply)
            done += n
            if n:
                s.send(frame * n)
    elapsed = time.monotonic() - start
    print(json.dumps({"messages": done, "seconds": elapsed, "msgs_per_s": done / elapsed}), flush=True)


def receive(addr, count, first_ip, expect, deadline_after, out_path, go_pipe, ready_pipe):
    """A broadcast receiver process: its share of the clients."""
    socks = connect_many(addr, count, first_ip)
    os.write(ready_pipe, b"r")
    os.read(go_pipe, 1)
    deadline = time.monotonic() + deadline_after
    sel = selectors.DefaultSelector()
    bufs, nxt = {}, {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        bufs[s], nxt[s] = bytearray(), 0
    lat = array.array("q")
    disorder = finished = 0
    while finished < len(socks) and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            data = s.recv(65536)
            now = time.monotonic_ns()
            if not data:
                sel.unregister(s)
                finished += 1
                continue
            buf = bufs[s]
            buf += data
            while len(buf) >= 2 and len(buf) >= 2 + (buf[1] & 0x7F):
                n = buf[1] & 0x7F
                seq, sent = struct.unpack_from("!QQ", buf, 2)
                del buf[:2 + n]
                lat.append(now - sent)
                if seq != nxt[s]:
                    disorder += 1
                nxt[s] = seq + 1
                if nxt[s] == expect:
                    sel.unregister(s)
                    finished += 1
    with open(out_path, "wb") as f:
        lat.tofile(f)
    got = sum(min(v, expect) for v in nxt.values())
    return {"delivered": len(lat), "lost": count * expect - got, "out_of_order": disorder}


def broadcast(args):
    share = [args.conns // args.procs + (k < args.conns % args.procs) for k in range(args.procs)]
    expect = args.rate * args.seconds
    children = []
    for k, count in enumerate(share):
        go_r, go_w = os.pipe()
        ready_r, ready_w = os.pipe()
        res_r, res_w = os.pipe()
        out = os.path.join(args.workdir, f"latency-{k}.bin")
        pid = os.fork()
        if pid == 0:
            try:
                res = receive(args.addr, count, 2 + 10 * k, expect, args.seconds + 20, out, go_r, ready_w)
                os.write(res_w, json.dumps(res).encode())
            finally:
                os._exit(0)
        for end in (go_r, ready_w, res_w):  # the child's ends: EOF when it exits
            os.close(end)
        children.append((pid, go_w, ready_r, res_r, out))
    for _, _, ready_r, _, _ in children:
        if os.read(ready_r, 1) != b"r":
            sys.exit("a receiver failed to connect")
    publisher, _ = handshake(args.addr, "127.0.0.1")
    ready_then_wait(args.conns)
    for _, go_w, _, _, _ in children:
        os.write(go_w, b"g")
    pad = b"p" * max(0, args.size - 16)
    start = time.monotonic()
    for seq in range(expect):
        # Paced from the start: a late send does not push the others back.
        wait = start + seq / args.rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        publisher.setblocking(True)
        publisher.sendall(masked(struct.pack("!QQ", seq, time.monotonic_ns()) + pad))
        publisher.setblocking(False)
        try:  # the publisher gets the broadcasts too: drop them
            while publisher.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
    results = []
    for pid, _, _, res_r, out in children:
        data = b""
        while chunk := os.read(res_r, 65536):
            data += chunk
        os.waitpid(pid, 0)
        results.append(json.loads(data))
    elapsed = time.monotonic() - start
    lat = array.array("q")
    for _, _, _, _, out in children:
        with open(out, "rb") as f:
            lat.frombytes(f.read())
    lat = sorted(lat)
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1e6 if lat else None
    delivered = sum(r["delivered"] for r in results)
    print(json.dumps({
        "deliveries": delivered, "deliveries_per_s": delivered / elapsed,
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": lat[-1] / 1e6 if lat else None,
        "lost": sum(r["lost"] for r in results), "out_of_order": sum(r["out_of_order"] for r in results),
        "messages": expect, "clients": args.conns}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["echo", "broadcast"])
    p.add_argument("addr")
    p.add_argument("--conns", type=int, default=100)
    p.add_argument("--seconds", type=int, default=5)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--rate", type=int, default=10)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--workdir", default="/tmp")
    args = p.parse_args()
    echo(args) if args.mode == "echo" else broadcast(args)


if __name__ == "__main__":
    main()

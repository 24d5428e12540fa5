#!/usr/bin/env python3
"""Open COUNT idle connections to HOST:PORT from several 127.0.0.x source
addresses, print a JSON line, hold them until stdin closes (or --hold
seconds), then close them all.

usage: idle_clients.py HOST:PORT COUNT [--timeout S] [--hold S]"""
import argparse
import json
import select
import sys
import time

from benchlib.clients import open_connections, prepare, source_addrs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("count", type=int)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--hold", type=float, default=120)
    a = ap.parse_args()
    host, port = prepare(a.target, a.count)
    t0 = time.monotonic()
    socks, errors = open_connections(host, port, a.count, t0 + a.timeout)
    print(json.dumps({"open": len(socks), "errors": errors,
                      "sources": len(source_addrs(a.count)),
                      "seconds": round(time.monotonic() - t0, 3)}), flush=True)
    select.select([sys.stdin], [], [], a.hold)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()

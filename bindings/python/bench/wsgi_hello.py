"""The WSGI hello of bench/peers/wsgi_hello.py served by c10k.wsgi on the
loop thread (threads=0, as bjoern serves it).

usage: wsgi_hello.py HOST:PORT [THREADS]"""
import sys
from pathlib import Path

from c10k import wsgi

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench" / "peers"))
from wsgi_hello import app  # noqa: E402

if __name__ == "__main__":
    host, _, port = sys.argv[1].rpartition(":")
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    wsgi.serve(app, host, int(port), threads=threads)

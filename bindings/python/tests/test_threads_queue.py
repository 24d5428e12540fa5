"""A full worker queue answers 503 at once; the queued requests complete."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import c10k
from conftest import running, url


def test_a_full_queue_answers_503() -> None:
    release = threading.Event()
    entered = threading.Event()

    def handler(request: c10k.Request) -> str:
        entered.set()
        release.wait(10)
        return "done"

    server = c10k.HttpServer(handler, port=0, mode="threads", threads=1, queue_size=2)
    with running(server), ThreadPoolExecutor(4) as pool:
        busy = pool.submit(requests.get, url(server), timeout=10)
        assert entered.wait(5)
        queued = [pool.submit(requests.get, url(server), timeout=10) for _ in range(2)]
        time.sleep(0.3)
        rejected = requests.get(url(server), timeout=5)
        assert rejected.status_code == 503 and rejected.headers["Retry-After"] == "1"
        release.set()
        assert [f.result().text for f in [busy, *queued]] == ["done"] * 3

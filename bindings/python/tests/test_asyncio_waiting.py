"""2,000 requests awaiting at once in asyncio mode cost no threads."""

from __future__ import annotations

import asyncio
import threading
import time

import c10k
from clients import get_many
from conftest import running


def test_two_thousand_requests_sleep_at_once() -> None:
    lock = threading.Lock()
    in_flight = peak = 0

    async def handler(request: c10k.Request) -> str:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        await asyncio.sleep(0.1)
        with lock:
            in_flight -= 1
        return "slept"

    threads_before = threading.active_count()
    with running(c10k.HttpServer(handler, port=0, mode="asyncio")) as server:
        started = time.monotonic()
        results = asyncio.run(get_many(*server.address, 2000))
        elapsed = time.monotonic() - started
        assert threading.active_count() <= threads_before + 2  # the loop and asyncio threads
    assert all(result == (200, b"slept") for result in results)
    # Serially this is 200 s; at once it is the sleep plus the connecting.
    assert elapsed < 20, elapsed
    # Connecting 2,000 clients takes longer than one sleep on a loaded
    # machine, so not all overlap; far more than a thread pool's worth must.
    assert peak >= 100, peak

"""loops=2: 1,000 concurrent clients in every mode, answered on several
threads at once, and the server's counters add up."""

from __future__ import annotations

import asyncio
import threading

import c10k
from clients import get
from conftest import running

CLIENTS = 1000


async def get_numbered(host: str, port: int) -> list[tuple[int, bytes]]:
    return await asyncio.gather(*(get(host, port, f"/n{i}?q={i}") for i in range(CLIENTS)))


def test_two_loops_serve_a_thousand_clients(mode: str) -> None:
    threads: set[int] = set()

    def handler(request: c10k.Request) -> str:
        threads.add(threading.get_ident())
        # Every view, so per-thread scratch buffers shared by mistake would show.
        return f"{request.method} {request.path} {request.query} {request.headers['host']} {len(request.body)}"

    with running(c10k.HttpServer(handler, port=0, mode=mode, loops=2, threads=4)) as server:
        host, port = server.address
        results = asyncio.run(get_numbered(host, port))
        stats = server.stats()
    assert results == [(200, f"GET /n{i} q={i} {host} 0".encode()) for i in range(CLIENTS)]
    assert stats.requests == stats.responses_2xx == stats.accepted == CLIENTS
    assert len(stats.per_loop) == 2 and all(loop.accepted > 0 for loop in stats.per_loop)
    assert sum(loop.requests for loop in stats.per_loop) == CLIENTS
    if mode != "asyncio":
        assert len(threads) > 1, "handlers ran on one thread only"
    final = server.stats()
    assert final.requests == CLIENTS and final.open_connections == 0


def test_stats_of_one_loop() -> None:
    with running(c10k.HttpServer(lambda r: "x", port=0)) as server:
        asyncio.run(get(*server.address))
        stats = server.stats()
    assert (stats.requests, stats.responses_2xx, len(stats.per_loop)) == (1, 1, 1)
    assert stats.bytes_in > 0 and stats.bytes_out > 0


def test_stats_fields_follow_the_header() -> None:
    names = [name for name, _ in c10k.ffi.typeof("c10k_stats").fields if name != "size"]
    assert [name for name in c10k.Stats.__dataclass_fields__ if name != "per_loop"] == names

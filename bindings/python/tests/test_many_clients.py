"""1,000 clients at once, each on its own connection, in every mode."""

from __future__ import annotations

import asyncio

import c10k
from clients import get_many
from conftest import running


def test_a_thousand_concurrent_clients(mode: str) -> None:
    with running(c10k.HttpServer(lambda r: f"hi {r.path}", port=0, mode=mode, threads=4)) as server:
        results = asyncio.run(get_many(*server.address, 1000, "/many"))
    assert len(results) == 1000
    assert all(result == (200, b"hi /many") for result in results)

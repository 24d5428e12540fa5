"""TcpServer on two loops: many echo clients at once, counters that add up."""

from __future__ import annotations

import asyncio

import pytest

import c10k
from conftest import running

CLIENTS = 500


class Echo(c10k.Protocol):
    def connection_made(self, transport: c10k.Transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def echo_once(host: str, port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(payload)
        writer.write_eof()
        return await reader.read()
    finally:
        writer.close()


async def echo_many(host: str, port: int) -> list[bytes]:
    return await asyncio.gather(*(echo_once(host, port, b"client %d" % i) for i in range(CLIENTS)))


def test_two_loops_echo_for_many_clients() -> None:
    with running(c10k.TcpServer(Echo, port=0, loops=2)) as server:
        echoed = asyncio.run(echo_many(*server.address))
        with pytest.raises(RuntimeError, match="loops=1"):
            server.call_soon_threadsafe(print)
    assert echoed == [b"client %d" % i for i in range(CLIENTS)]
    stats = server.stats()
    sent = sum(len(b"client %d" % i) for i in range(CLIENTS))
    assert stats.accepted == stats.closed == CLIENTS
    assert stats.bytes_in == stats.bytes_out == sent
    assert all(loop.accepted > 0 for loop in stats.per_loop)
    assert server.connection_count == 0

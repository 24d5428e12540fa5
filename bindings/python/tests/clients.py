"""A minimal asyncio HTTP/1.1 client for many connections at once."""

from __future__ import annotations

import asyncio


async def get(host: str, port: int, path: str = "/") -> tuple[int, bytes]:
    """One GET on a new connection: returns (status, body)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, await reader.readexactly(length)
    finally:
        writer.close()


async def get_many(host: str, port: int, count: int, path: str = "/") -> list[tuple[int, bytes]]:
    """``count`` GETs, each on its own connection, all at once."""
    return await asyncio.gather(*(get(host, port, path) for _ in range(count)))

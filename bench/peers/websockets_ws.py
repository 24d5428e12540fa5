"""The `websockets` on uvloop peer of the WebSocket benchmarks.

usage: websockets_ws.py echo|chat HOST:PORT

echo: every message goes back to its sender. chat: every message goes to
every connected client with websockets.broadcast (one frame, serialised
once), the sender included. No compression, as on the c10k side."""
import asyncio
import sys

import uvloop
import websockets
from websockets.asyncio.server import broadcast, serve

mode, addr = sys.argv[1], sys.argv[2]
host, port = addr.rsplit(":", 1)
room = set()


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def chat(ws):
    room.add(ws)
    try:
        async for message in ws:
            broadcast(room, message)
    finally:
        room.discard(ws)


async def main():
    handler = chat if mode == "chat" else echo
    async with serve(handler, host, int(port), compression=None, max_size=16 << 20,
                     ping_interval=None, backlog=4096):
        print(f"listening on {addr}", flush=True)
        await asyncio.get_running_loop().create_future()


uvloop.run(main())

"""WebSocket clients for the Lisp suite, with Python's `websockets`:
    ws_client.py echo PORT PATH     text, binary, empty and 1 MiB messages
                                    echoed, a ping answered, then a close
                                    with 4000 "bye"; prints "echo ok"
    ws_client.py server-close PORT  sends "close me"; expects the server's
                                    close 4001 "server bye"; prints its code
    ws_client.py pushes PORT N      sends "push N", expects N messages that
                                    another thread of the server sent, in order
    ws_client.py broadcast PORT N   N clients; each gets every client's
                                    message once; prints "broadcast ok"
Exits non-zero on any mismatch."""

import asyncio
import sys

import websockets


def url(port, path="/"):
    return f"ws://127.0.0.1:{port}{path}"


async def echo(port, path):
    async with websockets.connect(url(port, path), max_size=None) as ws:
        for message in ["hello", "héllo wörld", "", b"\x00\x01\xff", b"x" * (1 << 20)]:
            await ws.send(message)
            answer = await asyncio.wait_for(ws.recv(), 30)
            assert answer == message, (type(answer), len(answer), type(message), len(message))
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 30)
        await ws.close(4000, "bye")
    print("echo ok")


async def server_close(port):
    async with websockets.connect(url(port)) as ws:
        await ws.send("close me")
        try:
            await asyncio.wait_for(ws.recv(), 30)
        except websockets.ConnectionClosed as e:
            print(f"closed {e.rcvd.code} {e.rcvd.reason}")
            return
    print("not closed")


async def pushes(port, n):
    async with websockets.connect(url(port)) as ws:
        await ws.send(f"push {n}")
        got = [await asyncio.wait_for(ws.recv(), 30) for _ in range(n)]
        assert got == [f"push {i}" for i in range(n)], got[:5]
    print("pushes ok")


async def broadcast(port, n):
    clients = [await websockets.connect(url(port)) for _ in range(n)]
    for i, ws in enumerate(clients):
        await ws.send(f"from {i}")
    for ws in clients:
        got = sorted([await asyncio.wait_for(ws.recv(), 30) for _ in range(n)])
        assert got == sorted(f"from {i}" for i in range(n)), got
    for ws in clients:
        await ws.close()
    print("broadcast ok")


mode, port = sys.argv[1], int(sys.argv[2])
if mode == "echo":
    asyncio.run(echo(port, sys.argv[3] if len(sys.argv) > 3 else "/"))
elif mode == "server-close":
    asyncio.run(server_close(port))
elif mode == "pushes":
    asyncio.run(pushes(port, int(sys.argv[3])))
elif mode == "broadcast":
    asyncio.run(broadcast(port, int(sys.argv[3])))

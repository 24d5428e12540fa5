"""chat: every message a client sends reaches every connected client, the
sender included, in order; with `websockets` clients, and with 10,000 raw
clients spread over source addresses 127.0.0.2-127.0.0.11."""

import asyncio
import resource
import selectors
import socket
import struct
import time
import unittest

import websockets

from wsclient import HANDSHAKE, Example, frame, raise_fd_limit


class SmallRoom(unittest.TestCase):
    def test_messages_reach_everyone_in_order_text_and_binary(self):
        async def go(srv):
            clients = [await websockets.connect(srv.url, max_size=None) for _ in range(5)]
            for i, c in enumerate(clients):
                await c.send(f"hello from {i}")
                for other in clients:
                    self.assertEqual(await other.recv(), f"hello from {i}")
            await clients[0].send(b"\x00\x01" * 100_000)
            for c in clients:
                self.assertEqual(await c.recv(), b"\x00\x01" * 100_000)
            await clients[4].close()
            await clients[1].send("after one left")
            for c in clients[:4]:
                self.assertEqual(await c.recv(), "after one left")
            for c in clients[:4]:
                await c.close()

        with Example("chat", "--loops", "2") as srv:
            asyncio.run(asyncio.wait_for(go(srv), 60))


CLIENTS = 10_000
MESSAGES = 20


class TenThousandClients(unittest.TestCase):
    """Every broadcast reaches every one of 10,000 clients, in order, none lost."""

    def setUp(self):
        # 10,000 client sockets here, 10,000 server sockets in the example.
        raise_fd_limit(CLIENTS + 500)
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < CLIENTS + 100:
            self.fail(f"need {CLIENTS + 100} descriptors, the hard limit allows {soft}")
        self.srv = Example("chat")
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()
        self.srv.__exit__(None, None, None)

    def join(self, count):
        """Connects `count` clients in batches, each batch handshaken before the next."""
        request = HANDSHAKE.format(path="/room", host=self.srv.addr, extra="").encode()
        for start in range(0, count, 250):
            batch = []
            for i in range(start, min(count, start + 250)):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.bind((f"127.0.0.{2 + i % 10}", 0))
                s.settimeout(30)
                s.connect((self.srv.host, self.srv.port))
                s.sendall(request)
                batch.append(s)
            for s in batch:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = s.recv(4096)
                    self.assertTrue(chunk, "closed during the handshake")
                    head += chunk
                self.assertTrue(head.startswith(b"HTTP/1.1 101"), head[:40])
                # The 101 and any frame right behind it: none is expected yet.
                self.assertTrue(head.endswith(b"\r\n\r\n"))
                s.setblocking(False)
            self.socks.extend(batch)

    def test_every_broadcast_reaches_every_client_in_order(self):
        self.join(CLIENTS)
        sel = selectors.DefaultSelector()
        bufs = [bytearray() for _ in self.socks]
        got = [0] * len(self.socks)
        for i, s in enumerate(self.socks):
            sel.register(s, selectors.EVENT_READ, i)
        sender = self.socks[0]
        sender.setblocking(True)
        for m in range(MESSAGES):
            sender.sendall(frame(1, f"message {m:04d}".encode()))
        sender.setblocking(False)
        want = [f"message {m:04d}".encode() for m in range(MESSAGES)]
        done = 0
        deadline = time.monotonic() + 120
        while done < len(self.socks):
            self.assertLess(time.monotonic(), deadline, f"{done} of {len(self.socks)} clients got everything")
            for key, _ in sel.select(timeout=5):
                i = key.data
                data = key.fileobj.recv(65536)
                self.assertTrue(data, f"client {i} was closed")
                buf = bufs[i]
                buf += data
                while len(buf) >= 2:
                    n = buf[1]
                    self.assertEqual(buf[0], 0x81, f"client {i}: not a final text frame")
                    self.assertLess(n, 126)
                    if len(buf) < 2 + n:
                        break
                    self.assertEqual(bytes(buf[2:2 + n]), want[got[i]], f"client {i} out of order")
                    del buf[:2 + n]
                    got[i] += 1
                    if got[i] == MESSAGES:
                        done += 1
                        sel.unregister(key.fileobj)
        sel.close()
        self.assertEqual(got, [MESSAGES] * len(self.socks))


if __name__ == "__main__":
    unittest.main()

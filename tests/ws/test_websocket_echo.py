"""websocket_echo driven by `websockets` (asyncio), `wsproto` (sans-IO over
a socket) and raw sockets: messages of every size, fragments, pings, close
codes both ways, and every protocol error with its close code."""

import asyncio
import os
import socket
import unittest

import websockets
import wsproto
import wsproto.events as ev

from wsclient import Example, RawClient, close_payload, frame

SIZES = [0, 1, 125, 126, 127, 65535, 65536, 70000, 1 << 20, 5 << 20]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


class WithWebsockets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Example("websocket_echo")

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def test_text_and_binary_of_every_size_come_back_as_sent(self):
        async def go():
            async with websockets.connect(self.srv.url, max_size=None) as ws:
                for n in SIZES:
                    data = os.urandom(n)
                    await ws.send(data)
                    self.assertEqual(await ws.recv(), data, n)
                    text = ("é€𝄞a" * (n // 10 + 1))[: max(n // 4, 0)]
                    await ws.send(text)
                    self.assertEqual(await ws.recv(), text, n)

        run(go())

    def test_fragmented_messages_are_reassembled(self):
        async def go():
            async with websockets.connect(self.srv.url, max_size=None) as ws:
                await ws.send(["κό", "σμε", "", "!"])
                self.assertEqual(await ws.recv(), "κόσμε!")
                pieces = [os.urandom(100_000) for _ in range(20)]
                await ws.send(pieces)
                self.assertEqual(await ws.recv(), b"".join(pieces))

        run(go())

    def test_pings_during_a_fragmented_message_are_answered(self):
        async def go():
            async with websockets.connect(self.srv.url) as ws:
                proto = ws.protocol
                # Send the frames by hand through the protocol object, so
                # that a ping sits between two fragments of one message.
                proto.send_text(b"first ", fin=False)
                pong = await ws.ping(b"in between")
                proto.send_continuation(b"second", fin=True)
                ws.send_data()  # flush what the protocol queued
                await asyncio.wait_for(pong, 10)
                self.assertEqual(await ws.recv(), "first second")

        run(go())

    def test_server_answers_our_close_with_the_same_code(self):
        async def go():
            ws = await websockets.connect(self.srv.url)
            await ws.send("bye")
            self.assertEqual(await ws.recv(), "bye")
            await ws.close(code=4321, reason="done here")
            self.assertEqual(ws.close_code, 4321)
            self.assertEqual(ws.close_reason, "done here")

        run(go())

    def test_many_clients_at_once(self):
        async def one(i):
            async with websockets.connect(self.srv.url) as ws:
                for j in range(20):
                    await ws.send(f"{i}:{j}")
                    self.assertEqual(await ws.recv(), f"{i}:{j}")

        async def go():
            await asyncio.gather(*(one(i) for i in range(100)))

        run(go())


class WithWsproto(unittest.TestCase):
    """wsproto over a blocking socket: another implementation's view."""

    def setUp(self):
        self.srv = Example("websocket_echo")
        self.sock = socket.create_connection((self.srv.host, self.srv.port), timeout=10)
        self.ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(ev.Request(host=self.srv.addr, target="/any/path?q=1", subprotocols=["chat"])))
        events = self.events_until(ev.AcceptConnection)
        self.assertIsNone(events[-1].subprotocol)  # offered, not chosen

    def tearDown(self):
        self.sock.close()
        self.srv.__exit__(None, None, None)

    def events_until(self, kind):
        got = []
        while not got or not isinstance(got[-1], kind):
            data = self.sock.recv(1 << 20)
            self.ws.receive_data(data or None)
            got.extend(self.ws.events())
            if not data and not isinstance(got[-1] if got else None, kind):
                raise AssertionError(f"connection ended before {kind.__name__}: {got}")
        return got

    def message(self):
        parts, binary = [], None
        while True:
            for e in self.events_until(ev.Message):
                if isinstance(e, ev.Message):
                    parts.append(e.data)
                    binary = isinstance(e, ev.BytesMessage)
                    if e.message_finished:
                        return (b"" if binary else "").join(parts)

    def test_messages_fragments_and_close(self):
        for payload in ["hello", "", b"\x00" * 200_000]:
            self.sock.sendall(self.ws.send(ev.Message(data=payload)))
            self.assertEqual(self.message(), payload)
        # Fragments, with a ping between them.
        self.sock.sendall(self.ws.send(ev.Message(data=b"abc", message_finished=False)))
        self.sock.sendall(self.ws.send(ev.Ping(payload=b"p1")))
        self.sock.sendall(self.ws.send(ev.Message(data=b"def", message_finished=True)))
        got = self.events_until(ev.Message)
        self.assertIsInstance(got[0], ev.Pong)
        self.assertEqual(got[0].payload, b"p1")
        self.assertEqual(got[-1].data, b"abcdef")
        self.sock.sendall(self.ws.send(ev.CloseConnection(code=1000, reason="bye")))
        closing = self.events_until(ev.CloseConnection)[-1]
        self.assertEqual((closing.code, closing.reason), (1000, "bye"))
        self.assertEqual(self.sock.recv(10), b"")  # the server closes TCP


class ProtocolErrors(unittest.TestCase):
    """Frames real clients refuse to send, each answered with its close code."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Example("websocket_echo", "--max-message", str(1 << 20))

    @classmethod
    def tearDownClass(cls):
        cls.srv.__exit__(None, None, None)

    def expect(self, data, code, *, before=b""):
        c = RawClient(self.srv)
        self.assertEqual(c.status, 101)
        c.send(before + data)
        got, _ = c.expect_close()
        self.assertEqual(got, code)
        c.send(frame(8, close_payload(got)))
        self.assertTrue(c.at_eof(), "the server must close TCP after the close handshake")
        c.close()

    def test_unmasked_client_frame(self):
        self.expect(frame(1, b"hi", mask=False), 1002)

    def test_reserved_bits(self):
        for rsv in (1, 2, 4):
            self.expect(frame(1, b"hi", rsv=rsv), 1002)

    def test_unknown_opcodes(self):
        for opcode in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF):
            self.expect(frame(opcode, b"x"), 1002)

    def test_fragmented_control_frame(self):
        self.expect(frame(9, b"ping", fin=False), 1002)

    def test_control_frame_over_125_bytes(self):
        self.expect(frame(9, b"x" * 126), 1002)

    def test_continuation_without_a_message(self):
        self.expect(frame(0, b"orphan"), 1002)

    def test_new_message_inside_a_fragmented_one(self):
        self.expect(frame(1, b"b", fin=True), 1002, before=frame(1, b"a", fin=False))

    def test_invalid_utf8_text(self):
        self.expect(frame(1, b"\xce\xba\xff"), 1007)

    def test_invalid_utf8_across_fragments_fails_before_the_end(self):
        c = RawClient(self.srv)
        c.send(frame(1, "κό".encode()[:-1], fin=False))
        c.send(frame(0, b"\x00", fin=False))  # breaks the split character: fail now
        self.assertEqual(c.expect_close()[0], 1007)
        c.close()

    def test_text_ending_inside_a_character(self):
        self.expect(frame(0, b"\xe2\x82", fin=True), 1007, before=frame(1, b"ok", fin=False))

    def test_message_over_the_limit(self):
        self.expect(frame(2, b"", length=(1 << 20) + 1), 1009)
        # Refused at the second fragment's head, before its payload.
        parts = frame(2, b"x" * 600_000, fin=False)
        self.expect(frame(0, b"y" * 600_000, fin=True)[:1000], 1009, before=parts)

    def test_bad_close_frames(self):
        for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000):
            self.expect(frame(8, close_payload(code)), 1002)
        self.expect(frame(8, b"\x03"), 1002)  # one byte
        self.expect(frame(8, close_payload(1000, b"\xff")), 1007)

    def test_close_codes_are_echoed(self):
        for code in (1000, 1001, 1003, 1008, 1011, 3000, 4999):
            c = RawClient(self.srv)
            c.send(frame(8, close_payload(code, b"why")))
            self.assertEqual(c.expect_close(), (code, b"why"))
            self.assertTrue(c.at_eof())
            c.close()
        c = RawClient(self.srv)
        c.send(frame(8))
        self.assertEqual(c.expect_close(), (1005, b""))  # an empty close frame answered empty
        c.close()

    def test_the_server_keeps_serving_after_errors(self):
        c = RawClient(self.srv)
        c.send(frame(2, b"still here"))
        self.assertEqual(c.recv_frame(), (True, 2, b"still here"))
        c.close()


class Handshake(unittest.TestCase):
    def test_bad_handshakes_get_http_errors(self):
        with Example("websocket_echo") as srv:
            def ask(request):
                s = socket.create_connection((srv.host, srv.port), timeout=10)
                s.sendall(request.encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                s.close()
                return head.decode(errors="replace")

            base = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            ok = ask(base + key + "Sec-WebSocket-Version: 13\r\n\r\n")
            self.assertIn("HTTP/1.1 101", ok)
            self.assertIn("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", ok)
            self.assertIn("HTTP/1.1 426", ask(base + key + "Sec-WebSocket-Version: 8\r\n\r\n"))
            self.assertIn("Sec-WebSocket-Version: 13", ask(base + key + "\r\n"))
            self.assertIn("HTTP/1.1 400", ask(base + "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"))
            self.assertIn("HTTP/1.1 400", ask(base + "Sec-WebSocket-Version: 13\r\n\r\n"))
            post = "POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            self.assertIn("HTTP/1.1 400", ask(post + key + "Sec-WebSocket-Version: 13\r\n\r\n"))
            self.assertIn("HTTP/1.1 426", ask("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))


class Shutdown(unittest.TestCase):
    def test_sigterm_closes_websockets_with_1001_and_exits_0(self):
        srv = Example("websocket_echo")

        async def go():
            ws = await websockets.connect(srv.url)
            await ws.send("x")
            await ws.recv()
            srv.proc.send_signal(15)
            with self.assertRaises(websockets.ConnectionClosed):
                await ws.recv()
            self.assertEqual(ws.close_code, 1001)

        run(go())
        self.assertEqual(srv.proc.wait(timeout=20), 0)
        srv.proc.stdout.close()


if __name__ == "__main__":
    unittest.main()

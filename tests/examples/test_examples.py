"""The C examples, driven as a user would: started as processes, talked to
with http.client and raw sockets on 127.0.0.1, stopped with signals.

Run by `make test-examples` (after `make examples`) with the standard
library only: python3 -m unittest discover -s tests/examples
"""

import http.client
import os
import resource
import selectors
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "target", "examples-c")


def raise_fd_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, wanted), hard), hard))


class Example:
    """An example server on a free port; `with` stops it with SIGTERM."""

    def __init__(self, name, *args, launcher=(), **popen_args):
        """`launcher` goes before the program (a shell that sets up
        inherited sockets); `popen_args` go to subprocess.Popen."""
        self.proc = subprocess.Popen(
            [*launcher, os.path.join(EXAMPLES, name), *args],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: raise_fd_limit(30000),
            **popen_args,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise AssertionError(f"{name} printed {line!r}")
        host, port = line[len("listening on "):].rsplit(":", 1)
        self.host, self.port = host, int(port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop(signal.SIGTERM)

    def stop(self, sig):
        self.proc.send_signal(sig)
        status = self.proc.wait(timeout=10)
        self.proc.stdout.close()
        return status

    def request(self, method, target, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp, data


def port0(*extra):
    return ["127.0.0.1:0", *extra]


class HelloHttp(unittest.TestCase):
    def test_routes(self):
        with Example("hello_http", *port0()) as srv:
            resp, body = srv.request("GET", "/")
            self.assertEqual((resp.status, body), (200, b"Hello, World!"))
            self.assertEqual(resp.getheader("Content-Type"), "text/plain")
            resp, body = srv.request("POST", "/echo", body=b"ping " * 1000)
            self.assertEqual((resp.status, body), (200, b"ping " * 1000))
            resp, body = srv.request("HEAD", "/")
            self.assertEqual((resp.status, resp.getheader("Content-Length"), body), (200, "13", b""))
            self.assertEqual(srv.request("GET", "/missing")[0].status, 404)

    def test_keep_alive_on_two_loops(self):
        with Example("hello_http", *port0("--loops", "2")) as srv:
            conn = http.client.HTTPConnection(srv.host, srv.port, timeout=10)
            for _ in range(200):
                conn.request("GET", "/")
                resp = conn.getresponse()
                self.assertEqual(resp.read(), b"Hello, World!")
            conn.close()

    def test_sigint_exits_cleanly(self):
        srv = Example("hello_http", *port0())
        self.assertEqual(srv.request("GET", "/")[0].status, 200)
        self.assertEqual(srv.stop(signal.SIGINT), 0)


class StaticFiles(unittest.TestCase):
    def setUp(self):
        self.outside = tempfile.TemporaryDirectory()
        self.root = tempfile.TemporaryDirectory()
        with open(os.path.join(self.outside.name, "secret.txt"), "w") as f:
            f.write("secret\n")
        with open(os.path.join(self.root.name, "index.html"), "w") as f:
            f.write("<h1>home</h1>\n")
        os.mkdir(os.path.join(self.root.name, "files"))
        self.data = os.urandom(1 << 20)
        with open(os.path.join(self.root.name, "files", "big.bin"), "wb") as f:
            f.write(self.data)
        os.symlink(os.path.join(self.outside.name, "secret.txt"), os.path.join(self.root.name, "escape"))

    def tearDown(self):
        self.root.cleanup()
        self.outside.cleanup()

    def test_files_ranges_and_conditionals(self):
        with Example("static_files", self.root.name, *port0()) as srv:
            resp, body = srv.request("GET", "/")
            self.assertEqual((resp.status, body), (200, b"<h1>home</h1>\n"))
            self.assertTrue(resp.getheader("Content-Type").startswith("text/html"))
            resp, body = srv.request("GET", "/files/big.bin")
            self.assertEqual((resp.status, body), (200, self.data))
            modified = resp.getheader("Last-Modified")
            resp, body = srv.request("GET", "/files/big.bin", headers={"If-Modified-Since": modified})
            self.assertEqual((resp.status, body), (304, b""))
            resp, body = srv.request("GET", "/files/big.bin", headers={"Range": "bytes=100-199"})
            self.assertEqual((resp.status, body), (206, self.data[100:200]))
            self.assertEqual(resp.getheader("Content-Range"), f"bytes 100-199/{len(self.data)}")
            resp, body = srv.request("GET", "/files/big.bin", headers={"Range": "bytes=-10"})
            self.assertEqual((resp.status, body), (206, self.data[-10:]))
            resp, _ = srv.request("GET", "/files/big.bin", headers={"Range": f"bytes={len(self.data)}-"})
            self.assertEqual(resp.status, 416)
            self.assertEqual(srv.request("GET", "/files")[0].status, 301)
            self.assertEqual(srv.request("GET", "/files/")[0].status, 403)  # no listing unless --list
            self.assertEqual(srv.request("GET", "/nothing")[0].status, 404)
            self.assertEqual(srv.request("DELETE", "/")[0].status, 405)

    def test_malformed_range_and_future_dates_are_ignored(self):
        with Example("static_files", self.root.name, *port0()) as srv:
            # RFC 9110 14.2: "bytes=-" is not a valid range: answer 200, whole.
            for bad in ["bytes=-", "bytes=a-5", "bytes=5-x", "bytes=--5"]:
                resp, body = srv.request("GET", "/files/big.bin", headers={"Range": bad})
                self.assertEqual((resp.status, len(body), resp.getheader("Content-Range")), (200, len(self.data), None), bad)
            # A date in the future is invalid (RFC 9110 13.1.3): a full answer.
            future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 86400 * 365))
            resp, body = srv.request("GET", "/files/big.bin", headers={"If-Modified-Since": future})
            self.assertEqual((resp.status, len(body)), (200, len(self.data)))
            # The obsolete RFC 850 and asctime forms are understood.
            now = time.gmtime(time.time())
            for form in ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y", "%a, %d %b %Y %H:%M:%S GMT"]:
                since = time.strftime(form, now)
                resp, body = srv.request("GET", "/files/big.bin", headers={"If-Modified-Since": since})
                self.assertEqual((resp.status, body), (304, b""), since)
            # If-None-Match takes precedence: If-Modified-Since is then ignored.
            headers = {"If-Modified-Since": time.strftime("%a, %d %b %Y %H:%M:%S GMT", now), "If-None-Match": '"x"'}
            self.assertEqual(srv.request("GET", "/files/big.bin", headers=headers)[0].status, 200)

    def test_a_fifo_in_root_does_not_freeze_the_server(self):
        os.mkfifo(os.path.join(self.root.name, "pipe"))
        os.mkfifo(os.path.join(self.root.name, "files", "index.html"))
        with Example("static_files", self.root.name, *port0()) as srv:
            self.assertEqual(srv.request("GET", "/pipe")[0].status, 403)
            self.assertEqual(srv.request("GET", "/files/")[0].status, 403)
            resp, body = srv.request("GET", "/")
            self.assertEqual((resp.status, body), (200, b"<h1>home</h1>\n"))

    def test_no_escape_from_root(self):
        with Example("static_files", self.root.name, *port0()) as srv:
            for target in ["/../secret.txt", "/%2e%2e/secret.txt", "/files/%2E%2E/%2e%2e/secret.txt", "/escape", "/a%00b"]:
                resp, body = srv.request("GET", target)
                self.assertIn(resp.status, (400, 403, 404), target)
                self.assertNotIn(b"secret", body, target)

    def test_listing_when_asked(self):
        with Example("static_files", self.root.name, *port0("--list")) as srv:
            resp, body = srv.request("GET", "/files/")
            self.assertEqual(resp.status, 200)
            self.assertIn(b'href="big.bin"', body)


class Deferred(unittest.TestCase):
    def test_every_request_is_completed_from_another_thread(self):
        with Example("deferred", *port0("--delay-ms", "50")) as srv:
            results = []

            def client():
                results.append(srv.request("GET", "/")[1])

            threads = [threading.Thread(target=client) for _ in range(200)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(results, [b"Hello, World!"] * 200)


class WorkerPool(unittest.TestCase):
    def test_blocking_handlers_run_on_the_pool(self):
        with Example("worker_pool", *port0("--workers", "8")) as srv:
            results = []

            def client():
                results.append(srv.request("GET", "/sleep?ms=50")[1])

            threads = [threading.Thread(target=client) for _ in range(40)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(results, [b"slept 50 ms\n"] * 40)


class Echo(unittest.TestCase):
    def test_ten_thousand_concurrent_connections(self):
        """Every client connected at once, each echoed its own message."""
        count = 10_000
        raise_fd_limit(count + 1000)
        with Example("echo", *port0()) as srv:
            sel = selectors.DefaultSelector()
            socks = []
            for i in range(count):
                s = socket.create_connection((srv.host, srv.port), timeout=10)
                socks.append(s)
            expected = {}
            for i, s in enumerate(socks):
                msg = f"client {i}\n".encode()
                s.sendall(msg)
                s.setblocking(False)
                expected[s] = msg
                sel.register(s, selectors.EVENT_READ, bytearray())
            deadline = time.monotonic() + 60
            pending = len(socks)
            while pending and time.monotonic() < deadline:
                for key, _ in sel.select(timeout=1):
                    key.data.extend(key.fileobj.recv(4096))
                    if len(key.data) >= len(expected[key.fileobj]):
                        sel.unregister(key.fileobj)
                        pending -= 1
            self.assertEqual(pending, 0)
            for s in socks:
                s.setblocking(True)
                s.close()
            sel.close()


if __name__ == "__main__":
    unittest.main()

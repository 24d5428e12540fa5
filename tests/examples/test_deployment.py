"""hello_http deployed past one machine, with the real HAProxy from Debian
(installed by `make tools`) in front: PROXY protocol v1 and v2, trusted
sources, rolling restarts of the back-ends under load, and an in-place
restart that hands the listening socket to a new process under load.

Everything on loopback; HAProxy is started and stopped by each test. Loads
are bounded: 100 connections for a few seconds.
"""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from test_examples import Example

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_STREAM = "/usr/lib/nginx/modules/ngx_stream_module.so"
CLIENT_IP = "127.0.0.5"
# Back-ends drain this long on SIGTERM: a few of HAProxy's check intervals.
DRAIN_MS = "600"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, source=None, prefix=b""):
    """One HTTP/1.0 exchange on a fresh connection from `source`, with
    `prefix` sent first; returns (status, body), or None when the server
    closed or reset the connection without an answer."""
    data = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0) if source else None) as s:
            s.sendall(prefix + b"GET " + path.encode() + b" HTTP/1.0\r\nHost: t\r\n\r\n")
            while chunk := s.recv(65536):
                data += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass  # refused by a reset, at any step
    if not data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def backend(port=0, *extra, drain_ms=DRAIN_MS):
    return Example(
        "hello_http", f"127.0.0.1:{port}", "--proxy-protocol", "--health-path", "/healthz", "--drain-ms", drain_ms,
        *extra,
    )


class Haproxy:
    """HAProxy in the foreground with `backends` behind one frontend per
    PROXY protocol version; stopped on exit from `with`."""

    def __init__(self, backends):
        self.dir = tempfile.TemporaryDirectory()
        self.sock = os.path.join(self.dir.name, "admin.sock")
        self.ports = {"v1": free_port(), "v2": free_port()}
        servers = "\n".join(f"    server s{i} 127.0.0.1:{b.port} check" for i, b in enumerate(backends))
        sections = []
        for version, send in (("v1", "send-proxy"), ("v2", "send-proxy-v2")):
            sections.append(f"""
frontend fe_{version}
    bind 127.0.0.1:{self.ports[version]}
    default_backend be_{version}

backend be_{version}
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 100ms fall 1 rise 2 {send} check-send-proxy
{servers}
""")
        config = f"""
global
    maxconn 4000
    stats socket {self.sock} mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 20s
    timeout server 20s
    retries 3
    option redispatch 1
    retry-on all-retryable-errors
""" + "".join(sections)
        path = os.path.join(self.dir.name, "haproxy.cfg")
        with open(path, "w") as f:
            f.write(config)
        self.proc = subprocess.Popen([HAPROXY, "-db", "-q", "-f", path], stdout=subprocess.DEVNULL)
        self.wait_servers("UP", [f"s{i}" for i in range(len(backends))])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.dir.cleanup()

    def states(self, backend="be_v2"):
        """Server name -> status (UP, DOWN, ...) from the stats socket."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.sock)
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        fields = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(fields, line.split(","))) for line in lines[1:] if line]
        return {r["svname"]: r["status"] for r in rows if r["pxname"] == backend}

    def wait_servers(self, status, names, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                states = self.states()
                if all(states.get(n, "").startswith(status) for n in names):
                    return
            except OSError:
                pass  # the stats socket is not there yet
            time.sleep(0.05)
        raise AssertionError(f"servers {names} not {status}: {self.states()}")


class NginxStream:
    """nginx's stream module with `proxy_protocol on` (v1) in front of
    `backends`, as docs/DEPLOYMENT.md shows it; stopped on exit from `with`."""

    def __init__(self, backends):
        self.dir = tempfile.TemporaryDirectory()
        self.port = free_port()
        servers = "\n".join(f"        server 127.0.0.1:{b.port};" for b in backends)
        config = f"""
load_module {NGINX_STREAM};
daemon off;
worker_processes 1;
pid {self.dir.name}/nginx.pid;
error_log {self.dir.name}/error.log;
events {{}}
stream {{
    upstream c10k {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{self.port};
        proxy_pass c10k;
        proxy_protocol on;
        proxy_next_upstream on;
    }}
}}
"""
        path = os.path.join(self.dir.name, "nginx.conf")
        with open(path, "w") as f:
            f.write(config)
        self.proc = subprocess.Popen([NGINX, "-p", self.dir.name, "-e", f"{self.dir.name}/error.log", "-c", path])
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("nginx did not listen")
                time.sleep(0.05)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.dir.cleanup()


class Load:
    """`conns` keep-alive clients sending GET / in a loop on a thread of
    their own until `stop()`. A response that says `Connection: close` is
    followed by a new connection; a connection lost without an answer is a
    failed request, a refused or failed connect a connection error."""

    def __init__(self, port, conns=100):
        self.port, self.conns = port, conns
        self.ok = self.failed = self.conn_errors = 0
        self.errors = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self.run()))
        self.thread.start()

    async def run(self):
        await asyncio.gather(*(self.client() for _ in range(self.conns)))

    async def client(self):
        writer = None
        while not self.done.is_set():
            if writer is None:
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError as e:
                    self.conn_errors += 1
                    self.errors.append(repr(e))
                    await asyncio.sleep(0.01)
                    continue
            try:
                writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).decode().lower()
                length = int(head.split("content-length:")[1].split("\r\n")[0])
                body = await reader.readexactly(length)
                if head.startswith("http/1.1 200") and body == b"Hello, World!":
                    self.ok += 1
                else:
                    self.failed += 1
                    self.errors.append(head)
                if "connection: close" in head:
                    writer.close()
                    writer = None
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, IndexError, ValueError) as e:
                self.failed += 1
                self.errors.append(repr(e))
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    def wait_for_progress(self, count=200, timeout=20):
        """Waits until `count` more requests succeeded."""
        target = self.ok + count
        deadline = time.monotonic() + timeout
        while self.ok < target and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.ok < target:
            raise AssertionError(f"the load made no progress: {self.summary()}")

    def stop(self):
        self.done.set()
        self.thread.join(timeout=30)

    def summary(self):
        return f"ok={self.ok} failed={self.failed} conn_errors={self.conn_errors} {self.errors[:5]}"


class ProxyProtocolBehindBalancers(unittest.TestCase):
    def test_client_address_through_v1_and_v2(self):
        with backend() as a, backend() as b, Haproxy([a, b]) as lb:
            for version in ("v1", "v2"):
                # Round robin: every other request goes to each back-end.
                for _ in range(4):
                    answer = http_get(lb.ports[version], "/whoami", source=CLIENT_IP)
                    self.assertEqual(answer, (200, CLIENT_IP.encode()), version)

    def test_client_address_through_nginx_stream(self):
        with backend() as a, backend() as b, NginxStream([a, b]) as lb:
            for _ in range(4):
                self.assertEqual(http_get(lb.port, "/whoami", source=CLIENT_IP), (200, CLIENT_IP.encode()))

    def test_untrusted_header_is_not_believed(self):
        forged = b"PROXY TCP4 203.0.113.66 127.0.0.1 4000 80\r\n"
        # Only 127.0.0.1 (the balancer) is trusted: others are reset...
        with backend(0, "--proxy-trusted", "127.0.0.1") as srv:
            self.assertEqual(http_get(srv.port, "/whoami", source="127.0.0.1", prefix=forged), (200, b"203.0.113.66"))
            self.assertIsNone(http_get(srv.port, "/whoami", source=CLIENT_IP, prefix=forged))
            with Haproxy([srv]) as lb:
                self.assertEqual(http_get(lb.ports["v2"], "/whoami", source=CLIENT_IP), (200, CLIENT_IP.encode()))
        # ... or served as plain clients, whose header is only bad HTTP.
        with backend(0, "--proxy-trusted", "127.0.0.1", "--proxy-untrusted", "plain") as srv:
            status, body = http_get(srv.port, "/whoami", source=CLIENT_IP, prefix=forged)
            self.assertEqual(status, 400)
            self.assertNotIn(b"203.0.113.66", body)
            self.assertEqual(http_get(srv.port, "/whoami", source=CLIENT_IP), (200, CLIENT_IP.encode()))

    def test_health_path_turns_503_while_draining(self):
        unknown = b"PROXY UNKNOWN\r\n"
        # A long drain, so that the checks below surely fall within it.
        with backend(0, drain_ms="5000") as srv:
            self.assertEqual(http_get(srv.port, "/healthz", prefix=unknown), (200, b"ok\n"))
            srv.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 4
            while http_get(srv.port, "/healthz", prefix=unknown) != (503, b"draining\n"):
                self.assertLess(time.monotonic(), deadline, "the health path never said 503")
                time.sleep(0.02)
            # Still accepting and serving while it drains.
            self.assertEqual(http_get(srv.port, "/", prefix=unknown), (200, b"Hello, World!"))
            self.assertEqual(srv.proc.wait(timeout=15), 0)
            srv.proc.stdout.close()


def listening_sockets(port):
    """How many sockets listen on 127.0.0.1:`port` (from /proc/net/tcp)."""
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return sum(1 for r in rows if r[1] == f"0100007F:{port:04X}" and r[3] == "0A")


class Processes(unittest.TestCase):
    def test_n_processes_share_one_port(self):
        srv = Example("hello_http", "127.0.0.1:0", "--processes", "3")
        # Three children, each with its own SO_REUSEPORT socket; the
        # parent's reservation of the port does not listen.
        with open(f"/proc/{srv.proc.pid}/task/{srv.proc.pid}/children") as f:
            self.assertEqual(len(f.read().split()), 3)
        self.assertEqual(listening_sockets(srv.port), 3)
        for _ in range(30):
            self.assertEqual(http_get(srv.port, "/"), (200, b"Hello, World!"))
        self.assertEqual(srv.stop(signal.SIGTERM), 0)
        self.assertEqual(listening_sockets(srv.port), 0)


class RestartsLoseNothing(unittest.TestCase):
    def rolling_restart(self, balancer, wait_up):
        """Restarts each back-end behind `balancer(backends)` in turn under
        load, `wait_up(lb, i)` after starting the new one; asserts nothing
        was lost."""
        backends = [backend(), backend()]
        try:
            with balancer(backends) as lb:
                load = Load(lb.ports["v2"] if isinstance(lb, Haproxy) else lb.port)
                try:
                    load.wait_for_progress()
                    for i, old in enumerate(list(backends)):
                        self.assertEqual(old.stop(signal.SIGTERM), 0)
                        backends[i] = backend(old.port)
                        wait_up(lb, i)
                        load.wait_for_progress()
                finally:
                    load.stop()
                self.assertEqual((load.failed, load.conn_errors), (0, 0), load.summary())
        finally:
            for b in backends:
                if b.proc.poll() is None:
                    b.stop(signal.SIGTERM)

    def test_rolling_restart_behind_haproxy(self):
        self.rolling_restart(Haproxy, lambda lb, i: lb.wait_servers("UP", [f"s{i}"]))

    def test_rolling_restart_behind_nginx_stream(self):
        # nginx has no active checks: a refused connect moves on to the
        # other back-end, and the drain moves keep-alive clients off.
        self.rolling_restart(NginxStream, lambda lb, i: None)

    def test_in_place_restart_by_socket_handoff(self):
        listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        fd = listener.fileno()
        # The shell puts the socket at descriptor 3 and names itself in
        # LISTEN_PID before it becomes hello_http: systemd's protocol.
        move = "" if fd == 3 else f"exec 3<&{fd} {fd}<&-; "
        launcher = ("sh", "-c", move + 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"')

        def generation():
            # The address is ignored: the socket comes from LISTEN_FDS.
            return Example("hello_http", "127.0.0.1:1", "--drain-ms", DRAIN_MS, launcher=launcher, pass_fds=(fd,))

        port = listener.getsockname()[1]
        old = generation()
        self.assertEqual(old.port, port)
        load = Load(port)
        try:
            load.wait_for_progress()
            for _ in range(2):
                new = generation()
                self.assertEqual(old.stop(signal.SIGTERM), 0)
                old = new
                load.wait_for_progress()
        finally:
            load.stop()
            old.stop(signal.SIGTERM)
            listener.close()
        self.assertEqual((load.failed, load.conn_errors), (0, 0), load.summary())


if __name__ == "__main__":
    unittest.main()

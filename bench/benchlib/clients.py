"""Many non-blocking client sockets from one process, for idle_clients.py and
burst.py. Loopback only; every wait is bounded by a deadline."""
import errno
import resource
import selectors
import socket
import time

# Linux: let connect() pick the port per 4-tuple, so each source address
# gives a full ephemeral range instead of one shared by every bind().
IP_BIND_ADDRESS_NO_PORT = 24
PER_SOURCE = 20000


def prepare(target, count):
    """Splits HOST:PORT and raises the descriptor limit for `count` sockets."""
    want = count + 1000
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
    host, port = target.rsplit(":", 1)
    return host, int(port)


def source_addrs(count):
    """127.0.0.2, 127.0.0.3, ...: enough addresses for `count` connections."""
    n = max(1, -(-count // PER_SOURCE))
    return [f"127.0.0.{2 + i}" for i in range(n)]


def _start_connect(host, port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    s.bind((src, 0))
    err = s.connect_ex((host, port))
    if err not in (0, errno.EINPROGRESS):
        s.close()
        raise OSError(err, errno.errorcode.get(err, "connect"))
    return s


def open_connections(host, port, count, deadline, in_flight=1000):
    """Open up to `count` connections, at most `in_flight` pending at once
    (so the server's accept queue is not flooded). Returns (sockets, errors)."""
    sources = source_addrs(count)
    sel = selectors.DefaultSelector()
    done, errors, started = [], 0, 0
    while (started < count or sel.get_map()) and time.monotonic() < deadline:
        while started < count and len(sel.get_map()) < in_flight:
            try:
                s = _start_connect(host, port, sources[started % len(sources)])
                sel.register(s, selectors.EVENT_WRITE)
            except OSError:
                errors += 1
            started += 1
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            sel.unregister(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                errors += 1
                s.close()
            else:
                done.append(s)
    for key in list(sel.get_map().values()):
        key.fileobj.close()
        errors += 1
    sel.close()
    return done, errors + (count - started)

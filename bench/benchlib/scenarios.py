"""The scenarios. Each takes a Ctx and returns a report.Result; `SCENARIOS`
maps the names `bench/run` accepts to them, in run order."""
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from . import load, servers
from .procs import Running, cpu_seconds, fd_count, free_port, rss_kib
from .report import Metric, Result, Table, Target, ratio
from .settings import BENCH_DIR, HOST

RPS = Metric("rps", "requests/s")
P99 = Metric("p99_ms", "p99 latency (ms)", 2)
ERRORS = Metric("errors", "socket errors + non-2xx")


class Ctx:
    def __init__(self, settings, workdir):
        self.s = settings
        self.workdir = Path(workdir)
        self.commands = []
        self.configs = {}  # generated peer config files, for the appendix

    def log(self, command):
        print(f"  $ {command}", flush=True)
        self.commands.append(command)


def hello_http():
    return servers.c10k_example("hello_http", "--loops", "1")


# --- starting servers and running interleaved rounds -----------------------

def _start(ctx, spec):
    port = free_port()
    workdir = ctx.workdir / f"{spec.name.replace(' ', '_')}-{port}"
    workdir.mkdir()
    argv = spec.argv(HOST, port, workdir)
    ctx.log(shlex.join(argv))
    srv = Running(spec.name, argv, HOST, port, workdir, spec.env, spec.timeout)
    for conf in [*workdir.glob("*.conf"), *workdir.glob("*.yaml")]:
        ctx.configs[f"{spec.name}: {conf.name}"] = conf.read_text()
    return srv


@contextmanager
def started(ctx, specs, tables):
    """Start every available spec on its own port; stop them all after."""
    running = {}
    try:
        for spec in specs:
            if spec.missing:
                _note(tables, spec.name, spec.missing)
                continue
            try:
                running[spec.name] = _start(ctx, spec)
            except RuntimeError as e:
                print(e, file=sys.stderr)
                last = [ln for ln in str(e).splitlines() if ln.strip()][-1]
                _note(tables, spec.name, f"failed to start: {last[:100]}")
        yield running
    finally:
        for srv in running.values():
            srv.stop()


def _note(tables, name, text):
    print(f"  {name}: {text}", flush=True)
    for t in tables:
        t.note(name, text)


def _guarded(name, action, tables, failed):
    if name in failed:
        return
    try:
        action()
    except Exception as e:  # one server failing must not end the scenario
        failed.add(name)
        _note(tables, name, f"failed: {str(e).splitlines()[0][:120]}")


def interleave(ctx, specs, tables, measure):
    """Servers stay up; rounds go A B C, A B C, ... so drift hits all alike."""
    failed = set()
    with started(ctx, specs, tables) as running:
        for r in range(ctx.s.rounds):
            print(f"  round {r + 1}/{ctx.s.rounds}", flush=True)
            for name, srv in running.items():
                _guarded(name, lambda: measure(name, srv), tables, failed)


def interleave_fresh(ctx, specs, tables, measure):
    """Like interleave, but a new server process for every measurement
    (for measures a previous round would skew, such as RSS)."""
    failed = set()
    for r in range(ctx.s.rounds):
        print(f"  round {r + 1}/{ctx.s.rounds}", flush=True)
        for spec in specs:
            if spec.name in failed:
                continue
            with started(ctx, [spec], tables) as running:
                for name, srv in running.items():
                    _guarded(name, lambda: measure(name, srv), tables, failed)


# --- targets ----------------------------------------------------------------

def _unmeasured(table):
    """Why the c10k side has no number, as the target's `measured` text."""
    return table.notes.get(table.c10k, "—")


def ratio_target(text, table, key, peer, at_least):
    r = ratio(table.median(table.c10k, key), table.median(peer, key))
    return Target(text, None if r is None else r >= at_least,
                  _unmeasured(table) if r is None else f"{r:.2f}× {peer}")


def limit_target(text, table, key, limit, unit="", at_most=True, stat=None):
    values = table.values(table.c10k, key)
    if not values:
        return Target(text, None, _unmeasured(table))
    v = (stat or statistics.median)(values)
    shown = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    return Target(text, v <= limit if at_most else v >= limit, shown + unit)


# --- wrk based comparisons --------------------------------------------------

def _wrk_table(ctx, title, specs, url_path="", metrics=(RPS, P99, ERRORS),
               **wrk_args):
    table = Table(title, list(metrics), c10k=specs[0].name)

    def measure(name, srv):
        table.add(name, load.wrk(srv.url + url_path, ctx.log, **wrk_args))
    interleave(ctx, specs, [table], measure)
    return table


def _hello_specs():
    return [hello_http(), servers.nginx(), servers.h2o()]


def hello(ctx):
    t = _wrk_table(ctx, "wrk -t1 -c100, keep-alive", _hello_specs(),
                   conns=100, seconds=ctx.s.seconds)
    return Result("hello", "hello_http vs nginx vs h2o",
                  "Keep-alive GET / throughput, one request in flight per "
                  "connection, 100 connections, one wrk thread.", [t],
                  [ratio_target("hello ≥ 1.3× nginx req/s", t, "rps", "nginx", 1.3)])


def pipelined(ctx):
    # No p99: wrk times a pipelined batch, not each request, and reports
    # 0 ms percentiles for fast servers.
    t = _wrk_table(ctx, "wrk -t1 -c100, 16 requests pipelined", _hello_specs(),
                   metrics=(RPS, ERRORS), conns=100, seconds=ctx.s.seconds,
                   script="pipeline.lua")
    return Result("pipelined", "16 pipelined requests per write",
                  "As hello, but every write carries 16 GET / requests "
                  "(bench/pipeline.lua); req/s counts responses.", [t],
                  [ratio_target("pipelined ≥ 1.5× nginx req/s", t, "rps",
                                "nginx", 1.5)])


def multicore(ctx):
    specs = [servers.c10k_example("hello_http", "--loops", "2"), servers.nginx(workers=2)]
    t = _wrk_table(ctx, "wrk -t2 -c100, keep-alive", specs, threads=2, conns=100,
                   seconds=ctx.s.seconds)
    return Result("multicore", "hello_http --loops 2 vs nginx with 2 workers",
                  "As hello, with one loop (c10k) or worker process (nginx) per "
                  "CPU; wrk has two threads and shares the two CPUs.", [t], [])


def c10k(ctx):
    n = ctx.s.c10k_conns
    kinds = [Metric(f"err_{k}", f"socket errors: {k}", hide_zero=True)
             for k in ("connect", "read", "write", "timeout")]
    t = _wrk_table(ctx, f"wrk -t2 -c{n}, keep-alive", _hello_specs(),
                   metrics=(RPS, P99, ERRORS, *kinds), threads=2, conns=n,
                   seconds=ctx.s.seconds)
    p99 = ratio(t.median(t.c10k, "p99_ms"), t.median("nginx", "p99_ms"))
    return Result("c10k", f"{n:,} concurrent keep-alive connections",
                  "Throughput, p99 latency and errors with every connection "
                  "busy at once.", [t], [
                      limit_target("c10k: zero socket errors (worst round)", t,
                                   "errors", 0, stat=max),
                      Target("c10k: p99 no worse than nginx",
                             None if p99 is None else p99 <= 1.0,
                             _unmeasured(t) if p99 is None
                             else f"{p99:.2f}× nginx p99")])


def _sustained_windows(out, window):
    """Mean req/s of the first and last `window` whole seconds. The first
    and last seconds are partial and dropped; a silent second counts as 0."""
    per = {int(s): int(n) for s, n in re.findall(r"^second (\d+) (\d+)$",
                                                 out, re.M)}
    secs = range(min(per), max(per) + 1)
    counts = [per.get(s, 0) for s in secs][1:-1]
    return (statistics.mean(counts[:window]), statistics.mean(counts[-window:]))


def sustained(ctx):
    seconds = ctx.s.sustained_seconds
    window = 10 if seconds >= 60 else max(1, seconds // 6)
    table = Table(f"wrk -t1 -c100 -d{seconds}s, {window} s windows",
                  [Metric("first", f"first {window} s req/s"),
                   Metric("last", f"last {window} s req/s"),
                   Metric("ratio", "last / first", 3)], c10k="c10k")

    def measure(name, srv):
        argv = load.wrk_argv(srv.url, 1, 100, seconds, script="sustained.lua",
                             latency=False)
        _, out = load.run_wrk(argv, ctx.log)
        first, last = _sustained_windows(out, window)
        table.add(name, {"first": first, "last": last, "ratio": last / first})
    interleave(ctx, [hello_http(), servers.nginx()], [table], measure)
    return Result("sustained", f"{seconds} s of hello load",
                  "One long wrk run per round with bench/sustained.lua counting "
                  "responses per wall-clock second inside wrk (no reconnects); "
                  "the ratio compares the last window with the first. The Lua "
                  "hook costs wrk CPU, so absolute req/s are below hello's.",
                  [table], [limit_target("sustained last/first ≥ 0.95", table,
                                         "ratio", 0.95, at_most=False)])


# --- memory and syscalls ----------------------------------------------------

def idle_count(ctx):
    """100k idle connections if the machine's limits allow, else 50k, else
    as many as the open-file limit leaves room for. Returns (count, why)."""
    if ctx.s.idle_count:
        return ctx.s.idle_count, "BENCH_IDLE_COUNT"
    nr_open = int(Path("/proc/sys/fs/nr_open").read_text())
    room = min(nr_open, os.sysconf("SC_OPEN_MAX")) - 1000  # fds for the rest
    for count in (100_000, 50_000):
        if room >= count:
            return count, "fits the fd limits"
    return room // 1000 * 1000, "capped by the open-file limit (hard ulimit -n)"


def _limits():
    read = lambda p: " ".join(Path(p).read_text().split())
    return (f"fs.nr_open={read('/proc/sys/fs/nr_open')}, "
            f"net.ipv4.ip_local_port_range={read('/proc/sys/net/ipv4/ip_local_port_range')}, "
            f"net.core.somaxconn={read('/proc/sys/net/core/somaxconn')}, "
            f"bench ulimit -n={os.sysconf('SC_OPEN_MAX')}")


def _wait_fds(pids, want, timeout):
    """Wait until the server holds `want` fds or stops gaining them."""
    deadline, last, still = time.monotonic() + timeout, -1, 0
    while time.monotonic() < deadline:
        now = fd_count(pids)
        if now >= want:
            return
        still = still + 1 if now == last else 0
        if still >= 50:  # 5 s without progress (SYN-ACK retries take 1-3 s)
            return
        last = now
        time.sleep(0.1)


def _idle_once(ctx, srv, count):
    pids = srv.pids()
    time.sleep(0.5)  # let the server finish starting up
    rss0, fds0 = rss_kib(pids), fd_count(pids)
    argv = [sys.executable, str(BENCH_DIR / "idle_clients.py"), srv.addr,
            str(count), "--timeout", "120", "--hold", "180"]
    ctx.log(shlex.join(argv))
    helper = subprocess.Popen(argv, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(helper.stdout.readline())
        _wait_fds(pids, fds0 + info["open"], 60)
        rss1, accepted = rss_kib(pids), fd_count(pids) - fds0
    finally:
        helper.stdin.close()  # tells the helper to close its sockets
        try:
            helper.wait(timeout=60)
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()
    opened = max(info["open"], 1)
    return {"delta": (rss1 - rss0) * 1024 / opened,
            "total": rss1 * 1024 / opened, "open": info["open"],
            "accepted": accepted, "errors": info["errors"]}


def idle(ctx):
    count, why = idle_count(ctx)
    table = Table(f"{count:,} idle connections", [
        Metric("delta", "RSS growth / connection (bytes)"),
        Metric("total", "whole RSS / connection (bytes)"),
        Metric("open", "connections opened"),
        Metric("accepted", "fds gained by server"),
        Metric("errors", "connect errors")], c10k="c10k")
    specs = [hello_http(), servers.nginx(max_conns=count)]
    interleave_fresh(ctx, specs, [table], lambda name, srv: table.add(
        name, _idle_once(ctx, srv, count)))
    return Result("idle", "memory per idle connection",
                  f"bench/idle_clients.py opens {count:,} connections from "
                  "several 127.0.0.x source addresses and sends nothing; "
                  "VmRSS of the server's process tree before and after, divided "
                  "by the connections opened. A fresh server each round. nginx "
                  "allocates its connection table (worker_connections) at start, "
                  "so its growth column leaves that out; the whole-RSS column "
                  f"does not. Count {count:,}: {why}; limits: {_limits()}.",
                  [table],
                  [limit_target("idle ≤ 512 bytes per connection", table,
                                "delta", 512, " B")])


def syscalls(ctx):
    table = Table("strace -c -f during wrk -t1 -c100", [
        Metric("per_req", "syscalls / request", 2),
        Metric("rps", "requests/s under strace")], c10k="c10k")
    details = {}

    def measure(name, srv):
        work = lambda: load.wrk(srv.url, ctx.log, conns=100,
                                seconds=ctx.s.seconds, latency=False)
        total, text, res = load.syscalls_during(srv.pids(), srv.log.parent,
                                                work, ctx.log)
        details[name] = text
        table.add(name, {"per_req": total / res["requests"], "rps": res["rps"]})
    interleave(ctx, [hello_http(), servers.nginx()], [table], measure)
    return Result("syscalls", "system calls per request",
                  "strace -c -f attached to the server's processes (and all "
                  "their threads) for exactly one wrk run; calls counted by "
                  "strace divided by responses wrk received. strace slows the "
                  "server a lot: compare the per-request counts, not req/s.",
                  [table], [limit_target("syscalls per request ≤ 2.1", table,
                                         "per_req", 2.1)],
                  details=[(f"strace -c, {n}, last round", t)
                           for n, t in details.items()])


# --- static files -----------------------------------------------------------

def _static_root(ctx):
    root = ctx.workdir / "static"
    root.mkdir(exist_ok=True)
    for name, size in (("4k.bin", 4096), ("1m.bin", 1 << 20)):
        (root / name).write_bytes(os.urandom(size))
    return root


def static(ctx):
    root = _static_root(ctx)
    files = ("4k.bin", "1m.bin")
    metrics = [RPS, Metric("mib_s", "MiB/s"), P99, ERRORS]
    tables = {f: Table(f"GET /{f} ({'4 KiB' if f == '4k.bin' else '1 MiB'}), "
                       "wrk -t1 -c50", metrics, c10k="c10k") for f in files}
    specs = [servers.c10k_example("static_files", before_addr=(str(root),)),
             servers.nginx(static_root=root)]

    def measure(name, srv):
        for f in files:
            tables[f].add(name, load.wrk(srv.url + f, ctx.log, conns=50,
                                         seconds=ctx.s.seconds))
    interleave(ctx, specs, list(tables.values()), measure)
    return Result("static", "static files: static_files vs nginx (sendfile on)",
                  "Random-content files of 4 KiB and 1 MiB, keep-alive.",
                  list(tables.values()))


# --- c10k-only scenarios ----------------------------------------------------

def deferred(ctx):
    n = ctx.s.burst_count
    table = Table(f"{n:,} requests at once, each answered 100 ms later", [
        Metric("wall_s", "wall time first send → last reply (s)", 3),
        Metric("ok", "200 replies"), Metric("errors", "errors"),
        Metric("cpu_ms", "server CPU time (ms)")], c10k="c10k")

    def measure(name, srv):
        cpu0 = cpu_seconds(srv.pids())
        res = load.run_helper("burst.py", [srv.addr, n, "--timeout", 30],
                              ctx.log, timeout=120)
        res["cpu_ms"] = (cpu_seconds(srv.pids()) - cpu0) * 1000
        table.add(name, res)
    spec = servers.c10k_example("deferred", "--delay-ms", "100")
    interleave(ctx, [spec], [table], measure)
    return Result("deferred", "deferred replies",
                  "bench/burst.py connects first, then sends one GET on every "
                  "connection at once and waits for all replies; the server "
                  "completes each from another thread 100 ms later. CPU time is "
                  "utime+stime from /proc/PID/stat around the whole burst "
                  "(connects included).", [table], [
                      limit_target("deferred: all replies within 1.1 s "
                                   "(100 ms + 1 s)", table, "wall_s", 1.1, " s"),
                      limit_target("deferred: no errors (worst round)", table,
                                   "errors", 0, stat=max)])


def workers(ctx):
    ideal = 64 * 1000 / 10
    spec = servers.c10k_example("worker_pool", "--workers", "64")
    ok = Metric("ok_rps", "2xx/3xx responses/s")
    table = _wrk_table(ctx, "wrk -t1 -c1000 GET /sleep?ms=10", [spec],
                       url_path="sleep?ms=10", metrics=(ok, RPS, P99, ERRORS),
                       conns=1000, seconds=ctx.s.seconds)
    median = table.median(table.c10k, "ok_rps")
    pct = None if median is None else median / ideal
    return Result("workers", "worker pool of 64 blocking handlers",
                  f"Each request sleeps 10 ms in a pool thread; ideal "
                  f"{ideal:,.0f} req/s. Only successful responses count "
                  "toward it (a full queue answers 503).", [table],
                  [Target("workers ≥ 90% of ideal 6,400 req/s",
                          None if pct is None else pct >= 0.9,
                          _unmeasured(table) if pct is None else f"{pct:.0%}")])


def hosts(ctx):
    pairs = [("Python: c10k binding vs uvloop + httptools",
              [servers.python_c10k(), servers.uvloop_peer()]),
             ("SBCL: c10k binding vs Hunchentoot",
              [servers.lisp_c10k(), servers.hunchentoot_peer()])]
    tables = [_wrk_table(ctx, f"{title}, wrk -t1 -c100", specs, conns=100,
                         seconds=ctx.s.seconds) for title, specs in pairs]
    return Result("hosts", "hello from Python and Lisp",
                  "The bindings' hello examples against each language's usual "
                  "fast server, one process each. Hunchentoot uses its default "
                  "thread-per-connection taskmaster (its single-threaded one "
                  "serves one keep-alive connection at a time).", tables)


CPU_US = Metric("cpu_us", "server CPU µs/request", 2)


def _wrk_cpu(ctx, srv, url_path="", **wrk_args):
    """wrk against `srv`, with the server's CPU time (every process and
    thread of it, user + system) per response measured over the same run."""
    pids = srv.pids()
    before = cpu_seconds(pids)
    res = load.wrk(srv.url + url_path, ctx.log, **wrk_args)
    res["cpu_us"] = (cpu_seconds(pids) - before) * 1e6 / max(res["requests"], 1)
    return res


def _cpu_table(ctx, title, specs, **wrk_args):
    table = Table(title, [RPS, CPU_US, ERRORS], c10k=specs[0].name)

    def measure(name, srv):
        table.add(name, _wrk_cpu(ctx, srv, **wrk_args))
    interleave(ctx, specs, [table], measure)
    return table


def _cpu_target(text, table, peer, at_most):
    r = ratio(table.median(table.c10k, "cpu_us"), table.median(peer, "cpu_us"))
    return Target(text, None if r is None else r <= at_most,
                  _unmeasured(table) if r is None else f"{r:.2f}× {peer}")


def python(ctx):
    c100 = dict(conns=100, seconds=ctx.s.seconds)
    piped = dict(c100, script="pipeline.lua")
    inline, wsgi = servers.python_c10k(), servers.python_c10k_wsgi()
    floor = hello_http()
    t_inline = _cpu_table(ctx, "inline hello, wrk -t1 -c100",
                          [inline, servers.uvloop_peer(), floor], **c100)
    t_piped = _cpu_table(ctx, "inline hello, wrk -t1 -c100, 16 pipelined",
                         [inline, servers.socketify_peer(), floor], **piped)
    t_wsgi = _cpu_table(ctx, "WSGI hello, wrk -t1 -c100",
                        [wsgi, servers.bjoern_peer(), servers.granian_wsgi_peer(),
                         floor], **c100)
    t_wsgi_piped = _cpu_table(ctx, "WSGI hello, wrk -t1 -c100, 16 pipelined",
                              [wsgi, inline, floor], **piped)
    return Result(
        "python", "the Python binding against Python's fast servers",
        "Server CPU time per request (all its threads, user + system, over "
        "the same wrk run) beside req/s; the C hello_http is the floor (the "
        "kernel's share). c10k's rows: bindings/python/examples/hello.py "
        "(inline) and bindings/python/bench/wsgi_hello.py (WSGI app on the "
        "loop thread); peers in bench/peers/.",
        [t_inline, t_piped, t_wsgi, t_wsgi_piped],
        [_cpu_target("inline hello CPU/request ≤ 1.0× uvloop+httptools",
                     t_inline, "uvloop+httptools", 1.0),
         _cpu_target("inline pipelined CPU/request ≤ 0.5× socketify",
                     t_piped, "socketify", 0.5),
         _cpu_target("WSGI hello CPU/request ≤ 1.0× bjoern", t_wsgi, "bjoern", 1.0),
         _cpu_target("WSGI hello CPU/request ≤ 0.7× granian wsgi", t_wsgi,
                     "granian wsgi", 0.7),
         _cpu_target("WSGI pipelined CPU/request ≤ 1.5× inline hello",
                     t_wsgi_piped, "python c10k", 1.5)])


def python_asgi(ctx):
    c100 = dict(conns=100, seconds=ctx.s.seconds)
    t_asgi = _cpu_table(ctx, "ASGI hello, wrk -t1 -c100",
                        [servers.c10k_asgi(), servers.uvicorn_peer(),
                         servers.granian_asgi_peer(), hello_http()], **c100)
    workers = [servers.c10k_flask_workers(), servers.gunicorn_flask_workers(),
               servers.granian_flask_workers()]
    table = Table("Flask JSON endpoint, 2 processes, wrk -t1 -c100 GET /json",
                  [RPS, CPU_US, ERRORS], c10k=workers[0].name)

    def measure(name, srv):
        table.add(name, _wrk_cpu(ctx, srv, url_path="json", **c100))
    interleave(ctx, workers, [table], measure)
    return Result(
        "python_asgi", "ASGI and process workers against uvicorn, granian, gunicorn",
        "Server CPU time per request (every process and thread, user + system, "
        "over the same wrk run) beside req/s. ASGI: bench/peers/asgi_hello.py "
        "(a raw ASGI app) under `python -m c10k --interface asgi`, uvicorn "
        "(uvloop, httptools) and granian (one worker, one runtime thread); the "
        "C hello_http is the floor. Workers: bench/peers/flask_json.py under "
        "`python -m c10k --interface wsgi --workers 2 --threads 8`, gunicorn "
        "-w 2 -k gthread --threads 8, granian --workers 2 --blocking-threads 8.",
        [t_asgi, table],
        [_cpu_target("ASGI hello CPU/request ≤ 0.5× uvicorn", t_asgi, "uvicorn", 0.5),
         _cpu_target("ASGI hello CPU/request ≤ 0.7× granian asgi", t_asgi,
                     "granian asgi", 0.7)])


def lisp(ctx):
    cpu = Metric("cpu_us", "server CPU per request (µs)", 2)
    specs = [servers.lisp_clack(), servers.hunchentoot_peer(),
             servers.c10k_example("hello_http", "--loops", "1", name="C hello_http")]
    table = Table("wrk -t1 -c100, keep-alive, GET /", [RPS, cpu, P99, ERRORS],
                  c10k=specs[0].name)

    warm = set()

    def measure(name, srv):
        if name not in warm:
            # Unrecorded warm-up: Hunchentoot's first requests (CLOS
            # dispatch caches filled by 100 threads at once) stall it for
            # seconds, which a first measured round would count.
            warm.add(name)
            load.wrk(srv.url, ctx.log, conns=1, seconds=1)
            load.wrk(srv.url, ctx.log, conns=100, seconds=1)
        cpu0 = cpu_seconds(srv.pids())
        res = load.wrk(srv.url, ctx.log, conns=100, seconds=ctx.s.seconds)
        res["cpu_us"] = ((cpu_seconds(srv.pids()) - cpu0) * 1e6
                         / max(res["requests"], 1))
        table.add(name, res)
    interleave(ctx, specs, [table], measure)
    cpu_ratio = ratio(table.median(table.c10k, "cpu_us"),
                      table.median("C hello_http", "cpu_us"))
    return Result("lisp", "Lisp: a Lack app on the Clack handler vs Hunchentoot",
                  "examples/clack-hello.lisp (clack.handler.c10k:run, one loop) "
                  "against bench/peers/hunchentoot_hello.lisp on the same SBCL, "
                  "and the C hello_http for the CPU cost of a request: server "
                  "utime+stime from /proc/PID/stat over the wrk run, divided "
                  "by the requests wrk counted.", [table],
                  [ratio_target("lisp clack ≥ 5× Hunchentoot req/s", table,
                                "rps", "hunchentoot", 5),
                   Target("lisp clack CPU/request ≤ 1.25× C hello_http",
                          None if cpu_ratio is None else cpu_ratio <= 1.25,
                          _unmeasured(table) if cpu_ratio is None
                          else f"{cpu_ratio:.2f}× C hello_http")])


def connections(ctx):
    seconds = min(ctx.s.seconds, 3)
    tables = {c: Table(f"{c:,} connections, wrk -t{min(c, 2)} -d{seconds}s",
                       [RPS, P99, ERRORS], c10k="c10k") for c in ctx.s.sweep}

    def measure(name, srv):
        for c, t in tables.items():
            t.add(name, load.wrk(srv.url, ctx.log, threads=min(c, 2),
                                 conns=c, seconds=seconds))
    interleave(ctx, [hello_http(), servers.nginx()], list(tables.values()),
               measure)
    return Result("connections", "req/s and p99 against connection count",
                  "Data for bench/results/connections.svg.",
                  list(tables.values()))


def _ws_scenarios():
    from .ws import ws_broadcast, ws_echo  # ws imports this module's helpers
    return ws_echo, ws_broadcast


SCENARIOS = {f.__name__: f for f in (
    hello, pipelined, multicore, c10k, idle, sustained, static, syscalls,
    deferred, workers, hosts, lisp, python, python_asgi, connections, *_ws_scenarios())}

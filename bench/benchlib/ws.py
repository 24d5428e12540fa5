"""The WebSocket scenarios: c10k's websocket_echo and chat examples
against socketify (uWebSockets) and `websockets` on uvloop, driven by
bench/ws_load.py (echo) and bench/ws_broadcast_client.c. Server CPU is utime+stime of the server's processes
from /proc, read after the clients have connected and after the run."""
import json
import shlex
import subprocess
import sys

from . import servers
from .procs import cpu_seconds
from .report import Metric, Result, Table, Target, ratio
from .settings import BENCH_DIR, REPO, VENV
from .scenarios import interleave, limit_target

CPU_MSG = Metric("cpu_us", "server CPU µs per message", 2)
LOST = Metric("lost", "messages lost")


def _peer(script_mode, name):
    python = VENV / "bin" / "python"
    script = BENCH_DIR / "peers" / script_mode[0]
    return servers.Spec(
        name=name, timeout=30, missing=servers._need_files(python),
        argv=lambda h, p, w: [str(python), str(script), script_mode[1], f"{h}:{p}"])


def _specs(c10k_example, mode):
    return [servers.c10k_example(c10k_example, "--loops", "1"),
            _peer(("socketify_ws.py", mode), "socketify"),
            _peer(("websockets_ws.py", mode), "websockets+uvloop")]


def _bench_binary(name):
    """bench/NAME.c, built with cc into target/bench-bin; None without cc.
    (ws_broadcast_client: a Python client cannot read 100,000 deliveries a
    second.)"""
    source = BENCH_DIR / f"{name}.c"
    binary = REPO / "target" / "bench-bin" / name
    newest = max(source.stat().st_mtime, (BENCH_DIR / "bench_c.h").stat().st_mtime)
    if not binary.exists() or binary.stat().st_mtime < newest:
        binary.parent.mkdir(parents=True, exist_ok=True)
        built = subprocess.run(["cc", "-std=c99", "-O2", "-pthread", "-o", str(binary), str(source)])
        if built.returncode != 0:
            return None
    return binary


def _send_floor(ctx, table, recipients):
    """What the kernel alone charges a sender per loopback TCP send of a
    broadcast frame (bench/tcp_send_floor.c, no server): one sending thread
    needs recipients times that per broadcast, whatever the server."""
    floor = _bench_binary("tcp_send_floor")
    if not floor:
        table.note("send(2) alone", "no cc")
        return
    argv = [str(floor), "1000", "21", "66"]
    ctx.log(shlex.join(argv))
    res = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout)
    table.add("send(2) alone", {"send_us": res["send_us"], "round_ms": res["send_us"] * recipients / 1e3})


def _load(ctx, srv, argv, timeout):
    """Runs a load client: connect, read the server's CPU, go, read it again."""
    argv = [str(a) for a in argv]
    ctx.log(shlex.join(argv))
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready = p.stdout.readline()
        if not ready:
            raise RuntimeError("ws_load.py failed to connect")
        cpu0 = cpu_seconds(srv.pids())
        p.stdin.write("go\n")
        p.stdin.flush()
        out = p.stdout.readline()
        cpu = cpu_seconds(srv.pids()) - cpu0
        p.wait(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if not out:
        raise RuntimeError("ws_load.py gave no result")
    return json.loads(out), cpu


def ws_echo(ctx):
    seconds = ctx.s.seconds
    table = Table("100 clients, 32-byte binary message, wait for its echo", [
        Metric("msgs", "messages/s"), CPU_MSG], c10k="c10k")

    def measure(name, srv):
        res, cpu = _load(ctx, srv, [sys.executable, BENCH_DIR / "ws_load.py", "echo", srv.addr,
                                    "--conns", 100, "--size", 32, "--seconds", seconds], seconds + 60)
        table.add(name, {"msgs": res["msgs_per_s"], "cpu_us": cpu * 1e6 / max(res["messages"], 1)})
    interleave(ctx, _specs("websocket_echo", "echo"), [table], measure)
    r = ratio(table.median("c10k", "cpu_us"), table.median("socketify", "cpu_us"))
    return Result("ws_echo", "WebSocket echo: websocket_echo vs socketify vs websockets",
                  "bench/ws_load.py (Python, one process) keeps one 32-byte "
                  "message in flight on each of 100 connections. The client is "
                  "slower than every server here, so messages/s mostly measures "
                  "it; compare the server CPU per message.", [table],
                  [Target("ws echo CPU/message ≤ 1.2× socketify",
                          None if r is None else r <= 1.2,
                          "—" if r is None else f"{r:.2f}× socketify")])


def ws_broadcast(ctx):
    clients = 2_000 if ctx.s.quick else 10_000
    seconds = ctx.s.seconds
    table = Table(f"{clients:,} clients, 64-byte message broadcast 10×/s for {seconds} s", [
        Metric("deliveries", "deliveries/s"), Metric("p99", "p99 delivery latency (ms)", 1),
        Metric("cpu_us", "server CPU µs per delivery", 3), LOST,
        Metric("spread", "first to last delivery of a message, median (ms)", 1),
        Metric("client_cpu", "client CPU µs per delivery", 3)], c10k="c10k")
    floor = Table("The kernel's share: a loopback TCP send of one 66-byte frame, no server", [
        Metric("send_us", "sender CPU µs per send", 3),
        Metric("round_ms", f"CPU ms to send one message to {clients:,} (one thread)", 1)])
    _send_floor(ctx, floor, clients)

    client = _bench_binary("ws_broadcast_client")

    def measure(name, srv):
        if client:
            argv = [client, srv.addr, clients, seconds, 10, 64]
        else:
            argv = [sys.executable, BENCH_DIR / "ws_load.py", "broadcast", srv.addr, "--conns", clients,
                    "--rate", 10, "--size", 64, "--seconds", seconds, "--procs", 2, "--workdir", ctx.workdir]
        res, cpu = _load(ctx, srv, argv, seconds + 180)
        values = {"deliveries": res["deliveries_per_s"], "p99": res["p99_ms"],
                  "cpu_us": cpu * 1e6 / max(res["deliveries"], 1), "lost": res["lost"],
                  "spread": res.get("spread_p50_ms"), "client_cpu": res.get("client_cpu_us")}
        table.add(name, {k: v for k, v in values.items() if v is not None})
    # One sending thread needs the floor table's time per broadcast; the
    # second c10k row shows what spreading the sends over two loops gives.
    two_loops = servers.c10k_example("chat", "--loops", "2", name="c10k 2 loops")
    interleave(ctx, _specs("chat", "chat") + [two_loops], [table], measure)
    r = ratio(table.median("c10k", "cpu_us"), table.median("socketify", "cpu_us"))
    return Result("ws_broadcast", "WebSocket broadcast: chat vs socketify vs websockets",
                  "bench/ws_broadcast_client.c (one process, epoll; bench/ws_load.py "
                  "when there is no cc) connects the clients from 127.0.0.2-21, then "
                  "one publisher thread sends a 64-byte message ten times a second; "
                  "each server sends it to every client (chat: c10k_ws_broadcast; "
                  "socketify: a topic; websockets: broadcast()). Latency is from the "
                  "publisher's send to each client's read, so it includes the "
                  "client's own delay in reading 10,000 sockets on the same CPUs "
                  "(it reads in batches, napping 1 ms when fewer than 512 sockets "
                  "are ready, which saves it a quarter to a half of its CPU). The spread of a message, from "
                  "its first delivery to its last, is about how long the server "
                  "takes to hand one broadcast to the kernel. The second table is "
                  "that hand-over's floor: what one send(2) costs on loopback with "
                  "no server, times the recipients.", [table, floor],
                  [Target("ws broadcast CPU/delivery ≤ socketify",
                          None if r is None else r <= 1.0,
                          "—" if r is None else f"{r:.2f}× socketify"),
                   limit_target("ws broadcast p99 < 50 ms", table, "p99", 50, " ms"),
                   limit_target("ws broadcast: 0 lost (worst round)", table, "lost", 0,
                                stat=max)])

"""Kernel and server memory for N idle keep-alive connections to hello_http
(docs/DEPLOYMENT.md): /proc/net/sockstat and the server's VmRSS before and
after. Usage: python3 bench/idle_sockstat.py [N]   (after `make examples`)"""
import os
import resource
import socket
import subprocess
import sys
import time

resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
def sockstat():
    for line in open("/proc/net/sockstat"):
        if line.startswith("TCP:"):
            f = line.split(); return dict(zip(f[1::2], map(int, f[2::2])))
def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"): return int(line.split()[1])
p = subprocess.Popen([os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "examples-c", "hello_http"), "127.0.0.1:0", "--loops", "2"], stdout=subprocess.PIPE, text=True,
                     preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000)))
port = int(p.stdout.readline().rsplit(":", 1)[1])
time.sleep(0.3)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
before, r0 = sockstat(), rss(p.pid)
conns = []
for i in range(N):
    s = socket.socket(); s.setsockopt(socket.SOL_IP, 24, 1)  # IP_BIND_ADDRESS_NO_PORT
    s.bind((f"127.0.0.{2 + i // 20000}", 0)); s.connect(("127.0.0.1", port)); conns.append(s)
time.sleep(1)
after, r1 = sockstat(), rss(p.pid)
print(f"{N} idle connections: kernel TCP mem {after['mem'] - before['mem']} pages (both ends), server RSS +{r1 - r0} KiB ({(r1 - r0) * 1024 / N:.0f} B/conn)")
for s in conns: s.close()
p.terminate(); p.wait()

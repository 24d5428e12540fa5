#!/usr/bin/env bash
# Requests per second of examples/hello.lisp (c10k) and of the same handler
# on Hunchentoot, both on SBCL, measured in one run with the same wrk load,
# alternating ROUNDS times (the figures of a shared machine vary).
#   bindings/lisp/bench/run.sh [SECONDS] [CONNECTIONS] [ROUNDS]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${1:-5}"
connections="${2:-100}"
rounds="${3:-1}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }

measure() {  # name script port
    local name="$1" script="$2" port="$3" pid line
    sbcl --script "$script" "127.0.0.1:$port" > "/tmp/c10k-bench-$port.out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        grep -q "listening on" "/tmp/c10k-bench-$port.out" 2>/dev/null && break
        sleep 0.1
    done
    curl -sf "http://127.0.0.1:$port/" >/dev/null
    wrk -t1 -c"$connections" -d2s "http://127.0.0.1:$port/" >/dev/null   # warm-up
    line="$(wrk -t1 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port/")"
    kill -TERM "$pid"; wait "$pid" || true
    printf '%-12s %10s req/s   p50 %8s   p99 %8s   errors: %s\n' "$name" \
        "$(awk '/Requests\/sec/ {print $2}' <<<"$line")" \
        "$(awk '$1 == "50%" {print $2}' <<<"$line")" \
        "$(awk '$1 == "99%" {print $2}' <<<"$line")" \
        "$(grep -E 'Socket errors|Non-2xx' <<<"$line" | tr '\n' ' ' || echo none)"
}

echo "wrk -t1 -c$connections -d${seconds}s, GET /, $(nproc) CPUs, $(sbcl --version)"
for _ in $(seq "$rounds"); do
    measure "c10k" "$here/../examples/hello.lisp" 18181
    measure "hunchentoot" "$here/hunchentoot-hello.lisp" 18182
done

#!/usr/bin/env bash
# Requests per second of examples/hello.lisp (c10k on one loop, and on two
# loops) and of the same handler on Hunchentoot, all on SBCL, with the same
# wrk load, alternating ROUNDS times (the figures of a shared machine vary);
# the medians come last.
#   bindings/lisp/bench/run.sh [SECONDS] [CONNECTIONS] [ROUNDS]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${1:-5}"
connections="${2:-100}"
rounds="${3:-1}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk"; exit 1; }
results="$(mktemp)"
trap 'rm -f "$results"' EXIT

measure() {  # name port script [arguments...]
    local name="$1" port="$2" script="$3" pid line rps
    shift 3
    sbcl --script "$script" "127.0.0.1:$port" "$@" > "/tmp/c10k-bench-$port.out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        grep -q "listening on" "/tmp/c10k-bench-$port.out" 2>/dev/null && break
        sleep 0.1
    done
    curl -sf "http://127.0.0.1:$port/" >/dev/null
    wrk -t1 -c"$connections" -d2s "http://127.0.0.1:$port/" >/dev/null   # warm-up
    line="$(wrk -t1 -c"$connections" -d"${seconds}s" --latency "http://127.0.0.1:$port/")"
    kill -TERM "$pid"; wait "$pid" || true
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$line")"
    echo "$name $rps" >> "$results"
    printf '%-14s %10s req/s   p50 %8s   p99 %8s   errors: %s\n' "$name" "$rps" \
        "$(awk '$1 == "50%" {print $2}' <<<"$line")" \
        "$(awk '$1 == "99%" {print $2}' <<<"$line")" \
        "$(grep -E 'Socket errors|Non-2xx' <<<"$line" | tr '\n' ' ' || echo none)"
}

echo "wrk -t1 -c$connections -d${seconds}s, GET /, $(nproc) CPUs, $(sbcl --version)"
for _ in $(seq "$rounds"); do
    measure "c10k" 18181 "$here/../examples/hello.lisp"
    measure "c10k-2-loops" 18183 "$here/../examples/hello.lisp" 2
    measure "hunchentoot" 18182 "$here/hunchentoot-hello.lisp"
done
echo "medians of $rounds rounds:"
for name in c10k c10k-2-loops hunchentoot; do
    awk -v n="$name" '$1 == n {print $2}' "$results" | sort -n |
        awk -v n="$name" '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                          printf "%-14s %10.0f req/s\n", n, m}'
done

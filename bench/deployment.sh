#!/bin/bash
# Layouts side by side (docs/DEPLOYMENT.md): hello_http with 1 and 2 loops,
# with --processes 2, and behind HAProxy (send-proxy-v2) with 2 back-ends.
# Short wrk runs (4 s, 100 connections) on loopback; needs wrk and haproxy.
# Usage: bench/deployment.sh   (after `make examples`)
H=${HELLO:-$(dirname "$0")/../target/examples-c/hello_http}
H=$(realpath "$H")
dir=$(mktemp -d); trap "rm -rf $dir" EXIT; cd "$dir"
start() { "$@" > out.$$ & pid=$!; for i in $(seq 50); do grep -q listening out.$$ 2>/dev/null && break; sleep 0.1; done; port=$(sed -n 's/.*://p' out.$$); rm -f out.$$; }
run() { echo "== $1"; wrk -t1 -c100 -d4s --latency http://127.0.0.1:$2/ | grep -E "Requests/sec|99%|Socket errors|Non-2xx"; }
start $H 127.0.0.1:0 --loops 2; run "loops 2" $port; kill -TERM $pid; wait $pid
start $H 127.0.0.1:0 --processes 2; run "processes 2" $port; kill -TERM $pid; wait $pid
start $H 127.0.0.1:0 --loops 1; run "loops 1" $port; kill -TERM $pid; wait $pid
start $H 127.0.0.1:0 --proxy-protocol --health-path /healthz; pa=$port; a=$pid
start $H 127.0.0.1:0 --proxy-protocol --health-path /healthz; pb=$port; b=$pid
fe=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat > hap.cfg <<CFG
global
    maxconn 4000
defaults
    mode http
    timeout connect 2s
    timeout client 20s
    timeout server 20s
frontend fe
    bind 127.0.0.1:$fe
    default_backend be
backend be
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 1s send-proxy-v2 check-send-proxy
    server a 127.0.0.1:$pa check
    server b 127.0.0.1:$pb check
CFG
${HAPROXY:-/usr/sbin/haproxy} -db -q -f hap.cfg & hp=$!; sleep 1
run "haproxy (1 thread default nbthread) -> 2 x hello_http --proxy-protocol" $fe
kill -TERM $hp $a $b; wait

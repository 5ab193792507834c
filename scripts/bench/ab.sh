#!/usr/bin/env bash
# Compares builds of the ingress back to back: runs `serve --role ingress`
# from BIN on a scratch database, drives it with wrk for 15 s from the request
# file of `scripts/bench/wrk.sh` (pre-signed Keeta requests), prints the
# gateway CPU per stored webhook, req/s, p99 and peak RSS. Alternate two
# builds several times: the noise between runs is a few µs.
#   scripts/bench/ab.sh /tmp/hookgate-before before; scripts/bench/ab.sh target/release/hookgate after
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$1; label=$2
. scripts/bench/lib.sh
bench_setup keeta 250000
gateway_start ingress hookgate_ab /tmp/ab.log
t0=$(cpu_of $gw)
out=$(REQUESTS=$file THREADS=2 wrk -t2 -c64 -d15s --latency -s scripts/bench/requests.lua http://127.0.0.1:8080)
t1=$(cpu_of $gw)
rss=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$gw/status)
n=$(psql -tA -h 127.0.0.1 -U postgres -d $db -c "SELECT count(*) FROM notifications")
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); p99=$(echo "$out" | awk '$1=="99%" {print $2}')
echo "$label: $(( (t1 - t0) * 1000000 / ticks / n )) µs/webhook, $rps req/s, p99 $p99, RSS peak ${rss} MiB"

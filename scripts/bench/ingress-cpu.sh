#!/usr/bin/env bash
# Ingress CPU per request: runs `hookgate serve --role ingress` (release) with
# the demo tenant on a scratch database, drives it with `hookgate bench`
# (closed loop, 64 connections, unique signed Keeta bodies, events not
# consumed) and divides the gateway process's CPU time (user + system, from
# /proc/<pid>/stat) by the requests acknowledged.
#
#   scripts/bench/ingress-cpu.sh            # 15 s of keeta order-accepted
#   SECS=30 KIND=bh scripts/bench/ingress-cpu.sh
#   BIN=/tmp/hookgate-before scripts/bench/ingress-cpu.sh   # a build made elsewhere
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${SECS:-15}
kind=${KIND:-keeta}
. scripts/bench/lib.sh
bench_bin
gateway_start ingress hookgate_ingress_cpu /tmp/hookgate-ingress-cpu.log
cpu() { cpu_of $gw; }
before=$(cpu)
report=$($bin bench --kind "$kind" --no-consume --mode closed --concurrency 64 --duration "$secs" --json)
after=$(cpu)
acked=$(echo "$report" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["acked"])')
echo "$report" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("acked", r["acked"], "acks/s", r["acks_per_s"], "p99 ms", r["ack_latency"]["p99_ms"])'
echo "ingress CPU: $(( (after - before) * 1000000 / ticks / acked )) µs per request ($(( after - before )) ticks over $acked requests)"

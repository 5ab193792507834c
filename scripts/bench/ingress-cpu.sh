#!/usr/bin/env bash
# Ingress CPU per request: runs `hookgate serve --role ingress` (release) with
# the demo tenant on a scratch database, drives it with `hookgate bench`
# (closed loop, 64 connections, unique signed Keeta bodies, events not
# consumed) and divides the gateway process's CPU time (user + system, from
# /proc/<pid>/stat) by the requests acknowledged.
#
#   scripts/bench/ingress-cpu.sh            # 15 s of keeta order-accepted
#   SECS=30 KIND=bh scripts/bench/ingress-cpu.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${SECS:-15}
kind=${KIND:-keeta}
db=hookgate_ingress_cpu
cargo build --release -q -p hookgate-cli
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
export HOOKGATE__DATABASE__URL="postgres://postgres@127.0.0.1:5432/$db"
export HOOKGATE__TELEMETRY__LOG_FILTER=warn
./target/release/hookgate serve --role ingress >/tmp/hookgate-ingress-cpu.log 2>&1 & gw=$!
trap 'kill $gw 2>/dev/null || true; wait $gw 2>/dev/null || true; psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:8080/healthz >/dev/null && break; sleep 0.2; done
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$gw/stat"; }
before=$(cpu)
report=$(./target/release/hookgate bench --kind "$kind" --no-consume --mode closed --concurrency 64 --duration "$secs" --json)
after=$(cpu)
acked=$(echo "$report" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["acked"])')
echo "$report" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("acked", r["acked"], "acks/s", r["acks_per_s"], "p99 ms", r["ack_latency"]["p99_ms"])'
echo "ingress CPU: $(( (after - before) * 1000000 / ticks / acked )) µs per request ($(( after - before )) ticks over $acked requests)"

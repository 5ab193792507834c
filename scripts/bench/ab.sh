#!/usr/bin/env bash
# Compares builds of the ingress back to back: runs `serve --role ingress`
# from BIN on a scratch database, drives it with wrk for 15 s from the request
# file of `scripts/bench/wrk.sh` (pre-signed Keeta requests), prints the
# gateway CPU per stored webhook, req/s, p99 and peak RSS. Alternate two
# builds several times: the noise between runs is a few µs.
#   scripts/bench/ab.sh /tmp/hookgate-before before; scripts/bench/ab.sh target/release/hookgate after
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -s /tmp/hookgate-requests-keeta.tsv ] || ./target/release/hookgate bench --kind keeta --write-requests /tmp/hookgate-requests-keeta.tsv --requests 250000 >/dev/null
bin=$1; label=$2; db=hookgate_ab
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" 2>/dev/null
export HOOKGATE__DATABASE__URL="postgres://postgres@127.0.0.1:5432/$db" HOOKGATE__TELEMETRY__LOG_FILTER=warn
$bin serve --role ingress >/tmp/ab.log 2>&1 & gw=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:8081/readyz >/dev/null && break; sleep 0.2; done
t0=$(awk '{print $14 + $15}' /proc/$gw/stat)
out=$(REQUESTS=/tmp/hookgate-requests-keeta.tsv THREADS=2 wrk -t2 -c64 -d15s --latency -s scripts/bench/requests.lua http://127.0.0.1:8080)
t1=$(awk '{print $14 + $15}' /proc/$gw/stat)
rss=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$gw/status)
n=$(psql -tA -h 127.0.0.1 -U postgres -d $db -c "SELECT count(*) FROM notifications")
kill $gw; wait $gw 2>/dev/null || true
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); p99=$(echo "$out" | awk '$1=="99%" {print $2}')
echo "$label: $(( (t1 - t0) * 10000 / n )) µs/webhook, $rps req/s, p99 $p99, RSS peak ${rss} MiB"

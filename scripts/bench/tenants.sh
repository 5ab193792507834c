#!/usr/bin/env bash
# How cost grows with the tenants configured (issue 14): a copy of config/
# with N tenants (the demo tenant and N-1 copies of it under other ids, each
# with all seven sources), `serve --role ingress` on a scratch database:
# startup time until /readyz, RSS after startup, and then wrk against the
# demo tenant (pre-signed Keeta requests, closed loop 64, 15 s).
#
#   scripts/bench/tenants.sh 10000
#   BIN=/tmp/hookgate-before scripts/bench/tenants.sh 100
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100}
db=hookgate_tenants
. scripts/bench/lib.sh
bench_setup keeta 250000
cfg=$(mktemp -d)
cp -r config/. "$cfg/"
for i in $(seq 2 "$n"); do
  sed -e "s/^id = \"demo\"/id = \"t$i\"/" -e "s/^exchange = \"hookgate.demo\"/exchange = \"hookgate.t$i\"/" \
    config/tenants.d/demo.toml >"$cfg/tenants.d/t$i.toml"
done
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
export HOOKGATE__DATABASE__URL="postgres://postgres@127.0.0.1:5432/$db"
export HOOKGATE__TELEMETRY__LOG_FILTER=warn
# The file watch would poll N files every 2 s; the run measures requests.
export HOOKGATE__TENANTS__WATCH=false
gw=
cleanup() {
  [ -n "$gw" ] && { kill "$gw" 2>/dev/null || true; wait "$gw" 2>/dev/null || true; }
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  rm -rf "$cfg"
}
trap cleanup EXIT
start=$(date +%s.%N)
$bin serve --role ingress --config "$cfg" >/tmp/hookgate-tenants.log 2>&1 & gw=$!
until curl -sf http://127.0.0.1:8081/readyz >/dev/null; do
  kill -0 "$gw" 2>/dev/null || { tail -5 /tmp/hookgate-tenants.log; exit 1; }
  sleep 0.05
done
ready=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$gw/status)
out=$(REQUESTS=$file THREADS=2 wrk -t2 -c64 -d15s --latency -s scripts/bench/requests.lua http://127.0.0.1:8080)
peak=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$gw/status)
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}'); p99=$(echo "$out" | awk '$1=="99%" {print $2}')
awk -v n="$n" -v s="$start" -v r="$ready" -v rss="$rss" -v peak="$peak" -v rps="$rps" -v p99="$p99" \
  'BEGIN { printf "%d tenants: ready in %.2f s, RSS %d MiB after startup (%d MiB peak), %s acks/s, p99 %s\n", n, r - s, rss, peak, rps, p99 }'

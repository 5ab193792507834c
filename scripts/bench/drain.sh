#!/usr/bin/env bash
# Backlog drain (issue 14): fills the outbox with `serve --role ingress` under
# wrk (pre-signed unique Keeta requests), stops it, then starts
# `serve --role dispatcher` on that backlog and times it until the outbox
# holds nothing pending. Prints events/s and the CPU per event of the relay,
# PostgreSQL, RabbitMQ and Redis (from /proc).
#
#   scripts/bench/drain.sh                 # ~100,000 pending (FILL_SECS=16)
#   BIN=/tmp/hookgate-before scripts/bench/drain.sh
#   CONFIG=/tmp/unsigned scripts/bench/drain.sh   # another configuration directory
set -euo pipefail
cd "$(dirname "$0")/../.."
fill_secs=${FILL_SECS:-16}
config=${CONFIG:-config}
db=hookgate_drain
. scripts/bench/lib.sh
bench_setup keeta 250000
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
export HOOKGATE__DATABASE__URL="postgres://postgres@127.0.0.1:5432/$db"
export HOOKGATE__TELEMETRY__LOG_FILTER=warn
# A dedupe namespace of its own: the request file is the same on every run,
# and events already seen (an earlier run) would be skipped, not published.
export HOOKGATE__REDIS__KEY_PREFIX="hookgate-bench-$(date +%s%N)"
rabbitmqctl -q purge_queue hookgate.unrouted >/dev/null 2>&1 || true
gw=
cleanup() {
  [ -n "$gw" ] && { kill "$gw" 2>/dev/null || true; wait "$gw" 2>/dev/null || true; }
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  rabbitmqctl -q purge_queue hookgate.unrouted >/dev/null 2>&1 || true
}
trap cleanup EXIT
ready() { for _ in $(seq 100); do curl -sf http://127.0.0.1:8081/readyz >/dev/null && return; sleep 0.2; done; }
q() { psql -tA -h 127.0.0.1 -U postgres -d $db -c "$1"; }

$bin --config "$config" serve --role ingress >/tmp/hookgate-drain-ingress.log 2>&1 & gw=$!
ready
REQUESTS=$file THREADS=2 wrk -t2 -c64 -d"${fill_secs}s" -s scripts/bench/requests.lua http://127.0.0.1:8080 >/dev/null
kill "$gw"; wait "$gw" 2>/dev/null || true; gw=
backlog=$(q "SELECT count(*) FROM outbox WHERE status = 'pending'")
echo "backlog: $backlog pending"
q "VACUUM ANALYZE" >/dev/null

HOOKGATE__TELEMETRY__LOG_FILTER=${DISPATCHER_LOG:-warn} $bin --config "$config" serve --role dispatcher >/tmp/hookgate-drain-dispatcher.log 2>&1 & gw=$!
ready
g0=$(cpu_of $gw); p0=$(cpu_named postgres); m0=$(cpu_named beam.smp); r0=$(cpu_named redis-server)
start=$(date +%s.%N)
while :; do
  left=$(q "SELECT count(*) FROM outbox WHERE status = 'pending'")
  [ "$left" = 0 ] && break
  sleep 0.25
done
end=$(date +%s.%N)
g1=$(cpu_of $gw); p1=$(cpu_named postgres); m1=$(cpu_named beam.smp); r1=$(cpu_named redis-server)
events=$(q "SELECT count(*) FROM events WHERE published_at IS NOT NULL"); q "SELECT status, count(*) FROM outbox GROUP BY 1" | sed "s/^/outbox: /"; q "SELECT count(*) FROM events" | sed "s/^/events rows: /"
per() { echo $(( ($2 - $1) * 1000000 / ticks / (events > 0 ? events : 1) )); }
awk -v n="$events" -v s="$start" -v e="$end" 'BEGIN { printf "drained %d events in %.2f s: %.0f events/s\n", n, e - s, n / (e - s) }'
echo "CPU per event (µs): hookgate $(per $g0 $g1), postgresql $(per $p0 $p1), rabbitmq $(per $m0 $m1), redis $(per $r0 $r1)"
echo "RSS: $(awk '/VmHWM/ {print $2/1024 " MiB peak"}' /proc/$gw/status)"

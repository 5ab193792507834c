#!/usr/bin/env bash
# External-client figures (issue 14): wrk against a release gateway with the
# demo tenant on a scratch database, pre-signed unique Keeta bodies, the
# cost per webhook of every process from /proc, and whether every acked
# webhook was published.
#
#   scripts/bench/wrk.sh                      # full gateway, closed loop 64, 15 s
#   ROLE=ingress scripts/bench/wrk.sh         # serve --role ingress
#   SECS=30 CONNS=256 KIND=bh scripts/bench/wrk.sh
#   BIN=/tmp/hookgate-before scripts/bench/wrk.sh   # a build made elsewhere
#   BODY=16384 COUNT=100000 scripts/bench/wrk.sh   # bodies padded to 16 KiB
#   PREFILL=10000000 scripts/bench/wrk.sh          # 10 M webhooks stored before the load
#   CONSOLE_REFRESH=2 scripts/bench/wrk.sh         # a console overview open, refreshed every 2 s
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${SECS:-15}
conns=${CONNS:-64}
role=${ROLE:-all}
kind=${KIND:-keeta}
count=${COUNT:-250000}
# BIN: another build to measure (e.g. the one before a change); else this tree's release build.
. scripts/bench/lib.sh
[ -n "${CONSOLE_REFRESH:-}" ] && export HOOKGATE_ADMIN_TOKEN=${HOOKGATE_ADMIN_TOKEN:-bench-$(date +%s%N)}
bench_setup "$kind" "$count"
gateway_start "$role" hookgate_wrk /tmp/hookgate-wrk.log
if [ "${PREFILL:-0}" -gt 0 ]; then
  t=$(date +%s)
  psql -q -h 127.0.0.1 -U postgres -d "$db" -v n="$PREFILL" -f scripts/bench/prefill.sql
  psql -q -h 127.0.0.1 -U postgres -d "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
  echo "prefilled $PREFILL webhooks in $(( $(date +%s) - t )) s; database $(psql -tA -h 127.0.0.1 -U postgres -c "SELECT pg_size_pretty(pg_database_size('$db'))")"
fi
if [ -n "${CONSOLE_REFRESH:-}" ]; then
  jar=$(mktemp); console_sign_in "$jar"
  ( while sleep "$CONSOLE_REFRESH"; do curl -sf -b "$jar" -o /dev/null http://127.0.0.1:8081/ || echo "console page failed" >&2; done ) & viewer=$!
  trap 'kill $viewer 2>/dev/null || true; kill $gw 2>/dev/null || true; wait $gw 2>/dev/null || true; psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
fi
g0=$(cpu_of $gw); p0=$(cpu_named postgres); m0=$(cpu_named beam.smp); r0=$(cpu_named redis-server)
threads=$(( conns < 2 ? 1 : 2 ))
REQUESTS=$file THREADS=$threads wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s scripts/bench/requests.lua http://127.0.0.1:8080 | tee /tmp/hookgate-wrk.out
g1=$(cpu_of $gw); p1=$(cpu_named postgres); m1=$(cpu_named beam.smp); r1=$(cpu_named redis-server)
acked=$(psql -tA -h 127.0.0.1 -U postgres -d $db -c "SELECT count(*) FROM notifications WHERE delivery_key NOT LIKE 'prefill-%'")
if [ "$role" = all ]; then
  # Every acked webhook published within a few seconds after the load.
  for _ in $(seq 50); do
    pending=$(psql -tA -h 127.0.0.1 -U postgres -d $db -c "SELECT count(*) FROM outbox WHERE status <> 'published'")
    [ "$pending" = 0 ] && break; sleep 0.2
  done
  echo "outbox not yet published 10 s after the load: $pending"
fi
per() { echo $(( ($2 - $1) * 1000000 / ticks / (acked > 0 ? acked : 1) )); }
echo "stored notifications: $acked"
echo "CPU per webhook (µs): hookgate $(per $g0 $g1), postgresql $(per $p0 $p1), rabbitmq $(per $m0 $m1), redis $(per $r0 $r1)"
echo "RSS: $(awk '/VmHWM/ {print $2/1024 " MiB peak"}' /proc/$gw/status)"

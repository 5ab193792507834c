#!/usr/bin/env bash
# Open loop (issue 14): `hookgate bench --mode open` against a release
# gateway (all roles) with the demo tenant on a scratch database. Requests
# start at a fixed rate whatever the answers do, latency counts from each
# request's scheduled send, and every event is consumed from RabbitMQ
# (end-to-end latency, lost and duplicate events). Prints the report, the
# answers by status and the gateway's peak RSS.
#
#   scripts/bench/open.sh                       # 5,000/s for 60 s
#   RATE=15000 SECS=20 CONNS=512 CAP=256 scripts/bench/open.sh   # overload
#
# CONNS bounds the requests in flight (0: a connection per request);
# ROLE=ingress runs `serve --role ingress` (nothing consumed);
# CAP sets `http.max_in_flight_commits`; BIN measures another build.
set -euo pipefail
cd "$(dirname "$0")/../.."
rate=${RATE:-5000}
secs=${SECS:-60}
conns=${CONNS:-0}
role=${ROLE:-all}
. scripts/bench/lib.sh
bench_bin
[ -n "${CAP:-}" ] && export HOOKGATE__HTTP__MAX_IN_FLIGHT_COMMITS=$CAP
gateway_start "$role" hookgate_open /tmp/hookgate-open.log
g0=$(cpu_of $gw); p0=$(cpu_named postgres); m0=$(cpu_named beam.smp); r0=$(cpu_named redis-server)
$bin bench --mode open --rate "$rate" --duration "$secs" --connections "$conns" $([ "$role" = ingress ] && echo --no-consume) --json >/tmp/hookgate-open.json
g1=$(cpu_of $gw); p1=$(cpu_named postgres); m1=$(cpu_named beam.smp); r1=$(cpu_named redis-server)
us() { echo $(( ($2 - $1) * 1000000 / ticks )); }
CPU_US="$(us $g0 $g1) $(us $p0 $p1) $(us $m0 $m1) $(us $r0 $r1)" python3 - <<'PY'
import json, os
r = json.load(open("/tmp/hookgate-open.json"))
a, e = r["ack_latency"], r["end_to_end_latency"]
print(f"offered {r['rate']}/s for {r['duration_s']} s over {r['connections'] or 'unbounded'} connections: {r['requests']} requests")
print(f"answers by status: {r['statuses']}")
print(f"ack latency of the 2xx: p50 {a['p50_ms']} ms, p99 {a['p99_ms']} ms, max {a['max_ms']} ms")
n = r["non_2xx_latency"]
if n["count"]:
    print(f"latency of the others: p50 {n['p50_ms']} ms, p99 {n['p99_ms']} ms, max {n['max_ms']} ms")
print(f"end to end: p50 {e['p50_ms']} ms, p99 {e['p99_ms']} ms; events {r['events_received']} for {r['unique_deliveries_acked']} acked, {r['events_missing']} missing, {r['duplicate_events']} duplicates")
# Over the whole bench command: preparing the requests, the load, waiting for
# the last event (scripts/bench/lib.sh: the gateway by its pid, whatever BIN
# is named; PostgreSQL with the backends that exited meanwhile).
n = max(r["unique_deliveries_acked"], 1)
cost = {g: round(int(us) / n) for g, us in zip(["hookgate", "postgresql", "rabbitmq", "redis"], os.environ["CPU_US"].split())}
print(f"outbox pending after: {r['outbox_pending_after']}; CPU per acked webhook (µs): {cost}, machine idle {r['cost'].get('machine_idle_share')}")
PY
curl -s http://127.0.0.1:8081/metrics | awk '/^hookgate_relay_claims_total/ {printf "%s %s  ", $1, $2} /^hookgate_relay_claim_rows_(sum|count)/ {printf "%s %s  ", $1, $2} END {print ""}'
echo "gateway RSS: $(awk '/VmHWM/ {print $2/1024 " MiB peak"}' /proc/$gw/status)"

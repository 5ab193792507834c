#!/usr/bin/env bash
# The console with many stored notifications: server time per page (the
# median and the slowest of $N requests over loopback, from curl's timing)
# against a release gateway whose database holds $PREFILL webhooks of the
# demo tenant (scripts/bench/prefill.sql) and five weeks of traffic rollup.
#
#   scripts/bench/console.sh                  # 10 M notifications (prefill takes minutes)
#   DB=hookgate_bench_console KEEP=1 scripts/bench/console.sh   # reuse a prefilled database
#   PREFILL=1000000 N=50 scripts/bench/console.sh
#
# The webhook path while a console page refreshes: CONSOLE_REFRESH=2 scripts/bench/wrk.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${N:-20}
prefill=${PREFILL:-10000000}
. scripts/bench/lib.sh
bench_bin
export HOOKGATE_ADMIN_TOKEN=${HOOKGATE_ADMIN_TOKEN:-bench-$(date +%s%N)}
db=${DB:-hookgate_bench_console}
export HOOKGATE__DATABASE__URL="postgres://postgres@127.0.0.1:5432/$db"
export HOOKGATE__TELEMETRY__LOG_FILTER=warn
have=$(psql -tA -h 127.0.0.1 -U postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")
if [ -z "$have" ]; then
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db"
  $bin migrate >/dev/null
  t=$(date +%s)
  psql -q -h 127.0.0.1 -U postgres -d "$db" -v n="$prefill" -f scripts/bench/prefill.sql
  echo "prefilled $prefill webhooks in $(( $(date +%s) - t )) s"
fi
# Five weeks of hourly traffic for every demo source (what the flushers
# would have written), so the overview reads a full rollup.
psql -q -h 127.0.0.1 -U postgres -d "$db" <<'SQL'
INSERT INTO traffic_hourly (tenant, source, hour, outcome, reason, count, last_at)
SELECT 'demo', s, date_trunc('hour', now()) - make_interval(hours => h), o, r, 1000 + h, now() - make_interval(hours => h)
FROM unnest(ARRAY['keeta', 'keeta-auth', 'pagsmile-issuing', 'pagsmile-payin', 'pagsmile-payout', 'bh', 'webhooks']) s,
     generate_series(0, 35 * 24) h,
     (VALUES ('accepted', ''), ('duplicate', ''), ('rejected', 'bad_signature'), ('rejected', 'malformed')) v(o, r)
ON CONFLICT DO NOTHING;
INSERT INTO source_activity (tenant, source, last_accepted_at)
SELECT 'demo', s, now() FROM unnest(ARRAY['keeta', 'bh']) s ON CONFLICT DO NOTHING;
-- A hundred parked notifications among the millions (what the parked
-- page and a status filter look for).
INSERT INTO outbox (notification_id, tenant, status, attempts, last_error)
SELECT id, tenant, 'parked', 10, 'bench: parked' FROM notifications WHERE id % 100000 = 7
ON CONFLICT DO NOTHING;
VACUUM ANALYZE;
SQL
echo "database: $(psql -tA -h 127.0.0.1 -U postgres -c "SELECT pg_size_pretty(pg_database_size('$db'))"), notifications: $(psql -tA -h 127.0.0.1 -U postgres -d "$db" -c "SELECT reltuples::bigint FROM pg_class WHERE relname = 'notifications_p0'") (estimate)"
$bin serve >/tmp/hookgate-console-bench.log 2>&1 & gw=$!
trap 'kill $gw 2>/dev/null || true; wait $gw 2>/dev/null || true; [ -n "${KEEP:-}" ] || psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:8081/readyz >/dev/null && break; sleep 0.2; done
jar=$(mktemp); console_sign_in "$jar"
last=$(psql -tA -h 127.0.0.1 -U postgres -d "$db" -c "SELECT max(id) FROM notifications")
subject=$(psql -tA -h 127.0.0.1 -U postgres -d "$db" -c "SELECT split_part(ordering_key, ':', 2) || '/' || split_part(ordering_key, ':', 3) FROM notifications WHERE id = $last")
page() { # name path
  local times
  times=$(for _ in $(seq "$n"); do curl -s -b "$jar" -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:8081$2"; done)
  if echo "$times" | grep -qv '^200 '; then echo "$1: not 200: $(echo "$times" | grep -v '^200 ' | head -1)" >&2; exit 1; fi
  echo "$times" | awk -v name="$1" '{ t[NR] = $2 * 1000 } END { asort(t); printf "%-34s median %7.1f ms   slowest %7.1f ms   (%d requests)\n", name, t[int((NR + 1) / 2)], t[NR], NR }'
}
page "overview /" "/"
page "overview partial /overview/live" "/overview/live"
page "notifications (newest 50)" "/notifications"
page "notifications ?tenant=demo&source=keeta" "/notifications?tenant=demo&source=keeta"
page "notifications ?status=parked" "/notifications?status=parked"
page "notification detail" "/notifications/$last"
page "subject timeline" "/subjects/demo/$subject"
page "rejections" "/rejections"
page "parked" "/parked"
page "tenants" "/tenants"

# Shared by the scripts/bench/*.sh runs (sourced from the repository root).
#
# bench_setup KIND COUNT: wrk installed when missing; `bin` set to $BIN (a
# build made elsewhere) or this tree's release build (built); `file` set to
# $REQUESTS or the pre-signed request file of KIND, written when missing
# (bodies padded to $BODY bytes when set).
bench_setup() {
  command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
  bench_bin
  file=${REQUESTS:-/tmp/hookgate-requests-$1${BODY:+-$BODY}.tsv}
  [ -s "$file" ] || $bin bench --kind "$1" --write-requests "$file" --requests "$2" --body-bytes "${BODY:-0}" >/dev/null
}

# bench_bin: `bin` set to $BIN or this tree's release build (built).
bench_bin() {
  if [ -z "${BIN:-}" ]; then cargo build --release -q -p hookgate-cli; fi
  bin=${BIN:-./target/release/hookgate}
}

# CPU time of processes from /proc, in clock ticks (`ticks` per second):
# their own and that of their children already reaped. A process group is
# read by name at each reading (`cpu_named postgres`): PostgreSQL starts a
# backend for each connection the pool opens during a run, and the CPU of
# one that exits lands in the postmaster's children's time.
ticks=$(getconf CLK_TCK)
pids() { pgrep -d' ' -x "$1" || true; }
cpu_of() { local t=0; for p in $*; do t=$((t + $(awk '{print $14 + $15 + $16 + $17}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }
cpu_named() { cpu_of $(pids "$1"); }

# gateway_start ROLE DB [LOG]: a scratch database DB, the gateway from `bin`
# serving ROLE on it (its pid in `gw`) with a dedupe key prefix of its own
# (request files are reused, and events seen by an earlier run would be
# skipped, not published); everything is undone on exit. GATEWAY_CPU=0.5
# holds the gateway to half a core, PG_CPU=0.2 every PostgreSQL process to a
# fifth of one (cgroup v1 CPU quotas, undone on exit), so that a client on
# the same host can offer several times the capacity.
gateway_start() {
  db=$2
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  export HOOKGATE__DATABASE__URL="postgres://postgres@127.0.0.1:5432/$db"
  export HOOKGATE__TELEMETRY__LOG_FILTER=${GATEWAY_LOG:-warn}
  export HOOKGATE__REDIS__KEY_PREFIX="hookgate-bench-$(date +%s%N)"
  # The load generator is one peer address: the per-peer budgets (which
  # protect tenants from one client) would measure themselves, not the gateway.
  export HOOKGATE__HTTP__MAX_IN_FLIGHT_PER_PEER=${PER_PEER_IN_FLIGHT:-0}
  export HOOKGATE__HTTP__MAX_BODY_BYTES_PER_PEER=${PER_PEER_BYTES:-0}
  rabbitmqctl -q purge_queue hookgate.unrouted >/dev/null 2>&1 || true
  $bin serve --role "$1" >"${3:-/tmp/hookgate-bench.log}" 2>&1 & gw=$!
  [ -n "${GATEWAY_CPU:-}" ] && cpu_quota hookgate-bench "$GATEWAY_CPU" $gw
  [ -n "${PG_CPU:-}" ] && cpu_quota hookgate-bench-pg "$PG_CPU" $(pids postgres)
  trap 'kill $gw 2>/dev/null || true; wait $gw 2>/dev/null || true; cpu_quota_undo hookgate-bench-pg; psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; rabbitmqctl -q purge_queue hookgate.unrouted >/dev/null 2>&1 || true' EXIT
  for _ in $(seq 100); do curl -sf http://127.0.0.1:8081/readyz >/dev/null && return; sleep 0.2; done
  echo "the gateway did not get ready" >&2; return 1
}

# cpu_quota NAME SHARE PID...: the processes (and their future children) held
# to SHARE of one core; cpu_quota_undo NAME moves them back.
cpu_quota() {
  local cg=/sys/fs/cgroup/cpu/$1 share=$2; shift 2
  mkdir -p "$cg"
  echo 100000 >"$cg/cpu.cfs_period_us"
  awk -v c="$share" 'BEGIN { printf "%d\n", c * 100000 }' >"$cg/cpu.cfs_quota_us"
  for p in "$@"; do echo "$p" >"$cg/cgroup.procs"; done
}
cpu_quota_undo() {
  local cg=/sys/fs/cgroup/cpu/$1
  [ -d "$cg" ] || return 0
  for p in $(cat "$cg/cgroup.procs"); do echo "$p" >/sys/fs/cgroup/cpu/cgroup.procs 2>/dev/null || true; done
}

# console_sign_in JAR: a console session of the running gateway in the curl
# cookie jar JAR, signed in with $HOOKGATE_ADMIN_TOKEN (export it before
# gateway_start: the demo configuration's token reads it).
console_sign_in() {
  local jar=$1 form
  form=$(curl -sf -c "$jar" http://127.0.0.1:8081/sign-in | sed -n 's/.*name="sign_in" value="\([0-9a-f]*\)".*/\1/p')
  curl -sf -b "$jar" -c "$jar" -o /dev/null -X POST http://127.0.0.1:8081/sign-in \
    --data-urlencode "token=$HOOKGATE_ADMIN_TOKEN" --data-urlencode "sign_in=$form" --data "next=/"
}

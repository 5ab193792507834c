# Shared by the scripts/bench/*.sh runs (sourced from the repository root).
#
# bench_setup KIND COUNT: wrk installed when missing; `bin` set to $BIN (a
# build made elsewhere) or this tree's release build (built); `file` set to
# $REQUESTS or the pre-signed request file of KIND, written when missing.
bench_setup() {
  command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
  if [ -z "${BIN:-}" ]; then cargo build --release -q -p hookgate-cli; fi
  bin=${BIN:-./target/release/hookgate}
  file=${REQUESTS:-/tmp/hookgate-requests-$1.tsv}
  [ -s "$file" ] || $bin bench --kind "$1" --write-requests "$file" --requests "$2" >/dev/null
}

# CPU time of processes from /proc, in clock ticks (`ticks` per second).
ticks=$(getconf CLK_TCK)
pids() { pgrep -d' ' -x "$1" || true; }
cpu_of() { local t=0; for p in $*; do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }

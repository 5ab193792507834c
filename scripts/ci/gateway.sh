# Sourced by the CI scripts that need a running gateway: the demo tenant on
# a database, ports and Redis key prefix of its own (the shared services are
# only used, never reconfigured).
#
#   gateway_start NAME   builds the CLI, starts `hookgate serve`, waits for
#                        /readyz; sets BIN, HTTP_PORT, ADMIN_PORT, TOKEN (the
#                        admin API's), DB, GATEWAY_PID, GATEWAY_LOG
#   gateway_stop         stops it and drops its database (safe to call twice)

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { local p; for _ in $(seq 50); do p=$((20000 + RANDOM % 20000)); if port_free "$p"; then echo "$p"; return; fi; done; return 1; }

gateway_start() {
  local name=$1
  HTTP_PORT=$(pick_port)
  ADMIN_PORT=$(pick_port)
  DB=hookgate_${name//-/_}_$$
  TOKEN=$name-$RANDOM$RANDOM
  export HOOKGATE__DATABASE__URL="postgres://postgres@127.0.0.1:5432/$DB"
  export HOOKGATE__HTTP__LISTEN="127.0.0.1:$HTTP_PORT"
  export HOOKGATE__HTTP__PUBLIC_BASE_URL="http://127.0.0.1:$HTTP_PORT"
  export HOOKGATE__ADMIN__LISTEN="127.0.0.1:$ADMIN_PORT"
  export HOOKGATE__REDIS__KEY_PREFIX="hookgate-$name-$$"
  export HOOKGATE__TELEMETRY__LOG_FILTER=warn
  export HOOKGATE_ADMIN_TOKEN=$TOKEN
  cargo build -q -p hookgate-cli
  BIN=target/debug/hookgate
  GATEWAY_LOG=$(mktemp)
  "$BIN" serve >"$GATEWAY_LOG" 2>&1 &
  GATEWAY_PID=$!
  for _ in $(seq 60); do
    curl -fs "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "the gateway did not get ready; its log:" >&2
  cat "$GATEWAY_LOG" >&2
  return 1
}

gateway_stop() {
  if [ -n "${GATEWAY_PID:-}" ]; then
    kill "$GATEWAY_PID" 2>/dev/null || true
    wait "$GATEWAY_PID" 2>/dev/null || true
    GATEWAY_PID=""
  fi
  if [ -n "${DB:-}" ]; then
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -f "${GATEWAY_LOG:-}"
}

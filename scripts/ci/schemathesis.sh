#!/usr/bin/env bash
# Property-based check of the admin API against its own OpenAPI document:
# schemathesis (PyPI) generates requests from /openapi.json of a running
# gateway (demo tenant, its own database, some accepted, rejected and
# parked webhooks to read) and fails on any 5xx or any answer that does not
# match the documented schema. `.ci/run` calls it; run it alone the same way.
# Needs the local PostgreSQL, Redis and RabbitMQ, and python3 with venv.
set -euo pipefail
cd "$(dirname "$0")/../.."

EXAMPLES=${SCHEMATHESIS_EXAMPLES:-25}
VENV=${SCHEMATHESIS_VENV:-target/schemathesis-venv}
if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  # hypothesis-jsonschema 0.23 uses hypothesis internals that later releases dropped.
  "$VENV/bin/pip" install -q "schemathesis>=3.39,<4" "hypothesis<6.120"
fi
if [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
  "$VENV/bin/pip" install -q "openapi-spec-validator>=0.7,<0.8"
fi

. scripts/ci/gateway.sh
trap gateway_stop EXIT
gateway_start schemathesis

# The document itself passes a strict OpenAPI validator (unique operation
# ids, resolvable references, valid schemas).
DOC=$(mktemp --suffix=.json)
curl -fs "http://127.0.0.1:$ADMIN_PORT/openapi.json" >"$DOC"
"$VENV/bin/openapi-spec-validator" "$DOC"
rm -f "$DOC"

# Something to read: accepted, rejected and parked notifications.
"$BIN" simulate keeta all --count 2 >/dev/null
"$BIN" simulate keeta order-accepted --bad-signature >/dev/null || true
"$BIN" simulate pagsmile-issuing all >/dev/null || true
sleep 2

"$VENV/bin/st" run "http://127.0.0.1:$ADMIN_PORT/openapi.json" \
  --experimental=openapi-3.1 \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --header "Authorization: Bearer $TOKEN" \
  --hypothesis-max-examples="$EXAMPLES" \
  --hypothesis-derandomize \
  --request-timeout 10000 \
  --show-trace \
  --no-color

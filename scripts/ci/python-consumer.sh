#!/usr/bin/env bash
# Consumers in other languages: the Python example consumer
# (examples/python/consumer.py: pika, the official `standardwebhooks`
# library, `cryptography` for Ed25519) verifies and handles real messages of a
# running gateway (demo tenant, which signs with a secret and an Ed25519 key),
# and refuses a tampered one. `.ci/run` calls it; run it alone the same way.
# Needs the local PostgreSQL, Redis and RabbitMQ, and python3 with venv.
set -euo pipefail
cd "$(dirname "$0")/../.."

VENV=${PYTHON_CONSUMER_VENV:-target/python-consumer-venv}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pika, standardwebhooks, cryptography' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "pika>=1.3,<2" "standardwebhooks>=1.0,<2" "cryptography>=42"
fi
PY=$VENV/bin/python

QUEUE=hookgate-ci.python-consumer.$$
OUT=$(mktemp)
CONSUMER=""
cleanup() {
  [ -n "$CONSUMER" ] && kill "$CONSUMER" 2>/dev/null || true
  gateway_stop
  "$PY" - "$QUEUE" <<'PYEOF' || true
import sys, pika
c = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2f"))
c.channel().queue_delete(sys.argv[1])
c.close()
PYEOF
  rm -f "$OUT"
}
. scripts/ci/gateway.sh
trap cleanup EXIT
gateway_start python-consumer

# The consumer holds the demo tenant's secret and the public key the admin API serves.
SECRET=$(sed -n 's/^secrets = \[{ demo = "\(whsec_[^"]*\)" }\]$/\1/p' config/tenants.d/demo.toml | head -n1)
PUBLIC=$(curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$ADMIN_PORT/v1/signing-keys?tenant=demo" |
  "$PY" -c 'import json,sys; print(next(k["public_key"] for k in json.load(sys.stdin)["keys"] if k["scheme"] == "v1a"))')
COUNT=3
"$PY" examples/python/consumer.py --exchange hookgate.demo --queue "$QUEUE" --bindings 'keeta.#' \
  --secret "$SECRET" --public-key "$PUBLIC" --count "$COUNT" --timeout 60 >"$OUT" &
CONSUMER=$!
for _ in $(seq 30); do grep -q '"ready"' "$OUT" && break; sleep 0.5; done
grep -q '"ready"' "$OUT" || { cat "$OUT"; exit 1; }

# A forged message first (headers of the right shape, a signature over other
# bytes), then three real ones.
"$PY" - "$QUEUE" <<'PYEOF'
import sys, time, pika
c = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2f"))
headers = {"webhook-id": "forged", "webhook-timestamp": str(int(time.time())),
           "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
c.channel().basic_publish("", sys.argv[1], b'{"id":"forged"}', pika.BasicProperties(headers=headers))
c.close()
PYEOF
"$BIN" simulate keeta order-accepted --count "$COUNT" >/dev/null
wait "$CONSUMER" || { echo "the Python consumer failed:"; cat "$OUT"; cat "$GATEWAY_LOG"; exit 1; }
CONSUMER=""
cat "$OUT"
"$PY" - "$OUT" "$COUNT" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
handled = [l for l in lines if "routingKey" in l and "id" in l]
refused = [l for l in lines if isinstance(l.get("refused"), str)]
count = int(sys.argv[2])
assert len(handled) == count, f"{len(handled)} handled, expected {count}: {lines}"
assert all(h["verified"] == ["v1", "v1a"] for h in handled), handled
assert all(h["routingKey"] == "keeta.order.accepted" for h in handled), handled
assert len(refused) == 1, f"the forged message is refused: {lines}"
print(f"python consumer: {len(handled)} verified (v1 with standardwebhooks, v1a with cryptography), {len(refused)} refused")
PYEOF

#!/usr/bin/env python3
"""A hookgate consumer in Python: pika + the official Standard Webhooks library.

For each message of a queue bound to a tenant's exchange it
  1. verifies the signature: `v1` (HMAC-SHA256) with `standardwebhooks`,
     `v1a` (Ed25519) with `cryptography`, over the exact body;
  2. decodes the body (the proto3 JSON mapping of hookgate.v1.Event:
     64-bit integers are strings, `raw` is the provider's payload);
  3. drops it if its dedupe key was handled (the idempotency key, plus the
     replay job for a replay: docs/events.md, "Consuming events");
  4. handles it, records the key, and only then acknowledges it.
A message that does not verify or is not an event is rejected (dead-lettered).

    pip install pika standardwebhooks cryptography
    python3 examples/python/consumer.py --exchange hookgate.demo --bindings '#' \
        --secret whsec_... [--public-key whpk_...] [--count N]

Each handled event is printed as one JSON line; `--count N` exits after N.
The in-memory `handled` set stands for a table written in the same database
transaction as the handler's own work (what `hookgate-consumer`'s PgInbox does).
"""

import argparse
import base64
import json
import sys
import time

import pika
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

REPLAY_HEADER = "x-hookgate-replay-job"


def text_headers(props):
    return {k.lower(): (v.decode() if isinstance(v, bytes) else str(v)) for k, v in (props.headers or {}).items()}


class Verifier:
    def __init__(self, secrets, public_keys):
        self.webhooks = [Webhook(s) for s in secrets]
        self.public_keys = []
        if public_keys:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            for pk in public_keys:
                raw = base64.b64decode(pk.removeprefix("whpk_"))
                self.public_keys.append(Ed25519PublicKey.from_public_bytes(raw))

    def verify(self, body, headers):
        """The schemes that verified (`v1`, `v1a`); raises when none did."""
        schemes = []
        for wh in self.webhooks:
            try:
                # The official library: headers present, timestamp within 5
                # minutes, one v1 entry matching. A message older than that
                # (a backlog) fails here: see docs/consuming.md.
                wh.verify(body, headers, json_parse=False)
                schemes.append("v1")
                break
            except WebhookVerificationError:
                continue
        if self.public_keys:
            from cryptography.exceptions import InvalidSignature

            signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
            for entry in headers.get("webhook-signature", "").split():
                version, _, sig = entry.partition(",")
                if version != "v1a":
                    continue
                for pk in self.public_keys:
                    try:
                        pk.verify(base64.b64decode(sig), signed)
                        schemes.append("v1a")
                        break
                    except (InvalidSignature, ValueError):
                        continue
                if "v1a" in schemes:
                    break
        if not schemes:
            raise WebhookVerificationError("no signature verifies with the configured keys")
        return schemes


def dedupe_key(event, headers):
    key = event.get("idempotencyKey") or "id:" + event["id"]
    job = headers.get(REPLAY_HEADER)
    return f"{key}#replay:{job}" if job else key


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/%2f")
    p.add_argument("--exchange", default="hookgate.demo")
    p.add_argument("--queue", default=None)
    p.add_argument("--bindings", default="#")
    p.add_argument("--secret", action="append", default=[], help="whsec_ secret (v1); repeatable")
    p.add_argument("--public-key", action="append", default=[], help="whpk_ key (v1a); repeatable")
    p.add_argument("--count", type=int, default=0, help="exit after handling this many")
    p.add_argument("--timeout", type=float, default=0, help="exit with status 1 after this many seconds")
    args = p.parse_args()
    verifier = Verifier(args.secret, args.public_key) if (args.secret or args.public_key) else None
    queue = args.queue or f"{args.exchange}.python-example"

    conn = pika.BlockingConnection(pika.URLParameters(args.amqp))
    ch = conn.channel()
    ch.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    for key in args.bindings.split(","):
        ch.queue_bind(queue, args.exchange, routing_key=key)
    ch.basic_qos(prefetch_count=16)
    print(json.dumps({"ready": queue}), flush=True)

    handled = set()
    counts = {"handled": 0, "duplicates": 0, "refused": 0}
    started = time.monotonic()

    def on_message(ch, method, props, body):
        headers = text_headers(props)
        try:
            schemes = verifier.verify(body, headers) if verifier else []
            event = json.loads(body)
            if verifier and headers.get("webhook-id") != event.get("id"):
                raise WebhookVerificationError("webhook-id is not the event's id")
        except (WebhookVerificationError, ValueError, KeyError) as e:
            counts["refused"] += 1
            print(json.dumps({"refused": str(e), "routingKey": method.routing_key}), flush=True)
            ch.basic_reject(method.delivery_tag, requeue=False)
            return
        key = dedupe_key(event, headers)
        if key in handled:
            counts["duplicates"] += 1
            ch.basic_ack(method.delivery_tag)
            return
        # The handler's work goes here, in one transaction with recording `key`.
        print(json.dumps({
            "routingKey": method.routing_key,
            "id": event["id"],
            "subject": event.get("subject"),
            "dedupeKey": key,
            "verified": schemes,
            "stale": event.get("stale", False),
            "replayJob": headers.get(REPLAY_HEADER),
        }), flush=True)
        handled.add(key)
        counts["handled"] += 1
        ch.basic_ack(method.delivery_tag)
        if args.count and counts["handled"] >= args.count:
            ch.stop_consuming()

    ch.basic_consume(queue, on_message)
    if args.timeout:
        def give_up():
            print(json.dumps({"timeout": args.timeout, **counts}), flush=True)
            sys.exit(1)
        conn.call_later(max(0.0, args.timeout - (time.monotonic() - started)), give_up)
    try:
        ch.start_consuming()
    except KeyboardInterrupt:
        ch.stop_consuming()
    print(json.dumps(counts), flush=True)
    conn.close()


if __name__ == "__main__":
    main()

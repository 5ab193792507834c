#!/usr/bin/env python3
"""Generates docs/asyncapi.yaml (AsyncAPI 3) from proto/hookgate/v1/event.proto
and the routing table below. Rerun after changing the proto or adding a type:
    python3 scripts/gen-asyncapi.py > docs/asyncapi.yaml
JSON types follow the proto3 JSON mapping hookgate emits: 64-bit integers are
strings, timestamps RFC 3339 strings, default values emitted."""
import json, re, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
proto = (root / "proto/hookgate/v1/event.proto").read_text()

# (routing key, data member in the oneof or None, summary)
ROUTES = [
    ("keeta.order.placed", "order", "Keeta 1001: a new order"),
    ("keeta.order.accepted", "orderStatus", "Keeta 1002"),
    ("keeta.order.completed", "orderStatus", "Keeta 1003"),
    ("keeta.order.cancelled", "orderStatus", "Keeta 1004"),
    ("keeta.refund.status_changed", "refund", "Keeta 1005"),
    ("keeta.delivery.status_changed", "delivery", "Keeta 1006"),
    ("keeta.refund.partial_status_changed", "refund", "Keeta 1007"),
    ("keeta.store.business_hours_changed", "businessHours", "Keeta 1101"),
    ("keeta.store.status_changed", "storeStatus", "Keeta 1102"),
    ("keeta.menu.image_binding_completed", "menuTask", "Keeta 1201"),
    ("keeta.menu.sync_completed", "menuTask", "Keeta 1202"),
    ("keeta.store.authorized", "storeAuthorization", "Keeta 1301"),
    ("keeta.store.authorization_cancelled", "storeAuthorization", "Keeta 1302"),
    ("keeta.unknown", None, "Any other Keeta event id (raw only)"),
    ("pagsmile.card.application_result", "cardApplication", "Pagsmile issuing notify_type 1"),
    ("pagsmile.card.status_changed", "cardStatus", "Pagsmile issuing notify_type 2"),
    ("pagsmile.cardholder.audit_status_changed", "cardholderAudit", "Pagsmile issuing notify_type 3"),
    ("pagsmile.card.authorization", "cardAuthorization", "Pagsmile issuing 4/cardAuthorization"),
    ("pagsmile.card.settlement", "cardAuthorization", "Pagsmile issuing 4/cardSettlement"),
    ("pagsmile.card.authorization_expired", "cardAuthorization", "Pagsmile issuing 4/cardAuthorizationExpired"),
    ("pagsmile.card.otp", "cardOtp", "Pagsmile issuing OTP"),
    ("pagsmile.payment.{status}", "payment", "Pagsmile pay-in, one key per trade_status (lowercase)"),
    ("pagsmile.payout.{status}", "payout", "Pagsmile payout, one key per status (lowercase)"),
    ("pagsmile.unknown", None, "Unknown issuing notify_type (raw only)"),
    ("bh.ramp_order.status_changed", "rampOrder", "BH ORDER_WEBHOOK"),
    ("bh.global_payment.status_changed", "globalPayment", "BH GLOBAL_PAYMENT_WEBHOOK"),
    ("bh.funding.status_changed", "funding", "BH FUNDING_WEBHOOK"),
    ("bh.stablecoin_payment.status_changed", "stablecoinPayment", "BH STABLE_COIN_PAYMENT_WEBHOOK"),
    ("bh.withdrawal.status_changed", "withdrawal", "BH ON_RAMP_WITHDRAW_WEBHOOK"),
    ("bh.merchant_trade.received", None, "BH MERCHANT_TRADE_WEBHOOK (raw only)"),
    ("bh.unknown", None, "Unknown BH eventType (raw only)"),
    ("webhooks.{type}", None, "Standard Webhooks: the payload's type (raw only)"),
]

SCALARS = {"string": {"type": "string"}, "int64": {"type": "string", "pattern": "^-?[0-9]+$"},
           "int32": {"type": "integer"}, "bool": {"type": "boolean"}}

def camel(s):
    head, *rest = s.split("_")
    return head + "".join(w.capitalize() for w in rest)

def field_schema(ftype):
    if ftype in SCALARS:
        return dict(SCALARS[ftype])
    if ftype == "google.protobuf.Timestamp":
        return {"type": "string", "format": "date-time"}
    if ftype == "google.protobuf.Value":
        return {"description": "The provider payload, exact digits preserved"}
    m = re.match(r"map<string,\s*string>", ftype)
    if m:
        return {"type": "object", "additionalProperties": {"type": "string"}}
    return {"$ref": f"#/components/schemas/{ftype}"}

schemas, oneof = {}, {}
for name, body in re.findall(r"^message (\w+) \{(.*?)^\}", proto, re.S | re.M):
    props = {}
    in_oneof = False
    for line in body.splitlines():
        line = line.split("//")[0].strip()
        if line.startswith("oneof"):
            in_oneof = True
            continue
        if line == "}":
            in_oneof = False
            continue
        m = re.match(r"(repeated |optional )?(map<[^>]+>|[\w.]+) (\w+) = \d+;", line)
        if not m:
            continue
        label, ftype, fname = m.groups()
        s = field_schema(ftype)
        if label == "repeated ":
            s = {"type": "array", "items": s}
        if in_oneof:
            oneof[camel(fname)] = ftype
        props[camel(fname)] = s
    schemas[name] = {"type": "object", "properties": props}

messages, refs = {}, []
for key, member, summary in ROUTES:
    mname = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")
    payload = {"allOf": [{"$ref": "#/components/schemas/Event"}]}
    if member:
        payload["allOf"].append({"type": "object", "required": [member],
                                 "properties": {member: {"$ref": f"#/components/schemas/{oneof[member]}"}}})
    messages[mname] = {"name": key, "title": key, "summary": summary, "contentType": "application/json",
                       "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"}, "payload": payload,
                       "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": key, "bindingVersion": "0.3.0"}}}
    refs.append({"$ref": f"#/components/messages/{mname}"})

schemas["CloudEventsHeaders"] = {"type": "object", "description": "CloudEvents AMQP binding (binary mode) application properties",
    "properties": {h: {"type": "string"} for h in ["cloudEvents:specversion", "cloudEvents:id", "cloudEvents:source",
                   "cloudEvents:type", "cloudEvents:subject", "cloudEvents:time", "traceparent"]}}
schemas["CloudEventsHeaders"]["properties"]["x-hookgate-stale"] = {"type": "string", "enum": ["true"],
    "description": "Present on an event whose state comes before one its subject already published (the event's "
                   "`stale` field; docs/events.md, Stale states). With stale_policy = route the routing key is "
                   "`<routing key>.stale`."}
schemas["CloudEventsHeaders"]["properties"]["x-hookgate-replay-job"] = {"type": "string",
    "description": "Present on a message published again by a replay job: the job's id."}
schemas["CloudEventsHeaders"]["properties"]["webhook-id"] = {"type": "string",
    "description": "Standard Webhooks: the event id (a tenant with [signing]; docs/consuming.md)."}
schemas["CloudEventsHeaders"]["properties"]["webhook-timestamp"] = {"type": "string",
    "description": "Standard Webhooks: when the message was signed, Unix seconds."}
schemas["CloudEventsHeaders"]["properties"]["webhook-signature"] = {"type": "string",
    "description": "Standard Webhooks: space-separated `v1,<base64 HMAC-SHA256>` (one per secret) and "
                   "`v1a,<base64 Ed25519>` (one per key) over `<webhook-id>.<webhook-timestamp>.<body>`."}

# Operator events (docs/watch.md): one CloudEvent per incident transition.
messages["operator_event"] = {
    "name": "operator_event",
    "title": "Incident transition",
    "summary": "An incident moved to a state (routing key <kind>.<state>, e.g. source_quiet.open).",
    "contentType": "application/cloudevents+json",
    "payload": {"$ref": "#/components/schemas/OperatorEvent"},
    "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": "hookgate.incident.<kind>.<state>",
                          "bindingVersion": "0.3.0"}},
}
schemas["OperatorEvent"] = {
    "type": "object", "description": "A CloudEvent in structured mode; its id (incident-<incident>-<transition>) is stable",
    "required": ["specversion", "id", "source", "type", "time", "data"],
    "properties": {
        "specversion": {"type": "string", "const": "1.0"},
        "id": {"type": "string"},
        "source": {"type": "string", "const": "hookgate"},
        "type": {"type": "string", "description": "hookgate.incident.<kind>.<state>"},
        "subject": {"type": "string", "description": "<tenant>/<source>, <tenant>, or empty for the whole gateway"},
        "time": {"type": "string", "format": "date-time"},
        "datacontenttype": {"type": "string", "const": "application/json"},
        "data": {"type": "object", "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["source_quiet", "rejection_spike", "parked", "outbox_age", "reload_refused", "relay_not_publishing", "dependency_down", "tls_expiry", "replay_failed", "replay_finished", "key_added", "key_removed"]},
            "tenant": {"type": "string"}, "source": {"type": "string"}, "cause": {"type": "string"},
            "state": {"type": "string", "enum": ["open", "acknowledged", "resolved", "ignored"]},
            "count": {"type": "integer"}, "samples": {"type": "array", "items": {"type": "integer"}},
            "summary": {"type": "string"}, "opened_at": {"type": "string", "format": "date-time"},
            "by": {"type": "string", "description": "the admin token that moved it; empty for the evaluator"}}},
    },
}
event_messages = [k for k in messages if k != "operator_event"]

doc = {
    "asyncapi": "3.0.0",
    "info": {"title": "hookgate canonical events", "version": "1.0.0",
             "description": "Provider webhooks (Keeta, Pagsmile, BH, Standard Webhooks) republished as hookgate.v1.Event. "
                            "Generated by scripts/gen-asyncapi.py from proto/hookgate/v1/event.proto; see docs/events.md."},
    "defaultContentType": "application/json",
    "servers": {"local": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
                          "description": "RabbitMQ; one durable topic exchange per tenant"}},
    "channels": {
        "tenantEvents": {
            "address": "hookgate.{tenant}",
            "description": "A tenant's topic exchange. Bind a queue with routing keys such as `keeta.order.*` or `bh.#`. "
                           "Messages are persistent; message_id is the event id; dedupe on the idempotencyKey (and the replay job on a replay: docs/consuming.md).",
            "parameters": {"tenant": {"description": "Tenant id from configuration (exchange overridable per tenant)"}},
            "messages": {k: {"$ref": f"#/components/messages/{k}"} for k in event_messages},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {"name": "hookgate.{tenant}", "type": "topic",
                                  "durable": True, "autoDelete": False, "vhost": "/"}, "bindingVersion": "0.3.0"}},
        },
        "unrouted": {
            "address": "hookgate.unrouted",
            "description": "Alternate exchange (fanout) and durable queue receiving events no binding matched.",
            "messages": {k: {"$ref": f"#/components/messages/{k}"} for k in event_messages},
            "bindings": {"amqp": {"is": "queue", "queue": {"name": "hookgate.unrouted", "durable": True,
                                  "exclusive": False, "autoDelete": False, "vhost": "/"}, "bindingVersion": "0.3.0"}},
        },
        "operatorEvents": {
            "address": "hookgate.ops",
            "description": "Operator events (rabbitmq.ops_exchange): every incident transition, routing key <kind>.<state>. "
                           "Bind `#` for all, `*.open` for new incidents, `source_quiet.*` for one kind.",
            "messages": {"operator_event": {"$ref": "#/components/messages/operator_event"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {"name": "hookgate.ops", "type": "topic",
                                  "durable": True, "autoDelete": False, "vhost": "/"}, "bindingVersion": "0.3.0"}},
        },
    },
    "operations": {
        "consumeTenantEvents": {"action": "receive", "channel": {"$ref": "#/channels/tenantEvents"},
                                "messages": [{"$ref": f"#/channels/tenantEvents/messages/{k}"} for k in event_messages]},
        "consumeUnrouted": {"action": "receive", "channel": {"$ref": "#/channels/unrouted"},
                            "messages": [{"$ref": f"#/channels/unrouted/messages/{k}"} for k in event_messages]},
        "consumeOperatorEvents": {"action": "receive", "channel": {"$ref": "#/channels/operatorEvents"},
                                  "messages": [{"$ref": "#/channels/operatorEvents/messages/operator_event"}]},
    },
    "components": {"messages": messages, "schemas": schemas},
}
print("# Generated by scripts/gen-asyncapi.py: do not edit by hand.")
try:
    import yaml  # PyYAML, when installed: readable block YAML
    print(yaml.safe_dump(doc, sort_keys=False, width=120, allow_unicode=True), end="")
except ImportError:
    print(json.dumps(doc, indent=2))  # JSON is valid YAML too

-- Fills a gateway's database with :n published webhooks of the demo
-- tenant, as a long-running gateway would hold them: delivery keys (drawn
-- from the notifications id sequence), notifications with a ~300-byte body,
-- stored headers and one of 100,000 subjects, and one published event record
-- each. Delivery keys are hashes, so the inserts spread over the indexes
-- like provider ids do. Used by `PREFILL=N scripts/bench/wrk.sh`.
--   psql -v n=10000000 -f scripts/bench/prefill.sql DB
\set ON_ERROR_STOP on
INSERT INTO deliveries (tenant, source, delivery_key, delivery_count, last_received_at)
SELECT 'demo', 'keeta', 'prefill-' || md5(g::text), 1, now() - interval '1 hour'
FROM generate_series(1, :n) g;

INSERT INTO notifications (id, tenant, source, kind, delivery_key, body, headers, remote_addr, received_at,
                           signature_recipe, verified, traceparent, ordering_key)
SELECT d.notification_id, d.tenant, d.source, 'keeta', d.delivery_key,
       convert_to('{"sig":"' || md5(d.delivery_key) || md5(d.delivery_key) || '","appId":1000001,"eventId":20010,'
                  || '"messageId":"' || d.notification_id || '","shopId":145541,"timestamp":1764493200,'
                  || '"message":"{\"orderViewId\":' || d.notification_id || ',\"status\":20,\"shopId\":145541}"}', 'UTF8'),
       '[{"name":"host","value":"127.0.0.1:8080"},{"name":"content-type","value":"application/json"},{"name":"content-length","value":"290"}]'::jsonb,
       '127.0.0.1:40000', d.last_received_at, 'keeta-v1', true,
       '00-' || md5(d.delivery_key) || '-' || left(md5(d.notification_id::text), 16) || '-01',
       'demo:order:' || (d.notification_id % 100000)
FROM deliveries d
WHERE d.delivery_key LIKE 'prefill-%';

INSERT INTO events (event_id, tenant, idempotency_key, notification_id, type, routing_key, published_at)
SELECT gen_random_uuid(), 'demo', 'keeta:' || md5(delivery_key), id, 'order.accepted', 'keeta.order.accepted', received_at
FROM notifications
WHERE delivery_key LIKE 'prefill-%';

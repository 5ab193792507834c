#!/usr/bin/env bash
# Reference figures for docs/benchmarks.md, measured on this machine next to
# hookgate: a bare actix-web handler (same client as `hookgate bench`),
# PostgreSQL inserts with pgbench (1 and 100 rows per transaction, 16 clients)
# and a confirmed RabbitMQ publish loop (1 and 1,000 confirms in flight).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${SECS:-10}
cargo build --release -q -p hookgate-cli -p hookgate-ingress -p hookgate-dispatcher --examples --bins

echo "== bare actix-web handler, hookgate bench client, 64 connections"
./target/release/examples/bare_handler 8090 & bare=$!
sleep 1
./target/release/hookgate bench --url http://127.0.0.1:8090 --no-consume --duration "$secs" | grep -E "acked|ack latency"
kill $bare

echo "== PostgreSQL inserts (pgbench, 16 clients)"
db=hookgate_pgbench
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -q -h 127.0.0.1 -U postgres -d $db -c "CREATE TABLE bench_rows (id bigserial PRIMARY KEY, body bytea, at timestamptz DEFAULT now())"
for f in insert-1 insert-100; do
  tps=$(pgbench -h 127.0.0.1 -U postgres -n -c 16 -j 2 -T "$secs" -f "scripts/bench/$f.sql" $db 2>/dev/null | awk '/^tps/ {print $3}')
  rows=${f#insert-}
  echo "$f: $tps transactions/s = $(echo "$tps * $rows" | bc | cut -d. -f1) rows/s"
done
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $db"

echo "== RabbitMQ persistent publish with confirms (quorum queue)"
./target/release/examples/confirm_publish 3000 1
./target/release/examples/confirm_publish 100000 1000

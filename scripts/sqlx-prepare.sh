#!/usr/bin/env bash
# Regenerates the sqlx offline query data in .sqlx/ (commit it afterwards).
# Needs the local PostgreSQL; uses a scratch database with the migrations applied.
set -euo pipefail
cd "$(dirname "$0")/.."
db=hookgate_sqlx_prepare
admin=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
psql "$admin" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
for f in migrations/*.sql; do psql "${admin%/*}/$db" -q -v ON_ERROR_STOP=1 -f "$f"; done
rm -rf .sqlx && mkdir -p .sqlx
# The sqlx macros write one JSON file per query into SQLX_OFFLINE_DIR when they
# run online; touching the store crate makes them run again.
touch crates/store/src/lib.rs
SQLX_OFFLINE=false DATABASE_URL="${admin%/*}/$db" SQLX_OFFLINE_DIR="$PWD/.sqlx" cargo check -p hookgate-store --all-targets --features test-support
psql "$admin" -qc "DROP DATABASE $db"
echo "wrote $(ls .sqlx | wc -l) query files to .sqlx/"

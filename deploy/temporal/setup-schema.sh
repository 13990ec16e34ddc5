#!/bin/sh
# One-shot, in temporalio/admin-tools: create Temporal's two databases in PostgreSQL and bring their
# schemas to the version this image ships. Safe to re-run: creating an existing database fails
# harmlessly, the schema steps are idempotent, and any real failure (no server) stops at them.
set -eu
: "${SQL_HOST:=postgres}" "${SQL_PORT:=5432}" "${SQL_USER:=postgres}"
schemas=/etc/temporal/schema/postgresql/v12

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  dir=${pair#*:}
  sql_tool --db "$db" create >/dev/null 2>&1 || echo "database $db already exists"
  sql_tool --db "$db" setup-schema -v 0.0
  sql_tool --db "$db" update-schema -d "$schemas/$dir/versioned"
done
echo "Temporal schemas are up to date"

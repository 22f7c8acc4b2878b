#!/usr/bin/env bash
# Make sure the machine's PostgreSQL (127.0.0.1:5432, trust auth, database `test`) is up.
# The store's tests run against it as well as SQLite; CI must not skip them.
set -euo pipefail
if ! command -v pg_isready >/dev/null 2>&1; then
    echo "pg_isready not found: PostgreSQL client tools are needed for the store tests" >&2
    exit 1
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "== starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do
        pg_isready -h 127.0.0.1 -p 5432 -q && break
        sleep 1
    done
fi
pg_isready -h 127.0.0.1 -p 5432

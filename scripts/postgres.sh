#!/usr/bin/env bash
# Start (or reuse) a private PostgreSQL server for tmc's store tests and print its JDBC URL on the last line.
# It uses Debian's postgresql binaries, keeps its data under $TMC_CACHE/pg, listens on 127.0.0.1 only
# ($TMC_PG_PORT, default 55432) with trust authentication (test data only), and leaves the system's own
# cluster alone. `scripts/postgres.sh stop` stops it.
set -euo pipefail
CACHE=${TMC_CACHE:-$HOME/.cache/tmc}
PORT=${TMC_PG_PORT:-55432}
DATA="$CACHE/pg/data"
LOG="$CACHE/pg/server.log"
log() { echo "postgres.sh: $*" >&2; }

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$BIN" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

# PostgreSQL refuses to run as root: run it as the postgres user then.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$CACHE/pg"
[ "$(id -u)" = 0 ] && chown postgres "$CACHE/pg" && chmod 755 "$CACHE" "$CACHE/pg" && \
    { d="$CACHE"; while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done; }

if [ "${1:-}" = stop ]; then
    as_pg "$BIN/pg_ctl" -D "$DATA" stop -m fast >&2 || true
    exit 0
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
    log "initialising a test cluster in $DATA"
    as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
fi
if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$PORT"
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k $CACHE/pg" start >&2
fi
psql() { as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
# TMC_PG_DATABASE: the database to create if missing and name in the URL (make demo with several gateways has its own).
DB=${TMC_PG_DATABASE:-tmc_test}
[[ "$DB" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { log "TMC_PG_DATABASE: expected [a-z_][a-z0-9_]*, got '$DB'"; exit 2; }
if [ "$(psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
    psql -d postgres -c "CREATE DATABASE $DB" >&2
fi
echo "jdbc:postgresql://127.0.0.1:$PORT/$DB?user=postgres"

#!/usr/bin/env bash
# What the lab may touch on the shared servers, printed in a stable order, so that a run can be
# checked to leave them as it found them ("borrowed, not owned"):
#
#   bash scripts/footprint.sh > before.txt
#   ... run the demos, tests and benchmarks ...
#   bash scripts/footprint.sh > after.txt && diff before.txt after.txt
#
# Redis: every CONFIG parameter, the key count of each database and the keys under `lab:`.
# MariaDB: every global variable (except the few the server itself moves: positions, counters) and
# the tables in database `lab`. Same ports as scripts/services.sh (LAB_REDIS_PORT, LAB_MYSQL_PORT).
set -euo pipefail

REDIS_PORT="${LAB_REDIS_PORT:-6379}"
MYSQL_PORT="${LAB_MYSQL_PORT:-3306}"

rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
my() { mariadb --protocol=tcp -h127.0.0.1 -P"$MYSQL_PORT" --connect-timeout=5 -ulab --batch --skip-column-names "$@"; }

if ! rcli PING >/dev/null 2>&1; then
    echo "footprint: Redis is not reachable on 127.0.0.1:$REDIS_PORT (bash scripts/services.sh up)" >&2
    exit 1
fi
if ! my -e 'SELECT 1' >/dev/null 2>&1; then
    echo "footprint: MariaDB is not reachable as lab@127.0.0.1:$MYSQL_PORT (bash scripts/services.sh up)" >&2
    exit 1
fi

echo "# redis CONFIG"
# CONFIG GET * answers name, value, name, value, ...: one "name = value" line per parameter.
rcli CONFIG GET '*' | paste -d '=' - - | LC_ALL=C sort
echo "# redis keys per database (INFO keyspace)"
rcli INFO keyspace | tr -d '\r' | grep '^db' | sed 's/,expires=.*//' || true
echo "# redis keys under lab:"
rcli --scan --pattern 'lab:*' | LC_ALL=C sort
echo "# mariadb global variables"
# gtid_* positions move with every write, and the binlog/relay positions with them.
my -e 'SHOW GLOBAL VARIABLES' | grep -Ev '^(gtid_binlog_pos|gtid_binlog_state|gtid_current_pos|gtid_slave_pos)\b' | LC_ALL=C sort
echo "# mariadb tables in database lab"
my -e "SELECT table_name FROM information_schema.tables WHERE table_schema = 'lab' ORDER BY table_name"

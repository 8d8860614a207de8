#!/usr/bin/env bash
# Local MariaDB and Redis for gmr-lab, without Docker (Debian/Ubuntu, no systemd needed).
#
#   scripts/services.sh up       install if missing (root + apt-get), start, create db/user; idempotent
#   scripts/services.sh down     stop both servers (no error if already stopped)
#   scripts/services.sh status   show whether each server answers; exit 0 only if both do
#
# Endpoints:  redis://127.0.0.1:6379/   mysql://lab@127.0.0.1:3306/lab   (user lab, empty password)
# Ports can be changed with LAB_REDIS_PORT / LAB_MYSQL_PORT. Server logs go to LAB_SERVICES_DIR
# (default /tmp/gmr-lab-services). With Docker instead, use docker/compose.yml.
set -euo pipefail

REDIS_PORT="${LAB_REDIS_PORT:-6379}"
MYSQL_PORT="${LAB_MYSQL_PORT:-3306}"
STATE_DIR="${LAB_SERVICES_DIR:-/tmp/gmr-lab-services}"
REDIS_LOG="$STATE_DIR/redis.log"
MARIADB_LOG="$STATE_DIR/mariadb.log"
MARIADB_DATADIR=/var/lib/mysql
WAIT_STEPS=150 # x 0.2 s = 30 s per server

REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/"
MYSQL_URL="mysql://lab@127.0.0.1:${MYSQL_PORT}/lab"

log() { printf '%s\n' "$*"; }
die() {
    printf 'services.sh: error: %s\n' "$*" >&2
    exit 1
}

# Client invocations. TCP is forced so that we talk to the server on our port, not to any socket.
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
my_tcp() { mariadb --protocol=tcp -h127.0.0.1 -P"$MYSQL_PORT" "$@"; }
# Admin SQL as root over the unix socket (Debian's root@localhost uses unix_socket auth);
# falls back to root over TCP (empty password, works after fix_mariadb_auth has run once).
my_root() { mariadb -uroot "$@" 2>/dev/null || my_tcp -uroot "$@"; }

redis_up() { [[ "$(rcli ping 2>/dev/null)" == PONG ]]; }
# mariadb-admin ping exits 0 whenever the server answers, even if access is denied.
mariadb_up() { mariadb-admin --protocol=tcp -h127.0.0.1 -P"$MYSQL_PORT" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }

redis_version() { rcli info server 2>/dev/null | sed -n 's/^redis_version:\([^[:space:]]*\).*/\1/p'; }
mariadb_version() {
    my_tcp -ulab -N -B -e 'SELECT VERSION()' 2>/dev/null || my_root -N -B -e 'SELECT VERSION()' 2>/dev/null || echo unknown
}

find_mariadbd() {
    local p
    for p in "$(command -v mariadbd 2>/dev/null || true)" /usr/sbin/mariadbd /usr/libexec/mariadbd; do
        [[ -n "$p" && -x "$p" ]] && { echo "$p"; return 0; }
    done
    return 1
}

tools_present() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null &&
        command -v mariadb >/dev/null && command -v mariadb-admin >/dev/null && find_mariadbd >/dev/null
}

ensure_installed() {
    tools_present && return 0
    local pkgs=(mariadb-server mariadb-client redis-server redis-tools)
    if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null; then
        die "redis-server/redis-cli and mariadbd/mariadb are required but missing.
  Install them (Debian/Ubuntu, as root: apt-get install ${pkgs[*]}),
  or run the servers with Docker instead: docker compose -f docker/compose.yml up -d"
    fi
    log "installing ${pkgs[*]} (apt-get) ..."
    local t0=$SECONDS apt_log="$STATE_DIR/apt.log"
    mkdir -p "$STATE_DIR"
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}"; } >"$apt_log" 2>&1; then
        tail -n 20 "$apt_log" >&2
        die "apt-get install ${pkgs[*]} failed (full log: $apt_log)"
    fi
    tools_present || die "packages installed but redis-server/redis-cli/mariadbd/mariadb still not found"
    log "installed packages in $((SECONDS - t0)) s"
}

# wait_for NAME CHECK_FN LOGFILE [PID]: poll CHECK_FN every 0.2 s for at most 30 s.
wait_for() {
    local name=$1 check=$2 logfile=$3 pid=${4:-} i
    for ((i = 0; i < WAIT_STEPS; i++)); do
        "$check" && return 0
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
            "$check" && return 0
            printf 'services.sh: error: %s exited during startup; last lines of %s:\n' "$name" "$logfile" >&2
            tail -n 20 "$logfile" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.2
    done
    printf 'services.sh: error: %s did not answer within 30 s; last lines of %s:\n' "$name" "$logfile" >&2
    tail -n 20 "$logfile" >&2 2>/dev/null || true
    exit 1
}

start_redis() {
    if redis_up; then
        log "redis:   already running on 127.0.0.1:$REDIS_PORT ($(redis_version))"
        return 0
    fi
    mkdir -p "$STATE_DIR"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
        --dir "$STATE_DIR" --logfile "$REDIS_LOG" --pidfile "$STATE_DIR/redis-$REDIS_PORT.pid" ||
        { tail -n 20 "$REDIS_LOG" >&2 2>/dev/null || true; die "redis-server failed to start"; }
    wait_for redis redis_up "$REDIS_LOG"
    log "redis:   started on 127.0.0.1:$REDIS_PORT ($(redis_version)), log $REDIS_LOG"
}

start_mariadb() {
    if mariadb_up; then
        log "mariadb: already running on 127.0.0.1:$MYSQL_PORT ($(mariadb_version))"
        return 0
    fi
    local mariadbd
    mariadbd=$(find_mariadbd)
    mkdir -p "$STATE_DIR"
    # Runs as root: mariadbd refuses to run as root unless told --user=mysql (and it fails silently
    # when backgrounded), and it needs /run/mysqld for its socket and pid file.
    if [[ $EUID -eq 0 ]]; then
        mkdir -p /run/mysqld
        chown mysql:mysql /run/mysqld
        if [[ ! -d "$MARIADB_DATADIR/mysql" ]]; then
            log "mariadb: initialising data dir $MARIADB_DATADIR"
            mkdir -p "$MARIADB_DATADIR"
            chown mysql:mysql "$MARIADB_DATADIR"
            mariadb-install-db --user=mysql --datadir="$MARIADB_DATADIR" >>"$MARIADB_LOG" 2>&1 ||
                { tail -n 20 "$MARIADB_LOG" >&2; die "mariadb-install-db failed (log: $MARIADB_LOG)"; }
        fi
    fi
    # setsid + nohup: detach from this shell's session so the server outlives it.
    setsid nohup "$mariadbd" --user=mysql --bind-address=127.0.0.1 --port="$MYSQL_PORT" \
        </dev/null >>"$MARIADB_LOG" 2>&1 &
    local pid=$!
    wait_for mariadb mariadb_up "$MARIADB_LOG" "$pid"
    log "mariadb: started on 127.0.0.1:$MYSQL_PORT ($(mariadb_version)), log $MARIADB_LOG"
}

# Root over TCP (empty password, keeps unix_socket auth), database lab, user lab (empty password,
# all privileges). A TCP connection from 127.0.0.1 resolves to host 'localhost', so lab@localhost
# is created too: it also wins over any anonymous ''@localhost account that would shadow lab@'%'.
SETUP_SQL="
ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS lab;
CREATE USER IF NOT EXISTS lab@'%' IDENTIFIED BY '';
CREATE USER IF NOT EXISTS lab@localhost IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO lab@'%';
GRANT ALL PRIVILEGES ON *.* TO lab@localhost;
FLUSH PRIVILEGES;"

fix_mariadb_auth() {
    if my_tcp -ulab -N -B -e 'SELECT 1' lab >/dev/null 2>&1 &&
        my_tcp -uroot -N -B -e 'SELECT 1' >/dev/null 2>&1; then
        log "mariadb: database lab and users root/lab already set up"
        return 0
    fi
    my_root -e "$SETUP_SQL" ||
        die "could not configure MariaDB users (needs root via the unix socket, or root@127.0.0.1 without password)"
    my_tcp -ulab -N -B -e 'SELECT 1' lab >/dev/null ||
        die "user lab still cannot connect to 127.0.0.1:$MYSQL_PORT/lab"
    log "mariadb: configured database lab, users lab and root (empty password over TCP)"
}

cmd_up() {
    ensure_installed
    start_redis
    start_mariadb
    fix_mariadb_auth
    log "ready:   LAB_REDIS_URL=$REDIS_URL"
    log "ready:   LAB_MYSQL_URL=$MYSQL_URL"
}

# wait_gone NAME CHECK_FN: wait (at most 30 s) until CHECK_FN stops succeeding.
wait_gone() {
    local name=$1 check=$2 i
    for ((i = 0; i < WAIT_STEPS; i++)); do
        "$check" || return 0
        sleep 0.2
    done
    die "$name still answers 30 s after shutdown"
}

cmd_down() {
    if command -v redis-cli >/dev/null && redis_up; then
        rcli shutdown nosave >/dev/null 2>&1 || true # the connection drops on success
        wait_gone redis redis_up
        log "redis:   stopped"
    else
        log "redis:   not running"
    fi
    if command -v mariadb-admin >/dev/null && mariadb_up; then
        mariadb-admin -uroot shutdown 2>/dev/null ||
            mariadb-admin --protocol=tcp -h127.0.0.1 -P"$MYSQL_PORT" -uroot shutdown ||
            die "mariadb-admin shutdown failed"
        wait_gone mariadb mariadb_up
        log "mariadb: stopped"
    else
        log "mariadb: not running"
    fi
}

cmd_status() {
    local ok=0
    if command -v redis-cli >/dev/null && redis_up; then
        log "redis:   up   127.0.0.1:$REDIS_PORT  version $(redis_version)"
    else
        log "redis:   down (127.0.0.1:$REDIS_PORT)"
        ok=1
    fi
    if command -v mariadb-admin >/dev/null && mariadb_up; then
        log "mariadb: up   127.0.0.1:$MYSQL_PORT  version $(mariadb_version)"
    else
        log "mariadb: down (127.0.0.1:$MYSQL_PORT)"
        ok=1
    fi
    return "$ok"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *)
        echo "usage: $0 up|down|status" >&2
        exit 2
        ;;
esac

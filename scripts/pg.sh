# Start and stop a throwaway PostgreSQL server on 127.0.0.1 for the test suite.
# Sourced by scripts/test. PostgreSQL refuses to run as root, so as root the server
# runs as an unprivileged system user.

pg_bindir() {
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ]; then
            echo "$dir"
            return
        fi
    done
    return 1
}

pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_as_owner() {
    if [ "$(id -u)" = "0" ]; then
        runuser -u "$PG_OWNER" -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    local bindir
    bindir="$(pg_bindir)" || return 1
    PG_BIN="$bindir"
    PG_DIR="$(mktemp -d /tmp/instcat-pg.XXXXXX)"
    PG_PORT="$(pg_free_port)"
    if [ "$(id -u)" = "0" ]; then
        PG_OWNER="${INSTCAT_PG_USER:-instcat-pg}"
        if ! id "$PG_OWNER" >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OWNER"
        fi
        chown "$PG_OWNER" "$PG_DIR"
    fi
    pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log"; return 1; }
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c max_connections=200" \
        start >/dev/null || { cat "$PG_DIR/server.log"; return 1; }
    pg_as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres instcat_test
    export INSTCAT_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PG_PORT/instcat_test"
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

pg_stop() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}

# shellcheck shell=bash
#
# Start throw-away PostgreSQL and Redis servers on loopback for CI.
#
# Usage (must be *sourced*, works with `set -euo pipefail` in the caller):
#
#     source .ci/services.sh [STATE_DIR]
#
# STATE_DIR defaults to $QUICKPOLL_CI_STATE_DIR, else ${TMPDIR:-/tmp}/quickpoll-ci.
# It is wiped and recreated on every run (it must be empty, absent, or a
# directory this script created earlier).  It and its parents must be
# traversable by the unprivileged PostgreSQL user.
#
# Inputs (environment):
#     PGPORT                       PostgreSQL port (default 55432)
#     REDIS_PORT                   Redis port      (default 56379)
#     QUICKPOLL_CI_EXTRA_PACKAGES  extra Debian packages to install in the same
#                                  apt-get call if any install is needed
#     QUICKPOLL_DURABLE=1          fsync every commit (the benchmark); tests run without
#
# Outputs (exported):
#     DATABASE_URL=postgres://postgres@127.0.0.1:$PGPORT/quickpoll
#     REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
#     QUICKPOLL_CI_STATE_DIR, QUICKPOLL_CI_PG_BIN, QUICKPOLL_CI_PG_VERSION,
#     QUICKPOLL_CI_PG_USER, QUICKPOLL_CI_PGPORT, QUICKPOLL_CI_REDIS_PORT
#
# Defines `quickpoll_services_stop`, which stops both servers (idempotent,
# always returns 0, safe to use in an EXIT trap).  Logs are kept in STATE_DIR.

if [ -z "${BASH_VERSION:-}" ]; then
    echo "ERROR: .ci/services.sh requires bash" >&2
    return 2 2>/dev/null || exit 2
fi
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    echo "ERROR: .ci/services.sh must be sourced: source .ci/services.sh [STATE_DIR]" >&2
    exit 2
fi

_qp_say() { echo "==> $*"; }
_qp_err() { echo "ERROR: $*" >&2; }

# True if something accepts TCP connections on 127.0.0.1:$1.
_qp_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Print the highest /usr/lib/postgresql/<version>/bin containing initdb.
_qp_find_pg_bin() {
    local d best="" best_ver="" ver
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] || continue
        ver=${d%/bin}
        ver=${ver##*/}
        if [[ -z "$best" ]] || [[ "$(printf '%s\n%s\n' "$best_ver" "$ver" | sort -V | tail -n 1)" == "$ver" ]]; then
            best=$d
            best_ver=$ver
        fi
    done
    [[ -n "$best" ]] || return 1
    printf '%s\n' "$best"
}

# Run a command as the PostgreSQL OS user (directly when not root).
_qp_as_pg_user() {
    local user=${QUICKPOLL_CI_PG_USER:-}
    if [[ "$(id -u)" -eq 0 && -n "$user" && "$user" != root ]]; then
        if command -v runuser >/dev/null 2>&1; then
            runuser -u "$user" -- "$@"
        else
            su -s /bin/sh "$user" -c '"$0" "$@"' -- "$@"
        fi
    else
        "$@"
    fi
}

_qp_install_packages() {
    local -a pkgs=()
    if ! _qp_find_pg_bin >/dev/null; then
        pkgs+=(postgresql)
    fi
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        pkgs+=(redis-server)
    fi
    if ((${#pkgs[@]} == 0)) && [[ -z "${QUICKPOLL_CI_EXTRA_PACKAGES:-}" ]]; then
        _qp_say "PostgreSQL and Redis already installed"
        return 0
    fi
    local -a extra=()
    read -r -a extra <<<"${QUICKPOLL_CI_EXTRA_PACKAGES:-}" || true
    pkgs+=("${extra[@]}")

    local -a sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            _qp_err "missing packages (${pkgs[*]}) and not running as root; install them first"
            return 1
        fi
    fi
    _qp_say "installing Debian packages: ${pkgs[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update \
        && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" \
        || { _qp_err "apt-get install ${pkgs[*]} failed"; return 1; }
}

# Pick (and if needed create) the unprivileged user that runs PostgreSQL.
_qp_pick_pg_user() {
    if [[ "$(id -u)" -ne 0 ]]; then
        id -un
        return 0
    fi
    if id -u postgres >/dev/null 2>&1; then
        echo postgres
        return 0
    fi
    if ! id -u quickpoll >/dev/null 2>&1; then
        if command -v useradd >/dev/null 2>&1; then
            useradd --system --user-group --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin quickpoll >&2 || return 1
        else
            adduser --system --group --no-create-home --home /nonexistent quickpoll >&2 || return 1
        fi
    fi
    echo quickpoll
}

quickpoll_services_stop() {
    local dir=${QUICKPOLL_CI_STATE_DIR:-}
    [[ -n "$dir" && -d "$dir" ]] || return 0

    # PostgreSQL
    if [[ -f "$dir/pgdata/postmaster.pid" ]]; then
        local pg_bin=${QUICKPOLL_CI_PG_BIN:-}
        [[ -n "$pg_bin" ]] || pg_bin=$(_qp_find_pg_bin) || pg_bin=""
        local QUICKPOLL_CI_PG_USER
        QUICKPOLL_CI_PG_USER=$(stat -c %U "$dir/pgdata" 2>/dev/null) || QUICKPOLL_CI_PG_USER=""
        _qp_say "stopping PostgreSQL (${dir}/pgdata)"
        if [[ -z "$pg_bin" ]] || ! (cd "$dir" && _qp_as_pg_user "$pg_bin/pg_ctl" -D "$dir/pgdata" -m fast -w -t 30 stop >/dev/null 2>&1); then
            local pid
            pid=$(head -n 1 "$dir/pgdata/postmaster.pid" 2>/dev/null) || pid=""
            if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]]; then
                kill -INT "$pid" 2>/dev/null || true
                local i
                for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$pid" 2>/dev/null || true
            fi
            rm -f "$dir/pgdata/postmaster.pid"
        fi
    fi

    # Redis
    if [[ -f "$dir/redis.pid" ]]; then
        local rpid rport
        rpid=$(cat "$dir/redis.pid" 2>/dev/null) || rpid=""
        rport=$(cat "$dir/redis.port" 2>/dev/null) || rport=""
        if [[ "$rpid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$rpid/comm" 2>/dev/null)" == redis-server* ]]; then
            _qp_say "stopping Redis (pid $rpid)"
            if [[ -n "$rport" ]]; then
                redis-cli -h 127.0.0.1 -p "$rport" shutdown nosave >/dev/null 2>&1 || true
            fi
            local i
            for ((i = 0; i < 100; i++)); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
            if kill -0 "$rpid" 2>/dev/null; then
                kill -TERM "$rpid" 2>/dev/null || true
                for ((i = 0; i < 50; i++)); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$rpid" 2>/dev/null || true
            fi
        fi
        rm -f "$dir/redis.pid"
    fi
    return 0
}

_qp_services_start() {
    local state_dir=${1:-${QUICKPOLL_CI_STATE_DIR:-${TMPDIR:-/tmp}/quickpoll-ci}}
    local pgport=${PGPORT:-55432}
    local redis_port=${REDIS_PORT:-56379}
    local timeout=30 i

    if [[ ! "$pgport" =~ ^[0-9]+$ || ! "$redis_port" =~ ^[0-9]+$ ]]; then
        _qp_err "PGPORT ($pgport) and REDIS_PORT ($redis_port) must be numbers"
        return 1
    fi
    if [[ "$state_dir" =~ [[:space:]] ]]; then
        _qp_err "state dir must not contain whitespace: '$state_dir'"
        return 1
    fi

    # 1. Packages (before anything else).
    _qp_install_packages || return 1

    local pg_bin
    pg_bin=$(_qp_find_pg_bin) || { _qp_err "initdb not found under /usr/lib/postgresql/*/bin"; return 1; }
    command -v redis-server >/dev/null 2>&1 || { _qp_err "redis-server not found on PATH"; return 1; }
    command -v redis-cli >/dev/null 2>&1 || { _qp_err "redis-cli not found on PATH"; return 1; }
    local pg_version=${pg_bin%/bin}
    pg_version=${pg_version##*/}

    local pg_user
    pg_user=$(_qp_pick_pg_user) || { _qp_err "could not find/create an unprivileged user for PostgreSQL"; return 1; }

    # 2. State dir: make absolute, stop leftovers of a previous run, wipe.
    mkdir -p "$state_dir" || { _qp_err "cannot create $state_dir"; return 1; }
    state_dir=$(cd "$state_dir" && pwd -P) || return 1
    if [[ "$state_dir" == / ]]; then
        _qp_err "refusing to use / as state dir"
        return 1
    fi
    if [[ ! -e "$state_dir/.quickpoll-ci" ]] && [[ -n "$(ls -A "$state_dir" 2>/dev/null)" ]]; then
        _qp_err "$state_dir is not empty and was not created by .ci/services.sh; refusing to wipe it"
        return 1
    fi

    export QUICKPOLL_CI_STATE_DIR=$state_dir
    export QUICKPOLL_CI_PG_BIN=$pg_bin
    export QUICKPOLL_CI_PG_VERSION=$pg_version
    export QUICKPOLL_CI_PG_USER=$pg_user
    export QUICKPOLL_CI_PGPORT=$pgport
    export QUICKPOLL_CI_REDIS_PORT=$redis_port

    if [[ -e "$state_dir/.quickpoll-ci" ]]; then
        _qp_say "cleaning up previous run in $state_dir"
        quickpoll_services_stop
    fi
    find "$state_dir" -mindepth 1 -delete || { _qp_err "cannot wipe $state_dir"; return 1; }
    touch "$state_dir/.quickpoll-ci"
    chmod 755 "$state_dir"

    if _qp_port_busy "$pgport"; then
        _qp_err "127.0.0.1:$pgport is already in use by another process (set PGPORT to another port)"
        return 1
    fi
    if _qp_port_busy "$redis_port"; then
        _qp_err "127.0.0.1:$redis_port is already in use by another process (set REDIS_PORT to another port)"
        return 1
    fi

    # 3. PostgreSQL cluster, owned by the unprivileged user.
    mkdir -p "$state_dir/pgdata" "$state_dir/sock"
    touch "$state_dir/postgresql.log"
    chmod 700 "$state_dir/pgdata"
    chmod 755 "$state_dir/sock"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown "$pg_user:" "$state_dir/pgdata" "$state_dir/sock" "$state_dir/postgresql.log" || return 1
        if ! runuser -u "$pg_user" -- test -w "$state_dir/pgdata"; then
            _qp_err "user $pg_user cannot reach $state_dir (a parent directory is not traversable); pass another STATE_DIR"
            return 1
        fi
    fi

    _qp_say "initializing PostgreSQL $pg_version cluster in $state_dir/pgdata (as $pg_user)"
    if ! (cd "$state_dir" && _qp_as_pg_user "$pg_bin/initdb" -D "$state_dir/pgdata" -A trust -U postgres \
            --encoding=UTF8 --locale=C.UTF-8 >"$state_dir/initdb.log" 2>&1); then
        _qp_say "initdb with --locale=C.UTF-8 failed; retrying with --no-locale"
        find "$state_dir/pgdata" -mindepth 1 -delete
        if ! (cd "$state_dir" && _qp_as_pg_user "$pg_bin/initdb" -D "$state_dir/pgdata" -A trust -U postgres \
                --encoding=UTF8 --no-locale >"$state_dir/initdb.log" 2>&1); then
            _qp_err "initdb failed:"
            cat "$state_dir/initdb.log" >&2
            return 1
        fi
    fi

    # Tests trade durability for speed; the benchmark (QUICKPOLL_DURABLE=1) keeps every commit on disk.
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [[ "${QUICKPOLL_DURABLE:-0}" == 1 ]] && durability="-c fsync=on -c synchronous_commit=on"
    _qp_say "starting PostgreSQL $pg_version on 127.0.0.1:$pgport"
    if ! (cd "$state_dir" && _qp_as_pg_user "$pg_bin/pg_ctl" -w -t "$timeout" -D "$state_dir/pgdata" \
            -o "-c listen_addresses=127.0.0.1 -p $pgport -k $state_dir/sock $durability -c max_connections=300" \
            -l "$state_dir/postgresql.log" start >/dev/null); then
        _qp_err "PostgreSQL failed to start; log follows:"
        tail -n 50 "$state_dir/postgresql.log" >&2
        return 1
    fi
    for ((i = 0; i < timeout * 2; i++)); do
        "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pgport" -U postgres && break
        sleep 0.5
    done
    if ! "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pgport" -U postgres; then
        _qp_err "PostgreSQL not ready on 127.0.0.1:$pgport after ${timeout}s; log follows:"
        tail -n 50 "$state_dir/postgresql.log" >&2
        return 1
    fi

    _qp_say "creating database quickpoll"
    "$pg_bin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres quickpoll \
        || { _qp_err "createdb quickpoll failed"; return 1; }

    # 4. Redis.
    _qp_say "starting Redis $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p') on 127.0.0.1:$redis_port"
    echo "$redis_port" >"$state_dir/redis.port"
    if ! redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes \
            --save '' --appendonly no --dir "$state_dir" \
            --pidfile "$state_dir/redis.pid" --logfile "$state_dir/redis.log"; then
        _qp_err "redis-server failed to start"
        tail -n 50 "$state_dir/redis.log" >&2 2>/dev/null || true
        return 1
    fi
    for ((i = 0; i < timeout * 2; i++)); do
        [[ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" == PONG ]] && break
        sleep 0.5
    done
    if [[ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" != PONG ]]; then
        _qp_err "Redis not answering PING on 127.0.0.1:$redis_port after ${timeout}s; log follows:"
        tail -n 50 "$state_dir/redis.log" >&2 2>/dev/null || true
        return 1
    fi
    # The pidfile is written right after daemonizing; make sure stop can find it.
    for ((i = 0; i < 20; i++)); do [[ -s "$state_dir/redis.pid" ]] && break; sleep 0.1; done

    export DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/quickpoll"
    export REDIS_URL="redis://127.0.0.1:$redis_port/0"
    _qp_say "DATABASE_URL=$DATABASE_URL"
    _qp_say "REDIS_URL=$REDIS_URL"
}

if ! _qp_services_start "${1:-}"; then
    _qp_err "failed to start CI services (state dir: ${QUICKPOLL_CI_STATE_DIR:-unknown})"
    quickpoll_services_stop
    return 1
fi

#!/usr/bin/env bash
# Fault injection against the CI services: bash .ci/faults/run_all.sh
#
# Runs after .ci/services.sh was sourced (.ci/run does both, after bin/test made
# .venv): each script stops or kills something for real (Redis, PostgreSQL, a
# server process), checks what clients were told against what the database holds,
# and prints one "faults: ..." line, which it also appends to $QUICKPOLL_CI_SUMMARY
# when that is set.  A script that dies before writing its line gets a FAILED line
# here instead.  Exits non-zero if any script failed; runs them all regardless.
set -uo pipefail

faults_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd "$faults_dir/../.." && pwd -P)
python="$repo_root/.venv/bin/python"
# A backstop only: each script bounds its own waits and takes well under a minute.
script_timeout=${QUICKPOLL_CI_FAULT_TIMEOUT:-120}

if [[ -z "${DATABASE_URL:-}" || -z "${REDIS_URL:-}" || -z "${QUICKPOLL_CI_STATE_DIR:-}" ]]; then
    echo "ERROR: source .ci/services.sh first (DATABASE_URL, REDIS_URL and QUICKPOLL_CI_STATE_DIR are needed)" >&2
    exit 2
fi
if [[ ! -x "$python" ]]; then
    echo "ERROR: $python not found; run bin/test (or bin/bootstrap) first" >&2
    exit 2
fi

summary_lines() {
    if [[ -n "${QUICKPOLL_CI_SUMMARY:-}" && -f "$QUICKPOLL_CI_SUMMARY" ]]; then
        wc -l <"$QUICKPOLL_CI_SUMMARY"
    else
        echo 0
    fi
}

rc=0
for name in smoke redis_stop postgres_restart server_kill graceful_stop pgbouncer scale_out; do
    echo "==> faults: $name"
    before=$(summary_lines)
    started=$SECONDS
    status=0
    # SIGTERM to the script alone (--foreground: not to its process group), so that its finally
    # blocks stop its servers and restart the services; SIGKILL if that takes over 30 s.
    (cd "$repo_root" && timeout --foreground -k 30 "$script_timeout" "$python" "$faults_dir/$name.py") || status=$?
    echo "==> faults: $name exited with status $status after $((SECONDS - started)) s"
    if ((status != 0)); then
        rc=1
        if [[ -n "${QUICKPOLL_CI_SUMMARY:-}" && "$(summary_lines)" == "$before" ]]; then
            echo "faults: $name did not finish (exit status $status) -- FAILED" >>"$QUICKPOLL_CI_SUMMARY"
        fi
    fi
done
exit "$rc"

#!/usr/bin/env bash
# Run CMD against a real, throwaway Secret Service:
#
#   scripts/with-secret-service.sh CMD [ARG...]
#
# CMD runs inside its own `dbus-run-session` with a temporary HOME, where gnome-keyring-daemon
# has been unlocked with a random password, and with DELTADESK_SECRET_SERVICE=1 exported so
# tests marked `real_keyring` know a real keyring is there. The developer's own keyring, session
# bus and HOME are never touched. Exits with CMD's exit code; the temporary HOME is removed.
set -euo pipefail

# gnome-keyring answers an unlock within a second; more than this means it is stuck.
readonly DAEMON_START_TIMEOUT=20

die() {
    printf 'with-secret-service: %s\n' "$*" >&2
    exit 127
}

require_tools() {
    local tool
    for tool in dbus-run-session gnome-keyring-daemon timeout; do
        command -v "$tool" >/dev/null 2>&1 ||
            die "'$tool' not found; install Debian's dbus and gnome-keyring (scripts/bootstrap.sh test)"
    done
}

# Outside the session: make the temporary HOME, start a private bus, re-enter this script in it.
run_outside_session() {
    local tmp_home rc=0
    tmp_home="$(mktemp -d "${TMPDIR:-/tmp}/deltadesk-keyring.XXXXXX")"
    # shellcheck disable=SC2064  # expand now: the path is fixed at this point
    trap "rm -rf '$tmp_home'" EXIT
    _DELTADESK_KEYRING_HOME="$tmp_home" dbus-run-session -- "${BASH_SOURCE[0]}" "$@" || rc=$?
    return "$rc"
}

# Inside the session: point HOME and XDG at the temporary home, unlock a fresh keyring, run CMD.
run_inside_session() {
    # pytest's basetemp follows TMPDIR (not HOME) and .venv is addressed by path, so neither moves.
    export HOME="$_DELTADESK_KEYRING_HOME"
    unset _DELTADESK_KEYRING_HOME
    export XDG_DATA_HOME="$HOME/.local/share"
    export XDG_CACHE_HOME="$HOME/.cache"
    export XDG_CONFIG_HOME="$HOME/.config"
    export XDG_RUNTIME_DIR="$HOME/runtime"
    # Without the keyrings directory gnome-keyring cannot store the collection and
    # set_password hangs instead of failing.
    mkdir -p "$XDG_DATA_HOME/keyrings" "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME"
    mkdir -m 700 "$XDG_RUNTIME_DIR" # HOME is ours and fresh: the parent exists

    local password daemon_env
    password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    daemon_env="$(printf '%s' "$password" |
        timeout -k 5 "$DAEMON_START_TIMEOUT" gnome-keyring-daemon --unlock --components=secrets)" ||
        die "gnome-keyring-daemon did not start and unlock within ${DAEMON_START_TIMEOUT}s"
    # The daemon prints NAME=value lines (its control socket); export them for CMD.
    local line
    while IFS= read -r line; do
        if [[ "$line" == *=* ]]; then export "${line?}"; fi
    done <<<"$daemon_env"

    export DELTADESK_SECRET_SERVICE=1
    local rc=0
    "$@" || rc=$?
    stop_keyring_daemon
    return "$rc"
}

# The daemon detaches (its parent becomes init) and does not always leave when the bus closes,
# so end it by id: it is the gnome-keyring-daemon whose HOME is our temporary one.
stop_keyring_daemon() {
    local environ pid name
    for environ in /proc/[0-9]*/environ; do
        pid="${environ#/proc/}"
        pid="${pid%/environ}"
        read -r name <"/proc/$pid/comm" 2>/dev/null || continue
        [[ "$name" == gnome-keyring-d* ]] || continue
        if grep -qzxF "HOME=$HOME" "$environ" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
    done
}

main() {
    [[ $# -gt 0 ]] || { printf 'usage: %s CMD [ARG...]\n' "$0" >&2; exit 2; }
    require_tools
    if [[ -n "${_DELTADESK_KEYRING_HOME:-}" ]]; then
        run_inside_session "$@"
    else
        run_outside_session "$@"
    fi
}

main "$@"

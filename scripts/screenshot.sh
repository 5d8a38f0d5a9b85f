#!/usr/bin/env bash
# Take a screenshot of the real app on a virtual X display, after asking the demo one question:
#
#   scripts/screenshot.sh [OUT.png] [PROMPT]
#
# Starts Xvfb on :99 (or $SHOT_DISPLAY), runs `.venv/bin/deltadesk --data-dir <tmp>` on it,
# waits for the window, types PROMPT + Return, waits $SHOT_WAIT seconds (default 12) for the
# answer to stream, then grabs the whole screen. There is no window manager: the app sizes and
# places its own window. Installs xvfb, xdotool, x11-apps and netpbm if missing.
#
# To check the X side alone, SHOT_APP and SHOT_WINDOW_NAME replace the program started and the
# window title waited for:  SHOT_APP=xeyes SHOT_WINDOW_NAME=xeyes scripts/screenshot.sh eyes.png ""
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(realpath -m "${1:-shots/deltadesk.png}")"
prompt="${2-Show me a short Python example with a table of what it prints.}"
wait_seconds="${SHOT_WAIT:-12}"
display="${SHOT_DISPLAY:-:99}"
window_name="${SHOT_WINDOW_NAME:-Deltadesk}"
window_timeout=30

log() { printf 'screenshot: %s\n' "$*" >&2; }

xvfb_pid=""
app_pid=""
data_dir=""

# Ends only the processes this script started, by their ids. Never changes the exit code.
stop_process() {
    local pid="$1"
    if [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true
    fi
}

cleanup() {
    stop_process "$app_pid"
    stop_process "$xvfb_pid"
    if [[ -n "$data_dir" ]]; then rm -rf "$data_dir"; fi
}
trap cleanup EXIT

start_xvfb() {
    if [[ -e "/tmp/.X${display#:}-lock" ]]; then
        log "display $display is taken (another Xvfb?); choose another with SHOT_DISPLAY=:NN"
        exit 1
    fi
    Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
    xvfb_pid=$!
    local attempt
    for attempt in $(seq 50); do
        # Any request that needs a connection tells us the server accepts clients.
        xdotool getmouselocation >/dev/null 2>&1 && return 0
        kill -0 "$xvfb_pid" 2>/dev/null || break
        sleep 0.1
    done
    log "Xvfb did not come up on $display after $attempt tries"
    exit 1
}

start_app() {
    data_dir="$(mktemp -d "${TMPDIR:-/tmp}/deltadesk-shot.XXXXXX")"
    if [[ -n "${SHOT_APP:-}" ]]; then
        # shellcheck disable=SC2086  # a command line on purpose: SHOT_APP="xeyes -fg red"
        ${SHOT_APP} &
    else
        "$repo_root/.venv/bin/deltadesk" --data-dir "$data_dir" &
    fi
    app_pid=$!
}

app_window=""

# Waits for the app's visible window, then focuses it (no window manager will).
focus_app_window() {
    local window
    window="$(timeout "$window_timeout" xdotool search --sync --onlyvisible --name "$window_name" \
        2>/dev/null | head -n1)" || true
    [[ -n "$window" ]] || { log "no '$window_name' window within ${window_timeout}s"; exit 1; }
    kill -0 "$app_pid" 2>/dev/null || { log "the app exited early"; exit 1; }
    xdotool windowfocus --sync "$window"
    app_window="$window"
}

main() {
    "$repo_root/scripts/bootstrap.sh" app screenshot
    mkdir -p "$(dirname "$out")"
    export DISPLAY="$display"
    unset WAYLAND_DISPLAY
    # The app must draw on this X server even if the caller's environment says offscreen.
    export QT_QPA_PLATFORM=xcb

    start_xvfb
    start_app
    focus_app_window
    if [[ -n "$prompt" ]]; then
        sleep 1 # let the composer take keyboard focus before typing into it
        xdotool type --delay 20 -- "$prompt"
        xdotool key Return
    fi
    sleep "$wait_seconds"
    # Just the window (SHOT_ROOT=1 for the whole screen): there is no frame to include.
    if [[ -n "${SHOT_ROOT:-}" ]]; then
        xwd -root -silent | xwdtopnm 2>/dev/null | pnmtopng >"$out"
    else
        xwd -id "$app_window" -silent | xwdtopnm 2>/dev/null | pnmtopng >"$out"
    fi
    log "saved $out"
}

main "$@"

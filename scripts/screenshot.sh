#!/usr/bin/env bash
# Screenshots of the real app on a virtual X display.
#
#   scripts/screenshot.sh --docs [DIR]     the README's set, light and dark (default DIR: docs)
#   scripts/screenshot.sh [OUT.png] [PROMPT]   one shot after asking the demo one question
#
# --docs: for each theme (light, dark; SHOT_THEMES="dark" for one) the app starts on a fresh
# data directory with three demo profiles and that theme, and scripts/screenshot_scenes.py
# plays the scenes on it (a markdown answer, a regenerated answer's ◀ 2/2 ▶, compare with three
# columns, the sidebar's full-text search) and grabs the window after each: DIR/NAME.png for
# light, DIR/NAME-dark.png for dark. SHOT_SCENES=compare,search takes some of them only;
# SHOT_SCREEN=800x600x24 tries a small screen (the default is 1280x800x24). About a minute
# per theme: the demo streams at its own speed.
#
# One shot: starts Xvfb on :99 (or $SHOT_DISPLAY), runs `.venv/bin/deltadesk --data-dir <tmp>`
# on it, waits for the window, types PROMPT + Return, waits $SHOT_WAIT seconds (default 12) for
# the answer to stream, then grabs the window. There is no window manager: the app sizes and
# places its own window. Installs xvfb, xdotool, x11-apps and netpbm if missing.
#
# Both run the code of the checkout this script is in (its desktop/ comes first on the path).
#
# To check the X side alone, SHOT_APP and SHOT_WINDOW_NAME replace the program started and the
# window title waited for:  SHOT_APP=xeyes SHOT_WINDOW_NAME=xeyes scripts/screenshot.sh eyes.png ""
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
docs_mode=""
if [[ "${1:-}" == --docs ]]; then
    docs_mode=1
    shift
fi
if [[ -n "$docs_mode" ]]; then
    out="$(realpath -m "${1:-$repo_root/docs}")"
else
    out="$(realpath -m "${1:-shots/deltadesk.png}")"
fi
prompt="${2-Show me a short Python example with a table of what it prints.}"
wait_seconds="${SHOT_WAIT:-12}"
display="${SHOT_DISPLAY:-:99}"
screen="${SHOT_SCREEN:-1280x800x24}"
python="${SHOT_PYTHON:-$repo_root/.venv/bin/python}"
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
    Xvfb "$display" -screen 0 "$screen" -nolisten tcp >/dev/null 2>&1 &
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

# The README's set: every scene in each theme, one app run per theme.
take_docs_shots() {
    local theme
    mkdir -p "$out"
    for theme in ${SHOT_THEMES:-light dark}; do
        log "$theme theme"
        PYTHONPATH="$repo_root/desktop${PYTHONPATH:+:$PYTHONPATH}" timeout 600 "$python" \
            "$repo_root/scripts/screenshot_scenes.py" --theme "$theme" --out "$out" \
            ${SHOT_SCENES:+--scenes "$SHOT_SCENES"} ||
            { log "the $theme shots failed"; exit 1; }
    done
    log "saved in $out"
}

main() {
    # SHOT_NO_BOOTSTRAP=1: the tools and the venv are there already (a copy of the checkout
    # run with another checkout's SHOT_PYTHON).
    [[ -n "${SHOT_NO_BOOTSTRAP:-}" ]] || "$repo_root/scripts/bootstrap.sh" app screenshot
    export DISPLAY="$display"
    unset WAYLAND_DISPLAY
    # The app must draw on this X server even if the caller's environment says offscreen.
    export QT_QPA_PLATFORM=xcb

    start_xvfb
    if [[ -n "$docs_mode" ]]; then
        take_docs_shots
        return
    fi
    mkdir -p "$(dirname "$out")"
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

#!/usr/bin/env bash
# Install what this checkout needs and is missing, then get out of the way.
#
#   scripts/bootstrap.sh [GROUP...]      groups: app, test, screenshot (default: app test)
#
# 1. Debian packages: the shared libraries PySide6's wheels expect from the system (found with
#    `ldd` on the Qt libraries and the offscreen/xcb platform plugins), a Secret Service for the
#    real-keyring test, and optionally the tools scripts/screenshot.sh drives. As root they are
#    installed; otherwise the exact `sudo apt-get install ...` line is printed.
# 2. .venv with an editable `pip install -e '.[test]'`, redone only when pyproject.toml changes
#    (a stamp file .venv/.installed-<hash> remembers the last install).
#
# Quiet and quick (well under a second) when there is nothing to do.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# What Qt needs at run time, for `offscreen` and for a real X11 window (`xcb`, GLX/EGL
# integrations). Checked against `readelf -d` NEEDED entries of PySide6 6.12's libQt6Core/Gui/
# Widgets/DBus/XcbQpa, libqxcb, libqoffscreen and libqxcb-{egl,glx}-integration. Qt 6 no longer
# links libxcb-xinerama, so it is not listed. Fonts: fontconfig finds none on a minimal system.
APP_PACKAGES=(
    libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libstdc++6 zlib1g
    libzstd1 libx11-6 libx11-xcb1 libxkbcommon0 libxkbcommon-x11-0 libxcb1 libxcb-cursor0
    libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-util1 libxcb-randr0 libxcb-render0
    libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb-xkb1
    libxcb-glx0 fonts-dejavu-core
)
# A private D-Bus session with gnome-keyring for scripts/with-secret-service.sh. dbus-x11 is
# named so that apt satisfies gnome-keyring's session-bus dependency with it rather than with
# dbus-user-session, which would drag systemd into a minimal container.
TEST_PACKAGES=(dbus dbus-bin dbus-daemon dbus-x11 gnome-keyring)
SCREENSHOT_PACKAGES=(xvfb xdotool x11-apps netpbm)

log() { printf 'bootstrap: %s\n' "$*" >&2; }

# Prints the names from "$@" that dpkg does not report as fully installed ("ii").
missing_debian_packages() {
    local -A installed=()
    local status package
    # One dpkg-query for all names keeps the no-op path fast; unknown names only go to stderr.
    while read -r status package; do
        if [[ "$status" == ii ]]; then installed["$package"]=1; fi
    done < <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null || true)
    for package in "$@"; do
        [[ -n "${installed[$package]:-}" ]] || printf '%s\n' "$package"
    done
}

venv_is_usable() {
    .venv/bin/python -c 'import pip' 2>/dev/null
}

# Without ensurepip (Debian splits it into python3-venv), `python3 -m venv` makes a .venv with
# no pip in it.
venv_support_packages() {
    if ! venv_is_usable && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        printf '%s\n' python3-venv
    fi
}

install_debian_packages() {
    local -a wanted=("$@")
    if ! command -v dpkg-query >/dev/null 2>&1; then
        log "not a Debian system: skipping system packages (wanted: ${wanted[*]})"
        return 0
    fi
    local -a missing
    mapfile -t missing < <(missing_debian_packages "${wanted[@]}")
    [[ ${#missing[@]} -eq 0 ]] && return 0

    if [[ "$(id -u)" -ne 0 ]]; then
        log "missing Debian packages: ${missing[*]}"
        log "install them, then run this again:"
        printf '  sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n' \
            "${missing[*]}" >&2
        exit 1
    fi
    log "installing Debian packages: ${missing[*]}"
    # Wait for another apt/dpkg run to finish instead of failing on its lock.
    local -a apt=(apt-get -q -o DPkg::Lock::Timeout=600)
    export DEBIAN_FRONTEND=noninteractive
    "${apt[@]}" update >/dev/null
    "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
}

# The stamp names the pyproject.toml that .venv was last installed from.
venv_stamp() {
    printf '.venv/.installed-%s' "$(sha256sum pyproject.toml | cut -c1-16)"
}

venv_up_to_date() {
    [[ -e "$(venv_stamp)" && -x .venv/bin/python ]]
}

ensure_venv() {
    venv_up_to_date && return 0
    if ! venv_is_usable; then
        log "creating .venv"
        python3 -m venv .venv # over a half-made .venv too: it reinstalls pip there
    fi
    log "installing deltadesk and its test tools into .venv (pip install -e '.[test]')"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
    rm -f .venv/.installed-*
    touch "$(venv_stamp)"
}

main() {
    local -a groups=("$@")
    [[ ${#groups[@]} -eq 0 ]] && groups=(app test)

    local -a packages=("${APP_PACKAGES[@]}")
    if ! venv_up_to_date; then
        mapfile -t -O "${#packages[@]}" packages < <(venv_support_packages)
    fi
    local group
    for group in "${groups[@]}"; do
        case "$group" in
            app) ;;
            test) packages+=("${TEST_PACKAGES[@]}") ;;
            screenshot) packages+=("${SCREENSHOT_PACKAGES[@]}") ;;
            *) log "unknown group '$group' (expected: app, test, screenshot)"; exit 2 ;;
        esac
    done
    install_debian_packages "${packages[@]}"
    ensure_venv
}

main "$@"

#!/usr/bin/env bash
# Ensure Debian's headless Chromium is installed and print its path.
#
# The browser tests drive /usr/bin/chromium with Playwright; Playwright's own
# browser download cannot work here (no internet), so the distribution package
# is the browser. Installs with apt-get when root, else through `sudo -n`
# (never prompts). Exits non-zero when Chromium is missing and cannot be
# installed, so CI fails instead of skipping the browser tests.
set -euo pipefail

CHROMIUM=${AUDITWATCH_CHROMIUM:-/usr/bin/chromium}

if [[ ! -x "$CHROMIUM" ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "browser.sh: $CHROMIUM is missing and this user can neither apt-get nor sudo -n;" \
             "install Debian's 'chromium' package" >&2
        exit 1
    fi
    echo "browser.sh: installing Debian's chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get install -y --no-install-recommends chromium >&2 \
        || { "${SUDO[@]}" apt-get update >&2 && "${SUDO[@]}" apt-get install -y --no-install-recommends chromium >&2; }
fi

if [[ ! -x "$CHROMIUM" ]]; then
    echo "browser.sh: $CHROMIUM still missing after installing chromium" >&2
    exit 1
fi
echo "$CHROMIUM"

#!/usr/bin/env bash
# Debian's Chromium for the widget's browser tests (Playwright drives it; no browser download).
# Needs root or sudo the first time; does nothing when a Chromium is already there.
set -euo pipefail
for candidate in "${BLOGBOT_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
        exit 0
    fi
done
echo "setup: installing Debian's chromium for the browser tests" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
[ -x /usr/bin/chromium ] || { echo "error: chromium did not install" >&2; exit 1; }

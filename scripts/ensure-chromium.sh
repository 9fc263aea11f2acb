#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a downloaded browser); install it when missing.
set -eu
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "Installing Debian's chromium package for the browser tests…"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "Chromium is missing and cannot be installed without root: run 'sudo apt-get install chromium'." >&2
  exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
test -x /usr/bin/chromium

#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a downloaded browser) and look at pages in Chinese,
# which need a CJK font (Debian's fonts-noto-cjk; badges and certificates render it too,
# see backend/fonts.py); the badge tests read every rendered QR code back with an independent decoder,
# zbar's zbarimg (Debian's zbar-tools). Install whichever is missing, as root or with password-less sudo.
set -eu

packages=()
if [ ! -x /usr/bin/chromium ]; then
  packages+=(chromium)
fi
# fc-list (package fontconfig) is how both this script and backend/fonts.py find the font.
if ! command -v fc-list >/dev/null; then
  packages+=(fontconfig)
fi
# What backend/fonts.py asks for: the face fontconfig picks for Simplified Chinese must cover it (a
# machine with only a fallback font such as Droid Sans Fallback answers DejaVu Sans here).
if ! command -v fc-match >/dev/null || ! fc-match 'sans-serif:lang=zh-cn' --format '%{lang}' | tr '|' '\n' | grep -qx zh-cn; then
  packages+=(fonts-noto-cjk)
fi
if ! command -v zbarimg >/dev/null; then
  packages+=(zbar-tools)
fi
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing Debian's ${packages[*]} for the browser tests…"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "Missing ${packages[*]}, which cannot be installed without root: run 'sudo apt-get install ${packages[*]}'." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "Missing ${packages[*]} and no apt-get here: install Chromium at /usr/bin/chromium and a CJK font (Noto Sans CJK) with your system's tools." >&2
  exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null

test -x /usr/bin/chromium || { echo "/usr/bin/chromium is still missing after the installation." >&2; exit 1; }
command -v zbarimg >/dev/null || { echo "zbarimg is still missing after installing zbar-tools." >&2; exit 1; }
if [ -z "$(fc-list :lang=zh family)" ]; then
  echo "No font for Chinese after installing fonts-noto-cjk (fc-list :lang=zh is empty)." >&2
  exit 1
fi

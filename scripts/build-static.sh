#!/usr/bin/env bash
# Build the static files that come from npm, so the site serves everything itself (no CDN at run time):
#   frontend/scanner (package.json + package-lock.json, pinned)  ->  backend/static/vendor/zxing/
# the WebAssembly QR decoder of the scanner page (/scan): zxing-wasm's reader, its ESM JavaScript and
# its .wasm. The page tells the decoder where the .wasm is (/static/vendor/zxing/reader/), because by
# default zxing-wasm fetches it from a CDN. Run by `make` (as part of installing Podium, so of
# `make demo` and `make test`); needs Node.js 20+ and npm. Skipped when the copy matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

SRC=frontend/scanner
OUT=backend/static/vendor/zxing
STAMP="$OUT/.lock-sha256"
want=$(sha256sum "$SRC/package-lock.json" | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -f "$OUT/reader/zxing_reader.wasm" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "build-static: npm is missing: install Node.js 20+ with npm (Debian: apt-get install nodejs npm)" >&2
  echo "build-static: without it the scanner page cannot decode QR codes from the camera where the browser lacks BarcodeDetector" >&2
  exit 1
fi

echo "Building the scanner's QR decoder (zxing-wasm, from npm) into $OUT…"
npm ci --prefix "$SRC" --no-audit --no-fund --ignore-scripts --loglevel=error
PKG="$SRC/node_modules/zxing-wasm"
rm -rf "$OUT"
mkdir -p "$OUT/reader"
cp "$PKG/dist/es/share.js" "$OUT/share.js"
cp "$PKG/dist/es/reader/index.js" "$OUT/reader/index.js"
cp "$PKG/dist/reader/zxing_reader.wasm" "$OUT/reader/zxing_reader.wasm"
cp "$PKG/LICENSE" "$OUT/LICENSE" 2>/dev/null || true
version=$(node -p "require('./$PKG/package.json').version")
printf 'zxing-wasm %s (MIT), from the npm registry through frontend/scanner/package-lock.json;\ncopied here by scripts/build-static.sh. Not committed: `make` rebuilds it.\n' "$version" > "$OUT/SOURCE.md"
echo "$want" > "$STAMP"

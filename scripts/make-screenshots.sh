#!/usr/bin/env bash
# Screenshots of the reference reports' HTML pages (reports/*.png, docs/report.md "HTML report"),
# taken with headless Chromium (Debian package chromium). Usage:
#   scripts/make-screenshots.sh [MESHSIM] [OUTDIR]
# The pages are written to a temporary directory; only the PNGs are kept. Pixels depend on the
# installed fonts and Chromium version, so the PNGs are not compared byte for byte by any test
# (tests/reports/html_browser_test.cpp checks the pages' data instead).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
meshsim="${1:-$root/build/release/meshsim}"
out="${2:-$root/reports}"
chromium="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium" ]; then
  echo "make-screenshots: chromium not found; apt-get install chromium" >&2
  exit 2
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
cd "$root"
for name in vit-22b_tpu-v4_1024 vit-22b_h100_1024 vit-e14_tpu-v4_256; do
  "$meshsim" html "reports/$name.json" -o "$tmp/$name.html"
  "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
    --virtual-time-budget=10000 --window-size=1200,3400 --screenshot="$out/$name.png" \
    "file://$tmp/$name.html" > /dev/null 2>&1
  echo "make-screenshots: $out/$name.png"
done

#!/usr/bin/env bash
# Compares every screenshot in docs/screenshots (as it is in the working tree, e.g. just retaken by
# tools/screenshots.sh) with its version at an earlier commit, pixel by pixel (screenshot-diff).
# Prints a Markdown table row per shot; writes BEFORE, AFTER side files and a highlight of the
# differing pixels (red over the dimmed new shot) to OUT_DIR, to look at.
# Usage: tools/compare_screenshots.sh COMMIT [BUILD_DIR] [OUT_DIR]   (default build/main, a temp dir)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:?usage: tools/compare_screenshots.sh COMMIT [BUILD_DIR] [OUT_DIR]}
diff=${2:-$root/build/main}/tools/screenshot_diff/screenshot-diff
out=${3:-$(mktemp -d)}
mkdir -p "$out"
echo "| shot | before ($base) | pixel diff |"
echo "| --- | --- | --- |"
for now in "$root"/docs/screenshots/*.png; do
  name=$(basename "$now")
  if ! git -C "$root" cat-file -e "$base:docs/screenshots/$name" 2>/dev/null; then
    echo "| $name | (none: new since) | |"
    continue
  fi
  git -C "$root" show "$base:docs/screenshots/$name" > "$out/${name%.png}.before.png"
  from=$(git -C "$root" log -1 --format=%h "$base" -- "docs/screenshots/$name")
  result=$("$diff" "$out/${name%.png}.before.png" "$now" "$out/${name%.png}.highlight.png" || true)
  echo "| $name | $from | $result |"
done
echo "highlights in $out" >&2

#!/usr/bin/env bash
# The device tool sends the checkout its session started in (README of the device library), not a
# helper's worktree. This packs what the worktree's HEAD changes against that checkout's HEAD into
# an ignored folder of it, to be carried and unpacked there:
#   tools/device/pack_overlay.sh [SESSION_CHECKOUT]      (default /work/main)
# writes SESSION_CHECKOUT/build-device-carry/ (ignored by its /build*/ rule): overlay.tgz (the files
# added or changed), deleted.txt, commit, deps/ (a copy of .deps, see ../shared/device). On the
# device, from the repository root:
#   c=build-device-carry; tar xzf $c/overlay.tgz && xargs -r rm -f < $c/deleted.txt && source $c/deps/setup.sh
set -euo pipefail
root=${1:-/work/main}
carry="$root/build-device-carry"
base=$(git -C "$root" rev-parse HEAD)
mine=$(git rev-parse HEAD)
[ -d .deps ] || { echo "no .deps here: run ../shared/device/fetch-debs.sh .deps first" >&2; exit 1; }
rm -rf "$carry"
mkdir -p "$carry/deps"
git diff --name-only --diff-filter=d "$base" "$mine" > "$carry/changed.txt"
git diff --name-only --diff-filter=D "$base" "$mine" > "$carry/deleted.txt"
if [ -s "$carry/changed.txt" ]; then
  tr '\n' '\0' < "$carry/changed.txt" | xargs -0 git archive --format=tar "$mine" -- | gzip > "$carry/overlay.tgz"
else
  tar czf "$carry/overlay.tgz" -T /dev/null
fi
cp .deps/* "$carry/deps/"
git rev-parse --short HEAD > "$carry/commit"
echo "packed $(wc -l < "$carry/changed.txt") changed, $(wc -l < "$carry/deleted.txt") deleted files of $(cat "$carry/commit") against $(git -C "$root" rev-parse --short HEAD) into $carry ($(du -sh "$carry" | cut -f1))"

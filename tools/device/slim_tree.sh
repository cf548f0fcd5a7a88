#!/usr/bin/env bash
# What a device call carries is capped at 64 MiB (tracked files + untracked-not-ignored + carried
# paths). With the bundled checkpoints (the demo model 27.7 MB, its block-distilled copy 27.7 MB, the
# cut-marker segmenter 12 MB) and .deps (18.5 MB) the checkout is over it, so move the checkpoints a
# device command does not need out of the tree for the call, and back:
#   tools/device/slim_tree.sh out [DIR ...]   # DIR under resources/; default:
#                                             #   models/demo-block-distilled segmenters/cut-markers
#   ... the device call ...
#   tools/device/slim_tree.sh in              # always, even after a failed call
# Directories are parked in ../.blocklens-slim beside the checkout; `in` refuses to overwrite
# anything that came back in the meantime.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
park="$root/../.blocklens-slim"
case "${1:-}" in
  out)
    shift
    names=("$@"); [ ${#names[@]} -gt 0 ] || names=(models/demo-block-distilled segmenters/cut-markers)
    mkdir -p "$park"
    for n in "${names[@]}"; do
      src="$root/resources/$n" parked="$park/${n//\//__}"
      [ -d "$src" ] || { echo "slim_tree: no $src"; exit 1; }
      [ ! -e "$parked" ] || { echo "slim_tree: $parked already parked (run 'in' first)"; exit 1; }
      mv "$src" "$parked" && echo "parked resources/$n"
    done ;;
  in)
    [ -d "$park" ] || exit 0
    for d in "$park"/*; do
      [ -e "$d" ] || continue
      n=$(basename "$d"); n=${n//__//}
      [ ! -e "$root/resources/$n" ] || { echo "slim_tree: resources/$n exists; left $d parked"; continue; }
      mv "$d" "$root/resources/$n" && echo "restored resources/$n"
    done
    rmdir "$park" 2>/dev/null || true ;;
  *) echo "usage: tools/device/slim_tree.sh out [MODEL ...] | in"; exit 2 ;;
esac

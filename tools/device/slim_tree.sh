#!/usr/bin/env bash
# What a device call carries is capped at 64 MiB (tracked files + untracked-not-ignored + carried
# paths). With the bundled models (two of 27.7 MB) and .deps (18.5 MB) the checkout is over it, so
# move the bundled models a device command does not need out of the tree for the call, and back:
#   tools/device/slim_tree.sh out [demo-block-distilled] [demo]   # default: demo-block-distilled
#   ... the device call ...
#   tools/device/slim_tree.sh in                                   # always, even after a failed call
# Only tracked model directories under resources/models are moved (to ../.blocklens-slim beside the
# checkout), and `in` refuses to overwrite anything that came back in the meantime.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
park="$root/../.blocklens-slim"
case "${1:-}" in
  out)
    shift
    names=("$@"); [ ${#names[@]} -gt 0 ] || names=(demo-block-distilled)
    mkdir -p "$park"
    for n in "${names[@]}"; do
      src="$root/resources/models/$n"
      [ -d "$src" ] || { echo "slim_tree: no $src"; exit 1; }
      [ ! -e "$park/$n" ] || { echo "slim_tree: $park/$n already parked (run 'in' first)"; exit 1; }
      mv "$src" "$park/$n" && echo "parked resources/models/$n"
    done ;;
  in)
    [ -d "$park" ] || exit 0
    for d in "$park"/*; do
      [ -e "$d" ] || continue
      n=$(basename "$d")
      [ ! -e "$root/resources/models/$n" ] || { echo "slim_tree: resources/models/$n exists; left $d parked"; continue; }
      mv "$d" "$root/resources/models/$n" && echo "restored resources/models/$n"
    done
    rmdir "$park" 2>/dev/null || true ;;
  *) echo "usage: tools/device/slim_tree.sh out [MODEL ...] | in"; exit 2 ;;
esac

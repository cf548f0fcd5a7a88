# Sourced by tools/device/lodo.sh and train_cut_markers.sh (issue 20): the data they read from the
# carried, git-ignored segcorpus-data/ folder, and blocklens-cli built once per machine in one
# folder, so a second script on a warm machine builds nothing.

# seg_start DIR: the clock (t0, elapsed), $OUT, and an empty work folder W=DIR.
seg_start() {
  t0=$(date +%s)
  OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
  W=$1; rm -rf "$W"; mkdir -p "$W"
}
elapsed() { echo $(( $(date +%s) - t0 )); }

# seg_data NAME: the path of segcorpus-data/NAME, decompressed into $W when it travelled as NAME.xz.
seg_data() {
  local f=segcorpus-data/$1
  if [ -s "$f" ]; then echo "$f"; elif [ -s "$f.xz" ]; then xz -dc "$f.xz" > "$W/$1" && echo "$W/$1"; else return 1; fi
}

# seg_build: configure + build blocklens-cli (libtorch, no UI, tests or benchmarks) in
# /tmp/build-seg; sets cli. Ends the script with the errors when it fails.
seg_build() {
  local build=/tmp/build-seg
  echo "== configure + build ($(( $(date +%s) - t0 )) s)"
  cmake -S . -B "$build" -G Ninja $DEVICE_CMAKE_ARGS -DCMAKE_BUILD_TYPE=Release -DBLOCKLENS_BUILD_UI=OFF \
    -DBLOCKLENS_WITH_NET=OFF -DBLOCKLENS_WITH_TORCH=ON -DBLOCKLENS_BUILD_BENCH=OFF -DBLOCKLENS_BUILD_TESTS=OFF > "$W/configure.log" 2>&1 \
    || { tail -30 "$W/configure.log"; exit 1; }
  cmake --build "$build" --parallel 16 --target blocklens-cli > "$W/build.log" 2>&1 \
    || { grep -E 'error' "$W/build.log" | head -30; exit 1; }
  echo "built in $(( $(date +%s) - t0 )) s"
  cli="$build/app/cli/blocklens-cli"
}

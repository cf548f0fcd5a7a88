# Sourced by kernels.sh and prefill.sh (from the repository root, after .deps/setup.sh): the
# timer, $OUT, and one configure + build of the CUDA kernels (no UI, no torch) in /tmp/build-kern.
#   build_kernels TARGET...   builds them, logs under $OUT, prints registers and spills of the
#                             attention kernels; exits the script on a configure or build error.
set -uo pipefail
t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - t0 )); }
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
build=/tmp/build-kern

build_kernels() {
  local nvcc
  nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
  echo "== configure + build ($(elapsed) s)"
  cmake -S . -B "$build" -G Ninja ${DEVICE_CMAKE_ARGS:-} -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc" \
    -DBLOCKLENS_BUILD_UI=OFF -DBLOCKLENS_WITH_NET=OFF -DBLOCKLENS_WITH_TORCH=OFF -DBLOCKLENS_WITH_CUDA=ON > "$OUT/configure.log" 2>&1 \
    || { tail -30 "$OUT/configure.log"; exit 1; }
  cmake --build "$build" --parallel 16 --target "$@" > "$OUT/build.log" 2>&1 \
    || { grep -E 'error|Error' "$OUT/build.log" | head -40; exit 1; }
  grep -A2 -E 'Compiling entry function .*(prefillSm90Kernel|prefillFastKernel|massFastKernel|ropeReencodeKernel)' "$OUT/build.log" \
    | grep -E 'registers|spill' | head -10
}

# Shared by scripts/run, scripts/test and .ci/run: the one list of Debian packages BlockLens needs
# (installed only if some are missing, so a second run costs a dpkg query, not an apt round trip),
# the one build tree both README commands use, and the compiler cache outside the clone.
# shellcheck shell=bash

# Installed with --no-install-recommends: name every package the build uses, even one that
# another package would only recommend (qt6-charts-dev needs Qt6OpenGL, i.e. libqt6opengl6-dev).
# .ci/run checks this list against what the build really used (../shared/tools/fresh-deps-check).
BLOCKLENS_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git xz-utils
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev qt6-svg-dev libqt6sql6-sqlite libgl-dev
  libtorch-dev libopenblas0-pthread libsqlite3-dev nlohmann-json3-dev libpcre2-dev
  # blocklens-cli serve and its client (net/, issue 22): cpp-httplib, a compiled library in Debian.
  libcpp-httplib-dev
  xvfb xauth fonts-dejavu-core
  # scripts/fuzz (run by .ci/run): clang's libFuzzer and sanitizer runtimes are only recommended by
  # clang, so they are named here.
  clang libclang-rt-14-dev
)

blocklens_missing_packages() {
  local p missing=()
  for p in "${BLOCKLENS_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  echo "${missing[@]}"
}

blocklens_ensure_packages() {
  local missing
  missing=$(blocklens_missing_packages)
  [ -z "$missing" ] && return 0
  echo "==> installing Debian packages: $missing"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root (or sudo) to install: $missing" >&2; return 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q || return 1
  # shellcheck disable=SC2086
  $sudo apt-get install -y -q --no-install-recommends $missing || return 1
}

# The one build tree of scripts/run and scripts/test (so the second command only builds what the
# first did not): Release, in build/main unless BLOCKLENS_BUILD_DIR says otherwise.
BLOCKLENS_BUILD_TYPE=Release
blocklens_build_dir() { echo "${BLOCKLENS_BUILD_DIR:-$BLOCKLENS_ROOT/build/main}"; }

# The compiler cache lives outside the clone, so a fresh clone on the same machine reuses it
# (CMakeLists.txt makes its paths relative to the clone, see BLOCKLENS_CCACHE).
blocklens_use_compiler_cache() {
  export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/blocklens/ccache}"
  mkdir -p "$CCACHE_DIR"
  # 5 GB holds several trees' worth of objects (one Release tree is about 0.6 GB in the cache).
  [ -f "$CCACHE_DIR/ccache.conf" ] || echo "max_size = 5G" > "$CCACHE_DIR/ccache.conf"
}

# Configures (only when the build folder is new) and builds the given targets (default: all).
#   blocklens_build [TARGET...]
blocklens_build() {
  local dir targets=()
  dir=$(blocklens_build_dir)
  blocklens_use_compiler_cache
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$BLOCKLENS_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$BLOCKLENS_BUILD_TYPE" || return 1
  fi
  [ $# -gt 0 ] && targets=(--target "$@")
  cmake --build "$dir" --parallel "$(nproc)" "${targets[@]}"
}

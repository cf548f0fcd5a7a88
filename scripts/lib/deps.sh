# Shared by scripts/run and scripts/test: installs the Debian packages BlockLens needs, only if
# some are missing (so a second run costs a dpkg query, not an apt round trip).
# shellcheck shell=bash

BLOCKLENS_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git xz-utils
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev qt6-svg-dev libqt6sql6-sqlite libgl-dev
  libtorch-dev libopenblas0-pthread libsqlite3-dev nlohmann-json3-dev libpcre2-dev
  xvfb xauth fonts-dejavu-core
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

# Configures (only when the build folder is new) and builds. Usage: blocklens_build DIR TYPE [cmake args...]
blocklens_build() {
  local dir=$1 type=$2
  shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$BLOCKLENS_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" || return 1
  fi
  cmake --build "$dir" --parallel "$(nproc)"
}

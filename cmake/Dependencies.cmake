# Third-party dependencies, all from Debian packages (see scripts/lib/deps.sh).
find_package(nlohmann_json 3.10 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
find_package(Threads REQUIRED)

# libtorch for core/engine: Debian's libtorch-dev (CPU) here; on a GPU machine PyTorch's own,
# e.g. -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')".
if(BLOCKLENS_WITH_TORCH)
  find_package(Torch REQUIRED)
endif()

set(BLOCKLENS_QT_COMPONENTS Core Test)
if(BLOCKLENS_BUILD_UI)
  list(APPEND BLOCKLENS_QT_COMPONENTS Gui Widgets Concurrent Charts Svg)
endif()
if(BLOCKLENS_BUILD_TESTS OR BLOCKLENS_BUILD_UI)
  find_package(Qt6 6.2 REQUIRED COMPONENTS ${BLOCKLENS_QT_COMPONENTS})
endif()

# Test fixtures and benchmark data are committed compressed (.tar.xz); unpack them into the build
# tree at configure time so tests and benchmarks read plain files and need no network.
function(blocklens_unpack_archive archive dest)
  get_filename_component(name "${archive}" NAME)
  set(stamp "${dest}/.${name}.stamp")
  if(NOT EXISTS "${stamp}" OR "${archive}" IS_NEWER_THAN "${stamp}")
    file(MAKE_DIRECTORY "${dest}")
    file(ARCHIVE_EXTRACT INPUT "${archive}" DESTINATION "${dest}")
    file(TOUCH "${stamp}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${archive}")
endfunction()

set(BLOCKLENS_FIXTURES_DIR "${CMAKE_BINARY_DIR}/fixtures")
file(GLOB _tokenizer_archives "${CMAKE_SOURCE_DIR}/tests/fixtures/tokenizers/*.tar.xz")
foreach(a IN LISTS _tokenizer_archives)
  blocklens_unpack_archive("${a}" "${BLOCKLENS_FIXTURES_DIR}/tokenizers")
endforeach()
blocklens_unpack_archive("${CMAKE_SOURCE_DIR}/bench/data/english-1mb.tar.xz" "${BLOCKLENS_FIXTURES_DIR}/bench")

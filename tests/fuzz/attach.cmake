# tools/sanitize.sh and tools/fuzz.sh pass this file as CMAKE_PROJECT_INCLUDE.
# If tests/CMakeLists.txt does not add_subdirectory(fuzz) itself, it includes
# tests/fuzz/CMakeLists.txt at the end of the top-level one (a deferred call
# may not add_subdirectory), so the fuzzers build from a tree whose CMake
# files do not list them yet; their binaries then land in the build
# directory's top level. Once tests/ lists fuzz/, this does nothing.
option(SBD_BUILD_FUZZERS "Build the libFuzzer targets in tests/fuzz (clang only)" OFF)
function(sbd_attach_fuzz)
  if(NOT TARGET request_parser_fuzz_regression)
    include(${CMAKE_SOURCE_DIR}/tests/fuzz/CMakeLists.txt)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL sbd_attach_fuzz)

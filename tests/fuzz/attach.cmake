# tools/fuzz.sh passes this file as CMAKE_PROJECT_INCLUDE only when
# tests/CMakeLists.txt does not add_subdirectory(fuzz) itself: it includes
# tests/fuzz/CMakeLists.txt at the end of the top-level one (a deferred call
# may not add_subdirectory), so the fuzzers build from a tree whose CMake
# files do not list them yet. Their binaries then land in build-fuzz/, not
# build-fuzz/tests/fuzz/.
option(SBD_BUILD_FUZZERS "Build the libFuzzer targets in tests/fuzz (clang only)" OFF)
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR}
               CALL include ${CMAKE_SOURCE_DIR}/tests/fuzz/CMakeLists.txt)

# sbd_embed_bytes(): writes a .cc that defines one function returning the
# bytes of a file, so the binary serves it without reading the source tree.
# Included by the embed_*.cmake scripts of this directory (run in script mode
# by the custom commands of transport/web/CMakeLists.txt).
#
#   sbd_embed_bytes(INPUT <file> OUTPUT <file.cc> HEADER <header to include>
#                   FUNCTION <name in namespace sbd> ORIGIN <what to edit instead>
#                   WHAT <what the bytes are, for a comment>)
#
# The output is rewritten only when it changes, so unchanged bytes do not
# relink the server.
function(sbd_embed_bytes)
  cmake_parse_arguments(ARG "" "INPUT;OUTPUT;HEADER;FUNCTION;ORIGIN;WHAT" "" ${ARGN})
  foreach(required INPUT OUTPUT HEADER FUNCTION ORIGIN WHAT)
    if(NOT ARG_${required})
      message(FATAL_ERROR "sbd_embed_bytes: ${required} is required")
    endif()
  endforeach()

  # Bytes, not a string literal: no escaping rules, no length limits.
  file(READ "${ARG_INPUT}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR byte_count "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # 16 bytes a line.
  set(sixteen "")
  foreach(i RANGE 1 16)
    string(APPEND sixteen "0x[0-9a-f][0-9a-f],")
  endforeach()
  string(REGEX REPLACE "(${sixteen})" "\\1\n    " bytes "${bytes}")

  set(source "// Generated from ${ARG_ORIGIN}. Edit those, not this file.
#include \"${ARG_HEADER}\"

#include <cstddef>

namespace sbd {
namespace {

// ${byte_count} bytes of ${ARG_WHAT}.
constexpr unsigned char kBytes[] = {
    ${bytes}
};

}  // namespace

std::string_view ${ARG_FUNCTION}() {
  return {reinterpret_cast<const char*>(kBytes), sizeof(kBytes)};
}

}  // namespace sbd
")

  file(WRITE "${ARG_OUTPUT}.tmp" "${source}")
  file(COPY_FILE "${ARG_OUTPUT}.tmp" "${ARG_OUTPUT}" ONLY_IF_DIFFERENT)
  file(REMOVE "${ARG_OUTPUT}.tmp")
endfunction()

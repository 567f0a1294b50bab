# Embeds the OpenAPI document served at GET /openapi.json in C++.
#
# Run in script mode by the custom command of transport/web/CMakeLists.txt:
#   cmake -DINPUT=<openapi.json> -DOUTPUT=<file.cc> -P embed_openapi.cmake
#
# Refuses a file that is not JSON or not an OpenAPI 3.1 document (so a broken
# edit fails the build, not a client), then writes a .cc that defines
# sbd::OpenApiDocumentJson() over its bytes, served as they are.
cmake_minimum_required(VERSION 3.25)

if(NOT INPUT OR NOT OUTPUT)
  message(FATAL_ERROR "embed_openapi.cmake: pass -DINPUT=... -DOUTPUT=...")
endif()

file(READ "${INPUT}" document)
# string(JSON) parses the whole text, so any syntax error anywhere fails here.
string(JSON version ERROR_VARIABLE json_error GET "${document}" openapi)
if(json_error)
  message(FATAL_ERROR "embed_openapi.cmake: ${INPUT}: ${json_error}")
endif()
if(NOT version MATCHES "^3\\.1\\.[0-9]+$")
  message(FATAL_ERROR "embed_openapi.cmake: ${INPUT}: \"openapi\" is '${version}', expected 3.1.x")
endif()

include(${CMAKE_CURRENT_LIST_DIR}/embed_bytes.cmake)
sbd_embed_bytes(
  INPUT "${INPUT}"
  OUTPUT "${OUTPUT}"
  HEADER "transport/openapi_document.h"
  FUNCTION OpenApiDocumentJson
  ORIGIN "transport/web/openapi.json by\n// transport/web/embed_openapi.cmake"
  WHAT "UTF-8 JSON")

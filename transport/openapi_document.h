// The OpenAPI 3.1 document of the API (API.md), served at GET /openapi.json:
// transport/web/openapi.json, embedded at build time.
//
// Thread-safety: returns a view of a static constant.
#ifndef SBD_TRANSPORT_OPENAPI_DOCUMENT_H_
#define SBD_TRANSPORT_OPENAPI_DOCUMENT_H_

#include <string_view>

namespace sbd {

// The document's UTF-8 JSON (static storage; valid for the whole program).
std::string_view OpenApiDocumentJson();

}  // namespace sbd

#endif  // SBD_TRANSPORT_OPENAPI_DOCUMENT_H_

// HttpRequest and HttpResponse: the Beast messages every HTTP part of the
// server passes around (a string body: our bodies are small and bounded).
//
// Thread-safety: plain values; thread-compatible.
#ifndef SBD_TRANSPORT_HTTP_MESSAGE_H_
#define SBD_TRANSPORT_HTTP_MESSAGE_H_

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace sbd {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

}  // namespace sbd

#endif  // SBD_TRANSPORT_HTTP_MESSAGE_H_

// HttpClient: a blocking HTTP/1.1 client (Boost.Beast) for end-to-end tests.
//
// One keep-alive connection to 127.0.0.1:port, opened on first use and again
// after the server closed it. Every operation is bounded by the client's
// timeout: a server that does not answer is an error, never a hang.
//
// Thread-safety: none; use one client per thread.
#ifndef SBD_TESTS_SUPPORT_HTTP_CLIENT_H_
#define SBD_TESTS_SUPPORT_HTTP_CLIENT_H_

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sbd::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // Names lowercased.
  std::string body;

  // The header's value, or "" if absent. `name` in any case.
  std::string Header(std::string_view name) const;
  // The body parsed as JSON (null on a parse error).
  boost::json::value Json() const;
};

class HttpClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  explicit HttpClient(uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request on the keep-alive connection. `token`, if not empty, is sent
  // as `Authorization: Bearer <token>`; a non-empty body is sent as JSON.
  absl::StatusOr<HttpResponse> Request(std::string_view method, std::string_view target,
                                       std::string_view body = "", std::string_view token = "",
                                       const Headers& headers = {});
  absl::StatusOr<HttpResponse> Get(std::string_view target, std::string_view token = "") {
    return Request("GET", target, "", token);
  }
  absl::StatusOr<HttpResponse> Post(std::string_view target, std::string_view body,
                                    std::string_view token = "") {
    return Request("POST", target, body, token);
  }
  absl::StatusOr<HttpResponse> Patch(std::string_view target, std::string_view body,
                                     std::string_view token = "") {
    return Request("PATCH", target, body, token);
  }

  // Raw access for pipelining and malformed requests: writes `bytes` as they
  // are, then reads responses one at a time.
  absl::Status SendRaw(std::string_view bytes);
  absl::StatusOr<HttpResponse> ReadResponse();
  // Reads until the server closes the connection (or the timeout); returns
  // the bytes read. OK if the server closed, kDeadlineExceeded otherwise.
  absl::StatusOr<std::string> ReadUntilClosed();

  // Whether the connection is open (false after the server closed it).
  bool connected() const;
  // Connects now (done implicitly by Request/SendRaw).
  absl::Status Connect();
  void Close();

  // How many TCP connections this client has opened so far.
  int connections_opened() const { return connections_opened_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  int connections_opened_ = 0;
};

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_HTTP_CLIENT_H_

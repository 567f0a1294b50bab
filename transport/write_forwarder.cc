#include "transport/write_forwarder.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "transport/applied_seq_wait.h"

namespace sbd {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// The whole exchange with the writer. A write waits for the stream's quorum
// and the writer's fsync, and the writer retries an unanswered publish for
// 4 s (replicated_event_log.cc) before it answers 503 itself; past that the
// writer is taken for gone (paused, partitioned) and the client gets a 503
// to retry, by which time the lease has moved (docs/CLUSTER.md).
constexpr std::chrono::seconds kForwardTimeout{6};
// How long the follower waits to have applied the writer's answer before it
// answers anyway (the write is committed either way; X-SBD-Seq then says
// how far this node is).
constexpr std::chrono::milliseconds kAppliedWaitMax{5000};
// A writer's answer is a small JSON body.
constexpr uint64_t kForwardedResponseBytesMax = 1 << 20;

absl::Status Unreachable(std::string_view what, const beast::error_code& error) {
  return absl::UnavailableError(absl::StrCat("the cluster's writer cannot be reached (",
                                             std::string(what), ": ", error.message(),
                                             "); retry shortly"));
}

// "http://host:port" -> host, port.
bool SplitAddress(std::string_view address, std::string& host, std::string& port) {
  constexpr std::string_view kScheme = "http://";
  if (address.substr(0, kScheme.size()) == kScheme) address.remove_prefix(kScheme.size());
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) return false;
  host = std::string(address.substr(0, colon));
  port = std::string(address.substr(colon + 1));
  return true;
}

// One forwarded request: resolve, connect, write, read, wait to apply.
class ForwardCall : public std::enable_shared_from_this<ForwardCall> {
 public:
  ForwardCall(const Ledger& ledger, const SessionStrand& executor, HttpRequest request,
              WriteForwarder::Done done)
      : ledger_(ledger),
        resolver_(executor),
        stream_(executor),
        executor_(executor),
        request_(std::move(request)),
        done_(std::move(done)) {
    parser_.body_limit(kForwardedResponseBytesMax);
  }

  void Start(const std::string& host, const std::string& port) {
    stream_.expires_after(kForwardTimeout);
    resolver_.async_resolve(
        host, port,
        [self = shared_from_this()](beast::error_code error, tcp::resolver::results_type found) {
          if (error) return self->Fail(Unreachable("resolve", error));
          self->stream_.async_connect(found, [self](beast::error_code error, const tcp::endpoint&) {
            if (error) return self->Fail(Unreachable("connect", error));
            http::async_write(
                self->stream_, self->request_, [self](beast::error_code error, size_t) {
                  if (error) return self->Fail(Unreachable("send", error));
                  http::async_read(
                      self->stream_, self->buffer_, self->parser_,
                      [self](beast::error_code error, size_t) { self->OnRead(error); });
                });
          });
        });
  }

 private:
  using Resolver = asio::ip::basic_resolver<tcp, SessionStrand>;
  using Stream = beast::basic_stream<tcp, SessionStrand>;

  void OnRead(const beast::error_code& error) {
    if (error) return Fail(Unreachable("read the answer", error));
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    response_ = parser_.release();
    int64_t seq = 0;
    // An answer without the header (an error before the ledger) has
    // nothing to wait for.
    if (auto found = response_.find(kSeqHeader); found != response_.end()) {
      if (!absl::SimpleAtoi(std::string(found->value()), &seq)) seq = 0;
    }
    WaitForAppliedSeq(ledger_, seq, kAppliedWaitMax, executor_, [self = shared_from_this()](bool) {
      std::move(self->done_)(std::move(self->response_));
    });
  }

  void Fail(absl::Status status) { std::move(done_)(std::move(status)); }

  const Ledger& ledger_;
  Resolver resolver_;
  Stream stream_;
  const SessionStrand executor_;
  HttpRequest request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  HttpResponse response_;
  WriteForwarder::Done done_;
};

}  // namespace

WriteForwarder::WriteForwarder(const ClusterView& cluster, const Ledger& ledger)
    : cluster_(cluster), ledger_(ledger) {}

void WriteForwarder::Forward(const HttpRequest& request, const SessionStrand& executor,
                             Done done) const {
  if (request.find(kForwardedHeader) != request.end()) {
    // The sender took this node for the writer: the lease moved meanwhile.
    return std::move(done)(
        absl::UnavailableError("this node is no longer the cluster's writer; retry shortly"));
  }
  std::string host;
  std::string port;
  if (!SplitAddress(cluster_.writer_address(), host, port)) {
    return std::move(done)(absl::UnavailableError(
        "the cluster has no writer at the moment (an election is under way); retry shortly"));
  }
  HttpRequest forwarded = request;
  forwarded.set(kForwardedHeader, cluster_.node_id());
  forwarded.keep_alive(false);
  forwarded.prepare_payload();
  std::make_shared<ForwardCall>(ledger_, executor, std::move(forwarded), std::move(done))
      ->Start(host, port);
}

}  // namespace sbd

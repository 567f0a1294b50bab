#include "transport/listener.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>

#include "absl/strings/str_cat.h"
#include "transport/access_log.h"
#include "transport/http_session.h"
#include "transport/limits.h"
#include "transport/notifier.h"

namespace sbd {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

}  // namespace

Listener::Listener(asio::io_context& io, const ServerContext& context, RequestHandler& handler,
                   SessionRegistry& sessions)
    : io_(io),
      strand_(asio::make_strand(io)),
      acceptor_(strand_),
      retry_timer_(strand_),
      context_(context),
      handler_(handler),
      sessions_(sessions) {}

absl::StatusOr<std::shared_ptr<Listener>> Listener::Create(asio::io_context& io,
                                                           const tcp::endpoint& endpoint,
                                                           const ServerContext& context,
                                                           RequestHandler& handler,
                                                           SessionRegistry& sessions) {
  auto listener = std::make_shared<Listener>(io, context, handler, sessions);
  boost::system::error_code error;
  tcp::acceptor& acceptor = listener->acceptor_;
  if (acceptor.open(endpoint.protocol(), error)) {
    return absl::UnavailableError(absl::StrCat("socket: ", error.message()));
  }
  if (acceptor.set_option(asio::socket_base::reuse_address(true), error)) {
    return absl::UnavailableError(absl::StrCat("SO_REUSEADDR: ", error.message()));
  }
  if (acceptor.bind(endpoint, error)) {
    return absl::UnavailableError(absl::StrCat("bind ", endpoint.address().to_string(), ":",
                                               endpoint.port(), ": ", error.message()));
  }
  if (acceptor.listen(asio::socket_base::max_listen_connections, error)) {
    return absl::UnavailableError(absl::StrCat("listen: ", error.message()));
  }
  listener->local_endpoint_ = acceptor.local_endpoint(error);
  if (error) return absl::UnavailableError(absl::StrCat("getsockname: ", error.message()));
  return listener;
}

void Listener::Run() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->Accept(); });
}

void Listener::Stop() {
  asio::post(strand_, [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::Accept() {
  if (!acceptor_.is_open()) return;
  // Each connection gets its own strand.
  acceptor_.async_accept(
      asio::make_strand(io_),
      [self = shared_from_this()](boost::system::error_code error, SessionSocket socket) {
        self->OnAccept(error, std::move(socket));
      });
}

void Listener::OnAccept(boost::system::error_code error, SessionSocket socket) {
  if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (error) {
    // Through the AccessLog: this io thread must not wait on stderr.
    if (context_.log != nullptr) context_.log->Append(absl::StrCat("accept: ", error.message()));
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_error) {
      if (!wait_error) self->Accept();
    });
    return;
  }
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto session = std::make_shared<HttpSession>(std::move(socket), context_, handler_, sessions_);
  // Open WebSockets hold a socket too, so they count against the same limit.
  const size_t websockets = context_.notifier.SessionCount();
  const size_t limit = context_.options.connections_max > websockets
                           ? context_.options.connections_max - websockets
                           : 0;
  const uint64_t id = sessions_.Add(session, limit);
  // Over the limit: the session (and its socket) is dropped unstarted.
  if (id != 0) session->Start(id);
  Accept();
}

}  // namespace sbd

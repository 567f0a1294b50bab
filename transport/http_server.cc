#include "transport/http_server.h"

#include <boost/asio/ip/address.hpp>
#include <cassert>
#include <csignal>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sbd {

namespace asio = boost::asio;

HttpServer::HttpServer(std::unique_ptr<RequestHandler> handler, size_t threads)
    : handler_(std::move(handler)),
      io_(static_cast<int>(threads)),
      signals_(io_, SIGINT, SIGTERM),
      thread_count_(threads == 0 ? 1 : threads) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(
    const ServerContext& context, std::unique_ptr<RequestHandler> handler, std::string_view host,
    uint16_t port, size_t threads) {
  assert(handler != nullptr);
  boost::system::error_code error;
  asio::ip::address address = asio::ip::make_address(std::string(host), error);
  if (error)
    return absl::InvalidArgumentError(absl::StrCat("bad listen address: ", std::string(host)));
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(handler), threads));
  absl::StatusOr<std::shared_ptr<Listener>> listener =
      Listener::Create(server->io_, asio::ip::tcp::endpoint(address, port), context,
                       *server->handler_, server->sessions_);
  if (!listener.ok()) return listener.status();
  server->listener_ = std::move(*listener);
  return server;
}

HttpServer::~HttpServer() {
  if (!threads_.empty()) Join(std::chrono::milliseconds(0));
}

std::string HttpServer::address() const {
  const asio::ip::tcp::endpoint endpoint = listener_->local_endpoint();
  const asio::ip::address address = endpoint.address();
  if (address.is_v6()) return absl::StrCat("[", address.to_string(), "]:", endpoint.port());
  return absl::StrCat(address.to_string(), ":", endpoint.port());
}

void HttpServer::OnReloadSignal(std::function<void()> reload) {
  assert(threads_.empty() && "OnReloadSignal before Start");
  on_reload_ = std::move(reload);
  signals_.add(SIGHUP);
}

void HttpServer::WaitForNextSignal() {
  signals_.async_wait([this](boost::system::error_code error, int signal) {
    if (error) return;
    if (signal == SIGHUP && on_reload_) {
      on_reload_();  // Must not block: it runs on an io thread.
      return WaitForNextSignal();
    }
    signal_promise_.set_value(signal);
  });
}

void HttpServer::Start() {
  WaitForNextSignal();
  listener_->Run();
  {
    MutexLock lock(mutex_);
    threads_running_ = thread_count_;
  }
  for (size_t i = 0; i < thread_count_; ++i) {
    threads_.emplace_back([this] {
      io_.run();
      MutexLock lock(mutex_);
      assert(threads_running_ > 0 && "more io threads ended than started");
      --threads_running_;
      threads_done_.SignalAll();
    });
  }
}

int HttpServer::WaitForSignal() { return signal_promise_.get_future().get(); }

void HttpServer::StopAccepting() {
  listener_->Stop();
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    signals_.cancel(ignored);
  });
}

void HttpServer::CloseConnections() { sessions_.ShutdownAll(); }

void HttpServer::Join(std::chrono::milliseconds grace) {
  {
    // io_.run() returns in every thread once no connection is left.
    const auto deadline = std::chrono::steady_clock::now() + grace;
    MutexLock lock(mutex_);
    while (threads_running_ != 0 && threads_done_.WaitUntil(mutex_, deadline)) {
    }
  }
  io_.stop();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace sbd

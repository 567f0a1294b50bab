// HttpServer: the io threads, the listener and the shutdown sequence of
// `sbd-ledger serve`.
//
//   auto server = HttpServer::Create(context, "127.0.0.1", 8080, threads);
//   (*server)->Start();             // io threads serve from here on
//   (*server)->WaitForSignal();     // SIGINT / SIGTERM
//   (*server)->StopAccepting();     // then: ledger->Stop() drains commands,
//   (*server)->CloseConnections();  //       notifier->CloseAll() (1001)
//   (*server)->Join(grace);         // answers written, threads joined
//
// Thread-safety: drive it from one thread (main). The context must outlive it.
#ifndef SBD_TRANSPORT_HTTP_SERVER_H_
#define SBD_TRANSPORT_HTTP_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "engine/mutex.h"
#include "transport/listener.h"
#include "transport/request_handler.h"
#include "transport/server_context.h"
#include "transport/session_registry.h"

namespace sbd {

class HttpServer {
 public:
  // Binds host:port (port 0: an ephemeral one); does not serve yet.
  // `handler` answers every request (Routes on a node, GatewayRoutes on a
  // gateway).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(
      const ServerContext& context, std::unique_ptr<RequestHandler> handler, std::string_view host,
      uint16_t port, size_t threads);
  ~HttpServer();  // Join(0) if still running.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "HOST:PORT" actually bound.
  std::string address() const;

  // From Start on, SIGHUP calls `reload` (on an io thread: it must not
  // block) instead of ending the process. Call before Start.
  void OnReloadSignal(std::function<void()> reload);

  // Starts the io threads.
  void Start();
  // Blocks until SIGINT or SIGTERM arrives; returns the signal number.
  int WaitForSignal();
  void StopAccepting();
  // Closes idle HTTP connections now and busy ones after their answer.
  void CloseConnections();
  // Waits up to `grace` for every connection to close, then stops the io
  // threads and joins them.
  void Join(std::chrono::milliseconds grace);

 private:
  HttpServer(std::unique_ptr<RequestHandler> handler, size_t threads);
  void WaitForNextSignal();

  // Declared before io_ so they outlive it: destroying the io_context
  // destroys the handlers still queued in it, and with them sessions that
  // use these.
  const std::unique_ptr<RequestHandler> handler_;
  SessionRegistry sessions_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  std::shared_ptr<Listener> listener_;
  size_t thread_count_;
  std::vector<std::thread> threads_;
  std::promise<int> signal_promise_;
  std::function<void()> on_reload_;  // SIGHUP, if set.
  Mutex mutex_;
  CondVar threads_done_;  // Signalled as each io thread ends.
  size_t threads_running_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_HTTP_SERVER_H_

// ServerUnderTest: the sbd-ledger server an end-to-end benchmark talks to,
// either started here (`sbd-ledger serve --listen 127.0.0.1:0` on a fresh
// log, or another command line such as the bare server's, with a random
// signing secret, stopped at the end) or an already
// running one (--target, with SBD_JWT_SECRET set to its secret). Issues the
// tokens the clients need with the server's own TokenAuthority.
//
// Thread-safety: none; owned by the benchmark's main thread.
#ifndef SBD_BENCH_SERVER_UNDER_TEST_H_
#define SBD_BENCH_SERVER_UNDER_TEST_H_

#include <sys/types.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/child_process.h"
#include "transport/token_authority.h"

namespace sbd::bench {

struct ServerOptions {
  // HOST:PORT of a running server; empty: start `binary`.
  std::string target;
  std::string binary;
  std::filesystem::path directory;  // For the started server's log.
  size_t threads = 0;               // serve --threads; 0: its default.
  size_t connections_max = 0;       // serve --connections-max; 0: its default.
  std::string durability = "full";
  // serve's access log (one stderr line per request, which the server
  // inherits from the benchmark); off: --no-access-log.
  bool access_log = false;
  // The signing secret; empty: a random one (a started server) or
  // $SBD_JWT_SECRET (a target).
  std::string secret;
  // The log in `directory`, and whether it starts fresh (a node restarted
  // by `sbd-bench cluster` keeps its own).
  std::string db_name = "server.db";
  bool fresh_db = true;
  // More `serve` flags (--cluster ... for a cluster node).
  std::vector<std::string> extra_args;
  // A whole command line to start instead of `binary serve ...` (the bare
  // server of `sbd-e2e --baseline`): it gets SBD_JWT_SECRET and must say
  // "listening on HOST:PORT" like serve; the fields above but `secret` are
  // not used.
  std::vector<std::string> command;
};

// "HOST:PORT" (an IP address; port 0 allowed) -> endpoint.
absl::StatusOr<boost::asio::ip::tcp::endpoint> ParseEndpoint(const std::string& text);

class ServerUnderTest {
 public:
  static absl::StatusOr<std::unique_ptr<ServerUnderTest>> Start(const ServerOptions& options);
  ~ServerUnderTest();  // Stops a started server.

  const boost::asio::ip::tcp::endpoint& endpoint() const { return endpoint_; }
  const std::string& host() const { return host_; }
  // The server's pid if started here.
  std::optional<pid_t> pid() const;

  absl::StatusOr<std::string> Token(const std::string& user, bool admin) const;

 private:
  ServerUnderTest(std::unique_ptr<ChildProcess> process, TokenAuthority tokens)
      : process_(std::move(process)), tokens_(std::move(tokens)) {}

  std::unique_ptr<ChildProcess> process_;
  TokenAuthority tokens_;
  std::string host_;
  boost::asio::ip::tcp::endpoint endpoint_;
};

}  // namespace sbd::bench

#endif  // SBD_BENCH_SERVER_UNDER_TEST_H_

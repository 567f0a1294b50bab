#include "tools/sbd-ledger/serving.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sbd {
namespace {

// "HOST:PORT" or "[V6]:PORT" into its parts; false if it is neither.
bool SplitHostPort(const std::string& listen, std::string& host, uint16_t& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  uint32_t value = 0;
  if (!absl::SimpleAtoi(listen.substr(colon + 1), &value) || value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace


absl::StatusOr<std::string> LoadSecret(const std::string& secret_file) {
  std::string secret;
  if (!secret_file.empty()) {
    std::ifstream in(secret_file, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read --secret-file ", secret_file));
    std::stringstream contents;
    contents << in.rdbuf();
    secret = contents.str();
    if (!secret.empty() && secret.back() == '\n') secret.pop_back();
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  } else {
    // Read once at start-up, before any thread exists.
    const char* env = std::getenv("SBD_JWT_SECRET");  // NOLINT(concurrency-mt-unsafe)
    if (env == nullptr) {
      return absl::NotFoundError("no JWT secret: set SBD_JWT_SECRET or pass --secret-file");
    }
    secret = env;
  }
  if (secret.empty()) return absl::InvalidArgumentError("the JWT secret is empty");
  return secret;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool ListenIsHostPort(std::string_view command, const ServingConfig& config) {
  std::string host;
  uint16_t port = 0;
  if (SplitHostPort(config.listen, host, port)) return true;
  std::fprintf(stderr, "%s: --listen must be HOST:PORT, got '%s'\n", std::string(command).c_str(),
               config.listen.c_str());
  return false;
}

std::unique_ptr<AcceptedTokens> AcceptedTokens::Open(std::string_view command, const std::string& secret,
                                             const ServingConfig& config, AccessLog& access_log,
                                             Notifier& notifier) {
  std::unique_ptr<RevokedTokens> revoked;
  if (!config.revoked_tokens_path.empty()) {
    absl::StatusOr<std::unique_ptr<RevokedTokens>> opened =
        RevokedTokens::Open(config.revoked_tokens_path);
    if (!opened.ok()) {
      std::fprintf(stderr, "%s: --revoked-tokens: %s\n", std::string(command).c_str(),
                   std::string(opened.status().message()).c_str());
      return nullptr;
    }
    revoked = *std::move(opened);
  }
  std::unique_ptr<AcceptedTokens> rules(new AcceptedTokens(secret, config, std::move(revoked)));
  // After a reload that changed the list, every open WebSocket re-checks its
  // token (a revoked one closes with 1008).
  if (rules->revoked_ != nullptr) {
    rules->watcher_.emplace(*rules->revoked_, access_log, [&notifier] { notifier.RecheckTokens(); });
  }
  return rules;
}

std::unique_ptr<HttpServer> StartServer(std::string_view command, const ServerContext& context,
                                        std::unique_ptr<RequestHandler> handler,
                                        const ServingConfig& config, AcceptedTokens& tokens) {
  std::string host;
  uint16_t port = 0;
  [[maybe_unused]] const bool split = SplitHostPort(config.listen, host, port);
  assert(split && "the command checked --listen at start-up");
  const size_t threads =
      config.threads > 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  auto server = HttpServer::Create(context, std::move(handler), host, port, threads);
  if (!server.ok()) {
    std::fprintf(stderr, "%s: %s\n", std::string(command).c_str(),
                 std::string(server.status().message()).c_str());
    return nullptr;
  }
  if (RevocationWatcher* watcher = tokens.watcher(); watcher != nullptr) {
    (*server)->OnReloadSignal([watcher] { watcher->RequestReload(); });
  }
  (*server)->Start();
  return *std::move(server);
}

}  // namespace sbd

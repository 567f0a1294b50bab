// Routes: every HTTP endpoint of API.md, from a parsed request to its
// response (Beast chat-multi's handle_request): which route a request is,
// who may use it (authentication.h), its body (request_parser.h), the ledger
// command or read, and its answer (answers.h). Routes is where rejections
// and applied transfers are counted (Metrics), once each. With
// --open-accounts-on-first-use, a user's first request opens its account
// (an asynchronous step: the open is a command like any other).
//
// The session owns the connection (reading, limits, keep-alive, writing);
// Routes owns what a request means. GET /ws is authorised here
// (AuthorizeWebSocket) and upgraded by the session.
//
// Thread-safety: one Routes serves every session; Handle and
// AuthorizeWebSocket may be called from any io thread concurrently. The
// context (and so the ledger) must outlive every pending command.
#ifndef SBD_TRANSPORT_ROUTES_H_
#define SBD_TRANSPORT_ROUTES_H_

#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/command.h"
#include "engine/error_code.h"
#include "engine/ledger.h"
#include "transport/http_message.h"
#include "transport/rate_limiter.h"
#include "transport/request_handler.h"
#include "transport/server_context.h"
#include "transport/session_strand.h"
#include "transport/token_authority.h"
#include "transport/write_forwarder.h"

namespace sbd {

class Routes : public RequestHandler {
 public:
  // `ledger` serves every read and takes every command; it and the context
  // must outlive every pending command.
  Routes(Ledger& ledger, const ServerContext& context);
  Routes(const Routes&) = delete;
  Routes& operator=(const Routes&) = delete;

  // RequestHandler. `respond` runs before Handle returns for reads and
  // errors, later (posted onto `executor`) for commands and any request
  // that first opens the caller's account: the ledger's callback never
  // touches the session from the writer thread.
  void Handle(const HttpRequest& request, const SessionStrand& executor, Respond respond) override;

  // GET /ws without opening an account on first use: the grant or the
  // error response, at once.
  std::variant<WebSocketGrant, HttpResponse> AuthorizeWebSocket(const HttpRequest& request);

  // One (method, path) pair the router serves, e.g. {"GET", "/sbd_tokens"}.
  struct ServedRoute {
    std::string_view method;  // Upper case, as on the request line.
    std::string_view path;
  };
  // Every route Handle dispatches, read from the table it dispatches on (the
  // OpenAPI test compares them with the document's paths); the views are
  // of static strings.
  static std::vector<ServedRoute> ServedRoutes();
  // RequestHandler: the same, and with --open-accounts-on-first-use a user
  // token whose sub has no account gets it opened first: `done` then runs
  // later, posted onto `executor` (else before this returns).
  void AuthorizeWebSocket(const HttpRequest& request, const SessionStrand& executor,
                          GrantDone done) override;

  // RejectRequest and RejectFailure (rejection.h) on the context's metrics.
  HttpResponse Reject(ErrorCode code, std::string_view detail, int64_t retry_after_s = 1) const;

  HttpResponse RejectStatus(const absl::Status& status) const;

 private:
  using Executor = SessionStrand;

  // TransferAnswer, counting the transfer unless it is a duplicate.
  HttpResponse AnswerTransfer(const CommandResult& result) const;

  // Handle after the target is parsed; `open_on_first_use` is false once
  // the caller's account has just been opened for this request.
  void Dispatch(const HttpRequest& request, const Executor& executor, Respond respond,
                bool open_on_first_use);

  // With --open-accounts-on-first-use: the canonical account a user token
  // names when it has none yet (nullopt otherwise; admin and service tokens
  // never get one opened).
  std::optional<std::string> FirstUseAccount(const Identity& identity) const;
  std::optional<std::string> FirstUseAccount(const HttpRequest& request) const;
  // Opens `account` (actor: the account itself) and calls `then` on
  // `executor`: OK once it exists (also when a concurrent first request
  // opened it: account_exists), else the error. On a cluster follower the
  // open is the writer's: a GET /sbd_tokens with the caller's `token` is
  // forwarded with the caller's `authorization` header (the writer opens on
  // first use as this node would), and `then` runs once this node has
  // applied the open.
  using Opened = absl::AnyInvocable<void(absl::Status) &&>;
  void OpenOnFirstUse(std::string account, std::string authorization, const Executor& executor,
                      Opened then);

  // AuthorizeWebSocket's checks; FirstUse when all pass but the caller's
  // account is missing and may be opened (only if `open_on_first_use`).
  struct FirstUse {
    std::string account;
    std::string authorization;  // "Bearer <the handshake's token>", for a follower.
  };
  std::variant<WebSocketGrant, HttpResponse, FirstUse> CheckWebSocket(const HttpRequest& request,
                                                                      bool open_on_first_use);

  // OPTIONS on any path: a CORS preflight (with Origin) or a plain one;
  // `path_method` is the method the path serves, nullopt for no such path.
  HttpResponse Options(const HttpRequest& request,
                       std::optional<boost::beast::http::verb> path_method) const;
  HttpResponse GetBalance(const HttpRequest& request);
  HttpResponse GetTransactions(const HttpRequest& request);
  void PostSend(const HttpRequest& request, const Executor& executor, Respond respond);
  void PatchNote(const HttpRequest& request, const Executor& executor, Respond respond);
  void PostAccount(const HttpRequest& request, const Executor& executor, Respond respond);
  void PostMint(const HttpRequest& request, const Executor& executor, Respond respond);
  void PostAdminTransfer(const HttpRequest& request, const Executor& executor, Respond respond);

  // Submits `command`; `render` turns the result into the 2xx response on
  // the session's executor.
  using Render = absl::AnyInvocable<HttpResponse(const CommandResult&) const>;
  void Submit(Command command, const Executor& executor, Render render, Respond respond);
  // Submits `command`; `then` gets the result on the session's executor.
  using Then = absl::AnyInvocable<void(absl::StatusOr<CommandResult>) &&>;
  void SubmitThen(Command command, const Executor& executor, Then then);

  Ledger& ledger_;
  const ServerContext& context_;
  RateLimiter rate_limiter_;
  // Cluster mode: a follower's writes go to the writer.
  std::optional<WriteForwarder> forwarder_;
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_ROUTES_H_

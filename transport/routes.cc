#include "transport/routes.h"

#include <array>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/decode_view.hpp>
#include <boost/url/parse.hpp>
#include <cassert>
#include <charconv>
#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/absl_compat.h"
#include "engine/validation.h"
#include "transport/answers.h"
#include "transport/applied_seq_wait.h"
#include "transport/authentication.h"
#include "transport/openapi_document.h"
#include "transport/rejection.h"
#include "transport/request_parser.h"
#include "transport/request_target.h"
#include "transport/wallet_page.h"
#include "transport/websocket_request.h"

namespace sbd {
namespace {

namespace http = boost::beast::http;
using http::verb;

enum class Route {
  kWallet,
  kBalance,
  kSend,
  kTransactions,
  kNote,
  kAdminAccounts,
  kAdminMint,
  kAdminTransfer,
  kHealth,
  kMetrics,
  kOpenApi,
  kWebSocket,  // Upgraded by the session; listed for OPTIONS, 405 and ServedRoutes.
};

struct RouteSpec {
  std::string_view path;
  verb method;
  Route route;
};

// API.md "HTTP endpoints": one method per path. Handle dispatches on this
// table and ServedRoutes lists it, so what the OpenAPI test compares with the
// document is what the router serves.
constexpr std::array<RouteSpec, 12> kRoutes = {{
    {"/", verb::get, Route::kWallet},
    {"/sbd_tokens", verb::get, Route::kBalance},
    {"/sbd_tokens/send", verb::post, Route::kSend},
    {"/sbd_tokens/transactions", verb::get, Route::kTransactions},
    {"/sbd_tokens/transaction/note", verb::patch, Route::kNote},
    {"/admin/accounts", verb::post, Route::kAdminAccounts},
    {"/admin/mint", verb::post, Route::kAdminMint},
    {"/admin/transfer", verb::post, Route::kAdminTransfer},
    {"/healthz", verb::get, Route::kHealth},
    {"/metrics", verb::get, Route::kMetrics},
    {"/openapi.json", verb::get, Route::kOpenApi},
    {kWebSocketPath, verb::get, Route::kWebSocket},
}};

// The routes that act as the caller's own account: with
// --open-accounts-on-first-use, a user's first request to one opens it.
// The routes whose request is a ledger command: what a follower forwards to
// the writer in cluster mode.
bool IsWrite(Route route) {
  return route == Route::kSend || route == Route::kNote || route == Route::kAdminAccounts ||
         route == Route::kAdminMint || route == Route::kAdminTransfer;
}

// X-SBD-Min-Seq (cluster mode): how long a request waits for its node to
// have applied the seq it names before it is refused with 503.
constexpr std::chrono::milliseconds kMinSeqWaitMax{2000};
constexpr char kMinSeqHeader[] = "X-SBD-Min-Seq";

bool NeedsCallerAccount(Route route) {
  return route == Route::kBalance || route == Route::kTransactions || route == Route::kSend ||
         route == Route::kNote;
}

bool IsAccountNotFound(const absl::Status& status) {
  return ErrorCodeOf(status) == ErrorCode::kAccountNotFound;
}

}  // namespace

std::vector<Routes::ServedRoute> Routes::ServedRoutes() {
  std::vector<ServedRoute> routes;
  routes.reserve(2 * kRoutes.size());
  for (const RouteSpec& spec : kRoutes) {
    routes.push_back({std::string_view(http::to_string(spec.method)), spec.path});
    // Handle answers OPTIONS (the CORS preflight) on every path.
    routes.push_back({std::string_view(http::to_string(verb::options)), spec.path});
  }
  return routes;
}

Routes::Routes(Ledger& ledger, const ServerContext& context)
    : ledger_(ledger), context_(context), rate_limiter_(context.options.rate_limit_per_s) {
  if (context_.cluster != nullptr) forwarder_.emplace(*context_.cluster, ledger_);
}

HttpResponse Routes::Reject(ErrorCode code, std::string_view detail, int64_t retry_after_s) const {
  return RejectRequest(context_.metrics, code, detail, retry_after_s);
}

HttpResponse Routes::RejectStatus(const absl::Status& status) const {
  return RejectFailure(context_.metrics, status);
}

HttpResponse Routes::AnswerTransfer(const CommandResult& result) const {
  // A duplicate moved nothing: only the first answer counts.
  if (!result.duplicate) context_.metrics.CountTransfer();
  return TransferAnswer(result);
}

std::optional<std::string> Routes::FirstUseAccount(const Identity& identity) const {
  if (!context_.options.open_accounts_on_first_use || identity.admin || identity.service) {
    return std::nullopt;
  }
  absl::StatusOr<std::string> account = CanonicalUsername(identity.subject);
  if (!account.ok()) return std::nullopt;  // The route answers invalid_username.
  if (!IsAccountNotFound(ledger_.Balance(*account).status())) return std::nullopt;
  return *std::move(account);
}

std::optional<std::string> Routes::FirstUseAccount(const HttpRequest& request) const {
  absl::StatusOr<Identity> identity = Authenticate(request, context_);
  if (!identity.ok()) return std::nullopt;  // The route answers 401.
  return FirstUseAccount(*identity);
}

void Routes::OpenOnFirstUse(std::string account, std::string authorization,
                            const Executor& executor, Opened then) {
  if (forwarder_ && !context_.cluster->writer()) {
    HttpRequest open(http::verb::get, "/sbd_tokens", 11);
    open.set(http::field::authorization, authorization);
    return forwarder_->Forward(
        open, executor, [then = std::move(then)](absl::StatusOr<HttpResponse> answer) mutable {
          // The forwarder's own errors are kUnavailable already.
          if (!answer.ok()) return std::move(then)(answer.status());
          if (answer->result() != http::status::ok) {
            return std::move(then)(MakeError(ErrorCode::kUnavailable,
                                             absl::StrCat("the cluster's writer did not open the "
                                                          "account on first use (HTTP ",
                                                          answer->result_int(), ")")));
          }
          std::move(then)(absl::OkStatus());
        });
  }
  // The account opens itself: actor == to_account marks an open on first
  // use (docs/EVENT_LOG.md), as actor == from_account marks a user's send.
  OpenAccountCommand command{account, account};
  SubmitThen(std::move(command), executor,
             [then = std::move(then)](absl::StatusOr<CommandResult> result) mutable {
               // Two first requests of one user race: the second open finds
               // the account the first opened, which is all either needs.
               if (!result.ok() && ErrorCodeOf(result.status()) != ErrorCode::kAccountExists) {
                 return std::move(then)(result.status());
               }
               std::move(then)(absl::OkStatus());
             });
}

void Routes::Handle(const HttpRequest& request, const Executor& executor, Respond respond) {
  assert(!IsWebSocketRequest(request) && "the session upgrades /ws; Handle never sees it");
  const bool open_on_first_use = context_.options.open_accounts_on_first_use;
  auto min_seq = request.find(kMinSeqHeader);
  if (context_.cluster == nullptr || min_seq == request.end()) {
    return Dispatch(request, executor, std::move(respond), open_on_first_use);
  }
  int64_t seq = 0;
  if (!absl::SimpleAtoi(std::string(min_seq->value()), &seq) || seq < 0) {
    return std::move(respond)(Reject(ErrorCode::kInvalidField,
                                     absl::StrCat(kMinSeqHeader, " must be a seq (0 or more)")));
  }
  WaitForAppliedSeq(ledger_, seq, kMinSeqWaitMax, executor,
                    [this, &request, executor, seq, open_on_first_use,
                     respond = std::move(respond)](bool applied) mutable {
                      if (!applied) {
                        return std::move(respond)(
                            Reject(ErrorCode::kUnavailable,
                                   absl::StrCat("this node has not applied seq ", seq, " yet")));
                      }
                      Dispatch(request, executor, std::move(respond), open_on_first_use);
                    });
}

void Routes::Dispatch(const HttpRequest& request, const Executor& executor, Respond respond,
                      bool open_on_first_use) {
  std::optional<boost::urls::pct_string_view> path = EncodedPath(request);
  if (!path.has_value()) {
    std::move(respond)(Reject(ErrorCode::kNotFound, "malformed request target"));
    return;
  }
  const RouteSpec* spec = nullptr;
  for (const RouteSpec& candidate : kRoutes) {
    if (**path == candidate.path) spec = &candidate;
  }
  if (request.method() == verb::options) {
    std::move(respond)(
        Options(request, spec != nullptr ? std::optional(spec->method) : std::nullopt));
    return;
  }
  if (spec == nullptr) {
    std::move(respond)(
        Reject(ErrorCode::kNotFound, absl::StrCat("no such path: ", Printable(path->decode()))));
    return;
  }
  if (request.method() != spec->method) {
    HttpResponse response = Reject(
        ErrorCode::kMethodNotAllowed,
        absl::StrCat(ToAbsl(spec->path), " allows ", std::string(http::to_string(spec->method))));
    response.set(http::field::allow, http::to_string(spec->method));
    std::move(respond)(std::move(response));
    return;
  }
  if (forwarder_ && IsWrite(spec->route) && !context_.cluster->writer()) {
    forwarder_->Forward(
        request, executor,
        [this, respond = std::move(respond)](absl::StatusOr<HttpResponse> answer) mutable {
          if (!answer.ok()) return std::move(respond)(RejectStatus(answer.status()));
          std::move(respond)(*std::move(answer));
        });
    return;
  }
  if (open_on_first_use && NeedsCallerAccount(spec->route)) {
    if (std::optional<std::string> account = FirstUseAccount(request)) {
      // Not waited for here: the open is a command, and the request goes on
      // in its answer, on the session's executor.
      OpenOnFirstUse(
          *std::move(account), std::string(request[http::field::authorization]), executor,
          [this, &request, executor, respond = std::move(respond)](absl::Status opened) mutable {
            if (!opened.ok()) return std::move(respond)(RejectStatus(opened));
            Dispatch(request, executor, std::move(respond),
                     /*open_on_first_use=*/false);
          });
      return;
    }
  }
  switch (spec->route) {
    case Route::kWallet: {
      HttpResponse response =
          MakeResponse(http::status::ok, "text/html; charset=utf-8", std::string(WalletPageHtml()));
      response.set(http::field::cache_control, "no-cache");
      std::move(respond)(std::move(response));
      return;
    }
    case Route::kBalance:
      std::move(respond)(GetBalance(request));
      return;
    case Route::kTransactions:
      std::move(respond)(GetTransactions(request));
      return;
    case Route::kSend:
      PostSend(request, executor, std::move(respond));
      return;
    case Route::kNote:
      PatchNote(request, executor, std::move(respond));
      return;
    case Route::kAdminAccounts:
      PostAccount(request, executor, std::move(respond));
      return;
    case Route::kAdminMint:
      PostMint(request, executor, std::move(respond));
      return;
    case Route::kAdminTransfer:
      PostAdminTransfer(request, executor, std::move(respond));
      return;
    case Route::kHealth:
      std::move(respond)(HealthAnswer(ledger_.LastSeq(), context_.cluster));
      return;
    case Route::kMetrics: {
      std::string text = context_.metrics.RenderPrometheus();
      if (context_.cluster != nullptr) {
        Metrics::RenderCluster(*context_.cluster, ledger_.LastSeq(), text);
      }
      std::move(respond)(MakeResponse(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                                      std::move(text)));
      return;
    }
    case Route::kOpenApi:
      // Public, like /healthz: clients and tools read it before they hold a
      // token.
      std::move(respond)(
          MakeResponse(http::status::ok, kJsonContentType, std::string(OpenApiDocumentJson())));
      return;
    case Route::kWebSocket:
      // Excluded by Handle's precondition: the session upgrades /ws
      // (IsWebSocketRequest) and never hands it here.
      break;
  }
}

HttpResponse Routes::Options(const HttpRequest& request, std::optional<verb> path_method) const {
  auto origin = request.find(http::field::origin);
  if (origin != request.end()) {
    // A CORS preflight, on any path: the session adds Allow-Origin and Vary
    // to the answer for an allowed origin.
    if (!context_.options.cors.Allows(origin->value())) {
      return Reject(ErrorCode::kForbidden, "this origin may not call the API (CORS)");
    }
    HttpResponse response = MakeResponse(http::status::no_content, "", "");
    response.set(http::field::access_control_allow_methods, CorsPolicy::kAllowMethods);
    response.set(http::field::access_control_allow_headers, CorsPolicy::kAllowHeaders);
    response.set(http::field::access_control_max_age, CorsPolicy::kMaxAgeSeconds);
    return response;
  }
  // A plain OPTIONS (no Origin: not from a browser): what the path allows.
  if (!path_method.has_value()) return Reject(ErrorCode::kNotFound, "no such path");
  HttpResponse response = MakeResponse(http::status::no_content, "", "");
  response.set(http::field::allow,
               absl::StrCat(std::string(http::to_string(*path_method)), ", OPTIONS"));
  return response;
}

HttpResponse Routes::GetBalance(const HttpRequest& request) {
  absl::StatusOr<std::string> account = AuthenticateAccount(request, context_, ledger_);
  if (!account.ok()) return RejectStatus(account.status());
  absl::StatusOr<int64_t> balance = ledger_.Balance(*account);
  if (!balance.ok()) return RejectStatus(balance.status());
  return BalanceAnswer(*account, *balance);
}

HttpResponse Routes::GetTransactions(const HttpRequest& request) {
  absl::StatusOr<std::string> account = AuthenticateAccount(request, context_, ledger_);
  if (!account.ok()) return RejectStatus(account.status());
  Query query = ParseQuery(request.target());
  int64_t skip = 0;
  int64_t limit = static_cast<int64_t>(kHistoryLimitDefault);
  if (std::optional<std::string> text = query.Get("skip")) {
    std::optional<int64_t> value = ParseNonNegative(*text);
    if (!value) return Reject(ErrorCode::kInvalidField, "skip must be a non-negative integer");
    skip = *value;
  }
  if (std::optional<std::string> text = query.Get("limit")) {
    std::optional<int64_t> value = ParseNonNegative(*text);
    if (!value || *value < 1 || *value > static_cast<int64_t>(kHistoryLimitMax)) {
      return Reject(ErrorCode::kInvalidField,
                    absl::StrCat("limit must be an integer from 1 to ", kHistoryLimitMax));
    }
    limit = *value;
  }
  absl::StatusOr<std::vector<Event>> history =
      ledger_.History(*account, static_cast<size_t>(skip), static_cast<size_t>(limit));
  if (!history.ok()) return RejectStatus(history.status());
  return HistoryAnswer(*account, *history);
}

void Routes::Submit(Command command, const Executor& executor, Render render, Respond respond) {
  SubmitThen(std::move(command), executor,
             [this, render = std::move(render),
              respond = std::move(respond)](absl::StatusOr<CommandResult> result) mutable {
               if (!result.ok()) {
                 std::move(respond)(RejectStatus(result.status()));
               } else {
                 std::move(respond)(render(*result));
               }
             });
}

void Routes::SubmitThen(Command command, const Executor& executor, Then then) {
  // The command counts as work of the io_context until its answer has run:
  // a session waiting for the ledger has no pending I/O, and the io threads
  // must not run out of work (at shutdown) while answers are still coming.
  auto tracked = boost::asio::prefer(executor, boost::asio::execution::outstanding_work.tracked);
  auto done = [executor = std::move(tracked),
               then = std::move(then)](absl::StatusOr<CommandResult> result) mutable {
    // On the writer thread: hand everything to the session's strand.
    boost::asio::post(executor, [then = std::move(then), result = std::move(result)]() mutable {
      std::move(then)(std::move(result));
    });
  };
  ledger_.Submit(std::move(command), std::move(done));
}

void Routes::PostSend(const HttpRequest& request, const Executor& executor, Respond respond) {
  absl::StatusOr<std::string> account = AuthenticateAccount(request, context_, ledger_);
  if (!account.ok()) return std::move(respond)(RejectStatus(account.status()));
  const absl::Duration wait = rate_limiter_.Acquire(*account, absl::Now());
  if (wait > absl::ZeroDuration()) {
    return std::move(respond)(
        Reject(ErrorCode::kRateLimited, "too many sends; retry later",
               static_cast<int64_t>(absl::ToDoubleSeconds(absl::Ceil(wait, absl::Seconds(1))))));
  }
  absl::StatusOr<TransferCommand> command = ParseSendBody(request.body(), *account);
  if (!command.ok()) return std::move(respond)(RejectStatus(command.status()));
  Submit(
      std::move(*command), executor,
      [this](const CommandResult& result) { return AnswerTransfer(result); }, std::move(respond));
}

void Routes::PostAdminTransfer(const HttpRequest& request, const Executor& executor,
                               Respond respond) {
  // Not rate limited: --rate-limit bounds what one user's token can send,
  // and a service moves tokens for many users.
  absl::StatusOr<Identity> issuer = AuthenticateTransferIssuer(request, context_);
  if (!issuer.ok()) return std::move(respond)(RejectStatus(issuer.status()));
  absl::StatusOr<TransferCommand> command = ParseAdminTransferBody(request.body(), issuer->subject);
  if (!command.ok()) return std::move(respond)(RejectStatus(command.status()));
  Submit(
      std::move(*command), executor,
      [this](const CommandResult& result) { return AnswerTransfer(result); }, std::move(respond));
}

void Routes::PatchNote(const HttpRequest& request, const Executor& executor, Respond respond) {
  absl::StatusOr<std::string> account = AuthenticateAccount(request, context_, ledger_);
  if (!account.ok()) return std::move(respond)(RejectStatus(account.status()));
  absl::StatusOr<SetNoteCommand> command = ParseSetNoteBody(request.body(), *account);
  if (!command.ok()) return std::move(respond)(RejectStatus(command.status()));
  Submit(
      std::move(*command), executor, [](const CommandResult& result) { return NoteAnswer(result); },
      std::move(respond));
}

void Routes::PostAccount(const HttpRequest& request, const Executor& executor, Respond respond) {
  absl::StatusOr<Identity> admin = AuthenticateAdmin(request, context_);
  if (!admin.ok()) return std::move(respond)(RejectStatus(admin.status()));
  absl::StatusOr<OpenAccountCommand> command = ParseOpenAccountBody(request.body(), admin->subject);
  if (!command.ok()) return std::move(respond)(RejectStatus(command.status()));
  Submit(
      std::move(*command), executor,
      [](const CommandResult& result) { return AccountOpenedAnswer(result); }, std::move(respond));
}

void Routes::PostMint(const HttpRequest& request, const Executor& executor, Respond respond) {
  absl::StatusOr<Identity> admin = AuthenticateAdmin(request, context_);
  if (!admin.ok()) return std::move(respond)(RejectStatus(admin.status()));
  absl::StatusOr<MintCommand> command = ParseMintBody(request.body(), admin->subject);
  if (!command.ok()) return std::move(respond)(RejectStatus(command.status()));
  Submit(
      std::move(*command), executor, [](const CommandResult& result) { return MintAnswer(result); },
      std::move(respond));
}

std::variant<WebSocketGrant, HttpResponse> Routes::AuthorizeWebSocket(
    const HttpRequest& request) {
  auto checked = CheckWebSocket(request, /*open_on_first_use=*/false);
  if (HttpResponse* response = std::get_if<HttpResponse>(&checked)) return std::move(*response);
  assert(std::holds_alternative<WebSocketGrant>(checked) && "FirstUse without open_on_first_use");
  return std::get<WebSocketGrant>(std::move(checked));
}

void Routes::AuthorizeWebSocket(const HttpRequest& request, const Executor& executor,
                                GrantDone done) {
  auto checked = CheckWebSocket(request, context_.options.open_accounts_on_first_use);
  if (FirstUse* first_use = std::get_if<FirstUse>(&checked)) {
    // As for HTTP: the handshake goes on in the open's answer, on the
    // session's executor, with every check made again.
    OpenOnFirstUse(std::move(first_use->account), std::move(first_use->authorization), executor,
                   [this, &request, done = std::move(done)](absl::Status opened) mutable {
                     if (!opened.ok()) return std::move(done)(RejectStatus(opened));
                     std::move(done)(AuthorizeWebSocket(request));
                   });
    return;
  }
  if (HttpResponse* response = std::get_if<HttpResponse>(&checked)) {
    return std::move(done)(std::move(*response));
  }
  std::move(done)(std::get<WebSocketGrant>(std::move(checked)));
}

std::variant<WebSocketGrant, HttpResponse, Routes::FirstUse> Routes::CheckWebSocket(
    const HttpRequest& request, bool open_on_first_use) {
  std::variant<WebSocketRequest, HttpResponse> checked = CheckWebSocketRequest(request, context_);
  if (HttpResponse* response = std::get_if<HttpResponse>(&checked)) return std::move(*response);
  WebSocketRequest& ws = std::get<WebSocketRequest>(checked);
  absl::StatusOr<int64_t> balance = ledger_.Balance(ws.grant.username);
  if (!balance.ok()) {
    // Only a real handshake opens an account: a plain GET /ws is refused
    // whatever it carries.
    if (open_on_first_use && IsAccountNotFound(balance.status()) &&
        boost::beast::websocket::is_upgrade(request) &&
        FirstUseAccount(ws.grant.identity).has_value()) {
      return FirstUse{std::move(ws.grant.username), absl::StrCat("Bearer ", ws.token)};
    }
    return RejectStatus(balance.status());
  }
  if (std::optional<HttpResponse> refused = CheckUpgrade(request, context_)) return *refused;
  return std::move(ws.grant);
}

}  // namespace sbd

// Fuzz target: HTTP request bodies and query strings -> commands.
//
// The first byte picks what the rest of the input is:
//   0..3  a body for ParseSendBody / ParseMintBody / ParseOpenAccountBody /
//         ParseSetNoteBody (transport/request_parser.h), then the engine's
//         field validation on what it parsed;
//   4     the query of GET /sbd_tokens/transactions?<rest> through Routes;
//   5     the query of GET /ws?<rest> through Routes::AuthorizeWebSocket (the
//         token is in the query: the seeds carry a valid one);
//   6     any request target, GET, through Routes::Handle;
//   7     a body for the route the next byte picks (send, mint, open, note),
//         through Routes::Handle into a fresh Ledger (in-memory log), so the
//         parsed command also runs through the engine's validation.
// Properties: nothing crashes or trips a sanitizer; a parse error is always
// one of the API's 400 codes; no answer is a 500; every answer body is JSON.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "absl/status/statusor.h"
#include "engine/command.h"
#include "engine/error_code.h"
#include "engine/ledger.h"
#include "engine/ledger_account_feed.h"
#include "engine/validation.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/support/memory_event_log.h"
#include "transport/metrics.h"
#include "transport/notifier.h"
#include "transport/request_parser.h"
#include "transport/routes.h"
#include "transport/server_context.h"
#include "transport/token_authority.h"

namespace sbd::fuzz {
namespace {

namespace http = boost::beast::http;

// A fixed clock: the seeds' tokens (issued for it) stay valid forever and a
// run is reproducible.
constexpr int64_t kNowS = 1'800'000'000;
constexpr std::string_view kSecret = "fuzz-secret";

[[noreturn]] void Fail(std::string_view what, std::string_view input) {
  fprintf(stderr, "request_parser_fuzzer: %.*s\ninput: %.*s\n", static_cast<int>(what.size()),
          what.data(), static_cast<int>(input.size()), input.data());
  abort();
}

// A parse failure must carry one of the body errors of API.md.
void CheckParseError(const absl::Status& status, std::string_view body) {
  std::optional<ErrorCode> code = ErrorCodeOf(status);
  if (!code.has_value()) Fail("parse error without an API error code", body);
  if (*code != ErrorCode::kInvalidJson && *code != ErrorCode::kMissingFields &&
      *code != ErrorCode::kInvalidField) {
    Fail("parse error with a code that is not a body error", body);
  }
}

void Validate(const AmountField& amount) {
  absl::StatusOr<int64_t> value = ValidateAmount(amount);
  if (value.ok() && (*value < 1 || *value > kAmountMax)) abort();
}

template <typename ParsedCommand>
void ValidateFields(const ParsedCommand& command) {
  if constexpr (requires { command.to_account; }) (void)CanonicalUsername(command.to_account);
  if constexpr (requires { command.account; }) (void)CanonicalUsername(command.account);
  if constexpr (requires { command.amount; }) Validate(command.amount);
  if constexpr (requires { command.note; }) (void)ValidateNote(command.note);
  if constexpr (requires { command.reason; }) (void)ValidateNote(command.reason);
  if constexpr (requires { command.transaction_id; }) {
    (void)ValidateTransactionId(command.transaction_id);
  }
}

template <typename ParsedCommand>
void CheckParse(const absl::StatusOr<ParsedCommand>& command, std::string_view body) {
  if (!command.ok()) {
    CheckParseError(command.status(), body);
  } else {
    ValidateFields(*command);
  }
}

// The events every ledger of this target starts from: alice 100, bob 5, one
// transfer with a transaction id and a note, so history, notes and
// idempotency have something to find.
std::shared_ptr<testing::MemoryEventLog::Store> SeedStore() {
  auto store = std::make_shared<testing::MemoryEventLog::Store>();
  auto log = std::make_unique<testing::MemoryEventLog>(store);
  Ledger::Options options;
  options.clock_ms = [] { return kNowS * 1000; };
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(std::move(log), options);
  if (!ledger.ok()) abort();
  auto submit = [&](Command command) {
    if (!(*ledger)->Submit(std::move(command)).get().ok()) abort();
  };
  submit(OpenAccountCommand{"admin", "alice"});
  submit(OpenAccountCommand{"admin", "bob"});
  submit(MintCommand{"admin", "alice", AmountField::Integer(105), "seed", "mint-1"});
  submit(TransferCommand{"alice", "bob", AmountField::Integer(5), "lunch", "t-1"});
  return store;
}

std::unique_ptr<Ledger> OpenLedger(testing::MemoryEventLog::Store& seed) {
  auto store = std::make_shared<testing::MemoryEventLog::Store>();
  {
    MutexLock seed_lock(seed.mutex);
    MutexLock store_lock(store->mutex);  // Uncontended: nothing else has it yet.
    store->events = seed.events;
  }
  Ledger::Options options;
  options.clock_ms = [] { return kNowS * 1000; };
  absl::StatusOr<std::unique_ptr<Ledger>> ledger =
      Ledger::Open(std::make_unique<testing::MemoryEventLog>(std::move(store)), options);
  if (!ledger.ok()) abort();
  return std::move(*ledger);
}

// Everything the routes need, built once; `shared_ledger` serves the reads
// (they change nothing), commands get a fresh ledger each.
struct Fixture {
  Fixture()
      : tokens(std::string(kSecret)),
        seed(SeedStore()),
        shared_ledger(OpenLedger(*seed)),
        alice_token(*tokens.Issue("alice", false, 3600, kNowS)),
        admin_token(*tokens.Issue("root", true, 3600, kNowS)) {}

  ServerContext Context(const AccountFeed& feed) {
    ServerContext context{.feed = feed,
                          .notifier = notifier,
                          .metrics = metrics,
                          .tokens = tokens,
                          .log = nullptr,
                          .options = {},
                          .now_s = [] { return kNowS; }};
    context.options.access_log = false;
    return context;
  }

  TokenAuthority tokens;
  Metrics metrics;
  Notifier notifier{metrics};
  std::shared_ptr<testing::MemoryEventLog::Store> seed;
  std::unique_ptr<Ledger> shared_ledger;
  std::string alice_token;
  std::string admin_token;
};

Fixture& GetFixture() {
  static Fixture* fixture = new Fixture();
  return *fixture;
}

HttpRequest MakeRequest(http::verb method, std::string_view target, std::string_view token,
                        std::string_view body) {
  HttpRequest request(method, std::string(target), 11);
  request.set(http::field::host, "localhost");
  if (!token.empty()) request.set(http::field::authorization, "Bearer " + std::string(token));
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::string(body);
    request.prepare_payload();
  }
  return request;
}

void CheckResponse(const HttpResponse& response, std::string_view input) {
  const unsigned status = response.result_int();
  if (status < 200 || status >= 500) Fail("answer outside 2xx-4xx", input);
  const std::string_view type = response[http::field::content_type];
  if (type.substr(0, 16) != "application/json") return;  // The wallet page, metrics.
  boost::system::error_code ec;
  boost::json::parse(response.body(), ec);
  if (ec) Fail("answer body is not JSON", input);
}

// Runs `request` through Routes on `ledger` as the session would (Handle,
// or AuthorizeWebSocket for /ws); commands complete on
// the writer thread and are answered through `io`.
void Handle(Ledger* ledger, const HttpRequest& request, std::string_view input) {
  Fixture& fixture = GetFixture();
  const LedgerAccountFeed feed(*ledger);
  const ServerContext context = fixture.Context(feed);
  Routes routes(*ledger, context);
  boost::asio::io_context io;
  std::optional<HttpResponse> answer;
  if (IsWebSocketRequest(request)) {
    // As HttpSession does: a /ws request is authorised for an upgrade,
    // never handed to Handle.
    bool granted = false;
    routes.AuthorizeWebSocket(
        request, boost::asio::make_strand(io),
        [&](std::variant<WebSocketGrant, HttpResponse> grant) {
          if (auto* response = std::get_if<HttpResponse>(&grant)) {
            answer = std::move(*response);
          } else if (CanonicalUsername(std::get<WebSocketGrant>(grant).username).ok()) {
            granted = true;
          } else {
            Fail("granted a non-canonical user", input);
          }
        });
    io.run();
    if (granted) return;
  } else {
    routes.Handle(request, boost::asio::make_strand(io),
                  [&answer](HttpResponse response) { answer = std::move(response); });
    io.run();  // Returns once the posted answer (if any) ran: the work is tracked.
  }
  if (!answer.has_value()) Fail("no answer", input);
  CheckResponse(*answer, input);
}

}  // namespace
}  // namespace sbd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sbd;
  using namespace sbd::fuzz;
  FuzzInput input(data, size);
  const uint8_t mode = input.Byte() % 8;
  Fixture& fixture = GetFixture();
  switch (mode) {
    case 0: {
      const std::string_view body = input.Rest();
      CheckParse(ParseSendBody(body, "alice"), body);
      break;
    }
    case 1: {
      const std::string_view body = input.Rest();
      CheckParse(ParseMintBody(body, "root"), body);
      break;
    }
    case 2: {
      const std::string_view body = input.Rest();
      CheckParse(ParseOpenAccountBody(body, "root"), body);
      break;
    }
    case 3: {
      const std::string_view body = input.Rest();
      CheckParse(ParseSetNoteBody(body, "alice"), body);
      break;
    }
    case 4: {
      const std::string target = "/sbd_tokens/transactions?" + std::string(input.Rest());
      Handle(fixture.shared_ledger.get(),
             MakeRequest(http::verb::get, target, fixture.alice_token, ""), target);
      break;
    }
    case 5: {
      const std::string target = "/ws?" + std::string(input.Rest());
      HttpRequest request = MakeRequest(http::verb::get, target, "", "");
      request.set(http::field::upgrade, "websocket");
      request.set(http::field::connection, "upgrade");
      request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
      request.set(http::field::sec_websocket_version, "13");
      const LedgerAccountFeed feed(*fixture.shared_ledger);
      const ServerContext context = fixture.Context(feed);
      Routes routes(*fixture.shared_ledger, context);
      auto grant = routes.AuthorizeWebSocket(request);
      if (auto* response = std::get_if<HttpResponse>(&grant)) {
        CheckResponse(*response, target);
      } else {
        auto& ok = std::get<WebSocketGrant>(grant);
        if (!CanonicalUsername(ok.username).ok()) Fail("granted a non-canonical user", target);
        if (ok.since.has_value() && *ok.since < 0) Fail("granted a negative since", target);
      }
      break;
    }
    case 6: {
      const std::string_view target = input.Rest();
      // Beast refuses to build a request line with these; the wire parser
      // never yields them either.
      if (target.find_first_of(std::string_view("\r\n \0", 4)) != std::string_view::npos) break;
      Handle(fixture.shared_ledger.get(),
             MakeRequest(http::verb::get, target, fixture.alice_token, ""), target);
      break;
    }
    case 7: {
      const uint8_t route = input.Byte() % 4;
      const std::string_view body = input.Rest();
      static constexpr std::string_view kTargets[] = {
          "/sbd_tokens/send", "/admin/mint", "/admin/accounts", "/sbd_tokens/transaction/note"};
      const http::verb method = route == 3 ? http::verb::patch : http::verb::post;
      const std::string_view token =
          route == 1 || route == 2 ? fixture.admin_token : fixture.alice_token;
      std::unique_ptr<Ledger> ledger = OpenLedger(*fixture.seed);
      Handle(ledger.get(), MakeRequest(method, kTargets[route], token, body), body);
      break;
    }
  }
  return 0;
}

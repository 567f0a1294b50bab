// Records real answers of every served route of the sbd-ledger binary, for
// openapi.test.mjs to validate against the OpenAPI document
// (transport/web/openapi.json) with a JSON Schema validator.
//
//   openapi_answer_recorder OUTPUT.json
//
// Runs the real server (ServerProcess) four times: a plain one for the 2xx
// answers, every error code of every route and the WebSocket messages; one
// with --rate-limit 1 for 429; one whose files cannot grow past a small size
// (RLIMIT_FSIZE, as a full disk) for 503; one with --cors-origins for the
// preflights and the WebSocket Origin check. Writes
//   {"answers": [{"name", "method", "path" | "component", "target",
//                 "request_body", "expected_status", "status", "headers",
//                 "body"}, ...],
//    "websocket_messages": [{"name", "expected_type", "text"}, ...]}
// where "path" is the documented path (the target without its query) and
// "component" names a path-independent answer of components/responses (404
// for an unknown path, 405, 431). The recorder judges nothing: the node test
// checks each status against expected_status and each body against the
// document. It exits 1 only if a server does not start or a request gets no
// answer at all.
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/event.h"
#include "engine/validation.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"
#include "transport/limits.h"
#include "transport/routes.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

// How long one WebSocket message may take to arrive.
constexpr milliseconds kMessageTimeout{10000};
// Requests tried before the rate limit or the full disk must have refused
// one (each success brings the refusal closer; the bound keeps a server that
// never refuses from looping forever).
constexpr int kAttemptsUntilRefusedMax = 5000;
// The full-disk server's file size limit: the log hits it within a few
// hundred sends with long notes.
constexpr int64_t kFileSizeLimitBytes = 256 * 1024;

// Broken request bodies every body-taking route gets (the limits are the
// server's defaults: kNoteLengthMax, kRequestBodyBytesMax, ...).
const std::string kNotAnObject = "[1,2]";
const std::string kTooLongText(kNoteLengthMax + 1, 'n');

std::string Body(json::object object) { return json::serialize(object); }

class Recorder {
 public:
  explicit Recorder(uint16_t port) : port_(port), client_(std::make_unique<HttpClient>(port)) {}
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Records from the server on `port` from now on.
  void set_port(uint16_t port) {
    port_ = port;
    client_ = std::make_unique<HttpClient>(port);
  }

  // One request to a documented route. The documented path is the target
  // without its query.
  void Answer(std::string name, std::string method, std::string target, int expected_status,
              std::string_view body = "", std::string_view token = "",
              const HttpClient::Headers& headers = {}) {
    const std::string path = target.substr(0, target.find('?'));
    Save(std::move(name), json::object{{"method", method}, {"path", path}}, method, target, body,
         expected_status, client_->Request(method, target, body, token, headers));
  }

  // One request whose answer is a path-independent response of the document
  // (components/responses/<component>).
  void PathIndependent(std::string name, std::string component, std::string method,
                       std::string target, int expected_status,
                       const HttpClient::Headers& headers = {}) {
    Save(std::move(name), json::object{{"method", method}, {"component", component}}, method,
         target, "", expected_status, client_->Request(method, target, "", "", headers));
  }

  // A WebSocket handshake that the server refuses with an HTTP answer, sent
  // on a connection of its own.
  void RefusedUpgrade(std::string name, std::string target, int expected_status,
                      const HttpClient::Headers& extra = {}) {
    HttpClient client(port_);
    HttpClient::Headers upgrade = {{"Upgrade", "websocket"},
                                   {"Connection", "Upgrade"},
                                   {"Sec-WebSocket-Version", "13"},
                                   {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
    upgrade.insert(upgrade.end(), extra.begin(), extra.end());
    const std::string path = target.substr(0, target.find('?'));
    Save(std::move(name), json::object{{"method", "GET"}, {"path", path}}, "GET", target, "",
         expected_status, client.Request("GET", target, "", "", upgrade));
  }

  // An accepted WebSocket handshake: 101 and no body.
  void AcceptedUpgrade(std::string name, std::string target) {
    absl::StatusOr<int> status = WebSocketClient::HandshakeStatus(port_, target);
    if (!status.ok()) return Fail(name, status.status());
    HttpResponse response;
    response.status = *status;
    Save(std::move(name), json::object{{"method", "GET"}, {"path", "/ws"}}, "GET", target, "", 101,
         response);
  }

  // A message the server sent on a WebSocket.
  void Message(std::string name, std::string expected_type, WebSocketClient& socket) {
    absl::StatusOr<std::string> text = socket.Read(kMessageTimeout);
    if (!text.ok()) return Fail(name, text.status());
    messages_.push_back(json::object{
        {"name", std::move(name)}, {"expected_type", std::move(expected_type)}, {"text", *text}});
  }

  // A request made for its effect (setup); its answer is not recorded.
  absl::StatusOr<HttpResponse> Do(std::string_view method, std::string_view target,
                                  std::string_view body = "", std::string_view token = "") {
    return client_->Request(method, target, body, token);
  }

  // Sends until an answer has `status` (at most kAttemptsUntilRefusedMax
  // tries, `body_of(i)` the i-th body) and records that answer.
  template <typename BodyOf>
  void AnswerEventually(std::string name, std::string method, std::string target, int status,
                        BodyOf body_of, std::string_view token) {
    for (int attempt = 0; attempt < kAttemptsUntilRefusedMax; ++attempt) {
      const std::string body = body_of(attempt);
      absl::StatusOr<HttpResponse> response = Do(method, target, body, token);
      if (!response.ok()) return Fail(name, response.status());
      if (response->status == status || attempt + 1 == kAttemptsUntilRefusedMax) {
        const std::string path = target.substr(0, target.find('?'));
        return Save(std::move(name), json::object{{"method", method}, {"path", path}}, method,
                    target, body, status, *response);
      }
    }
  }

  void Fail(std::string_view what, const absl::Status& status) {
    std::fprintf(stderr, "openapi_answer_recorder: %.*s: %s\n", static_cast<int>(what.size()),
                 what.data(), status.ToString().c_str());
    failed_ = true;
  }

  bool failed() const { return failed_; }

  absl::Status Write(const std::string& path) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << json::serialize(json::object{{"answers", answers_}, {"websocket_messages", messages_}});
    out.close();
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
    return absl::OkStatus();
  }

 private:
  void Save(std::string name, json::object where, std::string_view method, std::string_view target,
            std::string_view request_body, int expected_status,
            const absl::StatusOr<HttpResponse>& response) {
    if (!response.ok()) return Fail(name, response.status());
    json::object headers;
    for (const auto& [header, value] : response->headers) headers[header] = value;
    json::object answer = std::move(where);
    answer["name"] = std::move(name);
    answer["method"] = method;
    answer["target"] = target;
    answer["request_body"] = request_body;
    answer["expected_status"] = expected_status;
    answer["status"] = response->status;
    answer["headers"] = std::move(headers);
    answer["body"] = response->body;
    answers_.push_back(std::move(answer));
  }

  uint16_t port_;
  std::unique_ptr<HttpClient> client_;
  json::array answers_;
  json::array messages_;
  bool failed_ = false;
};

// Opens `user` and mints `amount` to it (amount 0: no mint).
absl::Status Fund(Recorder& recorder, std::string_view user, int64_t amount) {
  const std::string admin = MakeToken("admin", true);
  absl::StatusOr<HttpResponse> opened =
      recorder.Do("POST", "/admin/accounts", Body({{"username", user}}), admin);
  if (!opened.ok()) return opened.status();
  if (opened->status != 201) return absl::InternalError(absl::StrCat("open: ", opened->body));
  if (amount == 0) return absl::OkStatus();
  absl::StatusOr<HttpResponse> minted =
      recorder.Do("POST", "/admin/mint", Body({{"username", user}, {"amount", amount}}), admin);
  if (!minted.ok()) return minted.status();
  if (minted->status != 200) return absl::InternalError(absl::StrCat("mint: ", minted->body));
  return absl::OkStatus();
}

// Opens and funds each (user, amount); false (after recording the failure)
// if one cannot be.
bool FundAll(Recorder& recorder, std::initializer_list<std::pair<const char*, int64_t>> accounts) {
  for (const auto& [user, amount] : accounts) {
    if (absl::Status funded = Fund(recorder, user, amount); !funded.ok()) {
      recorder.Fail(absl::StrCat("funding ", user), funded);
      return false;
    }
  }
  return true;
}

// The plain server: 2xx answers and every error code of every route.
void RecordPlainServer(Recorder& recorder, uint16_t port) {
  const std::string admin = MakeToken("admin", true);
  const std::string alice = MakeToken("alice");
  const std::string bob = MakeToken("bob");
  const std::string carol = MakeToken("carol");
  const std::string ghost = MakeToken("ghost");         // No account.
  const std::string bad_name = MakeToken("Bad Name!");  // Not a username.
  const std::string too_large(kRequestBodyBytesMax + 1, ' ');
  if (!FundAll(recorder, {{"alice", 1000}, {"bob", 1000}, {"carol", 0}, {"full", kAmountMax}})) {
    return;
  }

  // The WebSocket feed, live: connected, then a transfer's two messages, a
  // mint's, and a pong.
  {
    auto alice_socket = WebSocketClient::Connect(port, "/ws?token=" + alice);
    auto bob_socket = WebSocketClient::Connect(port, "/ws?token=" + bob);
    if (!alice_socket.ok() || !bob_socket.ok()) {
      return recorder.Fail("WebSocket connect",
                           alice_socket.ok() ? bob_socket.status() : alice_socket.status());
    }
    recorder.Message("connected (alice)", "connected", **alice_socket);
    recorder.Message("connected (bob)", "connected", **bob_socket);
    recorder.Answer("send with a note (to a connected receiver)", "POST", "/sbd_tokens/send", 200,
                    Body({{"to_user", "bob"}, {"amount", 7}, {"note", "lunch"}}), alice);
    recorder.Message("sent", "sbd_tokens_sent", **alice_socket);
    recorder.Message("received", "sbd_tokens_received", **bob_socket);
    recorder.Answer("mint with a reason (to a connected holder)", "POST", "/admin/mint", 200,
                    Body({{"username", "bob"}, {"amount", 3}, {"reason", "bonus"}}), admin);
    recorder.Message("credited", "sbd_tokens_credited", **bob_socket);
    if (absl::Status sent = (*alice_socket)->SendText(R"({"type":"ping"})"); !sent.ok()) {
      return recorder.Fail("ping", sent);
    }
    recorder.Message("pong", "pong", **alice_socket);
  }

  // Public routes.
  recorder.Answer("wallet page", "GET", "/", 200);
  recorder.Answer("health", "GET", "/healthz", 200);
  recorder.Answer("metrics", "GET", "/metrics", 200);
  recorder.Answer("OpenAPI document", "GET", "/openapi.json", 200);

  // POST /sbd_tokens/send.
  const std::string send = "/sbd_tokens/send";
  const std::string first_send =
      Body({{"to_user", "bob"}, {"amount", 50}, {"note", "rent"}, {"transaction_id", "oa-send-1"}});
  recorder.Answer("send", "POST", send, 200, first_send, alice);
  recorder.Answer("send replayed (duplicate)", "POST", send, 200, first_send, alice);
  recorder.Answer("send without a note", "POST", send, 200,
                  Body({{"to_user", "alice"}, {"amount", 5}}), bob);
  recorder.Answer("send: body not an object", "POST", send, 400, kNotAnObject, alice);
  recorder.Answer("send: no fields", "POST", send, 400, "{}", alice);
  recorder.Answer("send: float amount", "POST", send, 400, R"({"to_user":"bob","amount":5.0})",
                  alice);
  recorder.Answer("send: bad recipient name", "POST", send, 400,
                  Body({{"to_user", "Bad Name!"}, {"amount", 1}}), alice);
  recorder.Answer("send to self", "POST", send, 400, Body({{"to_user", "alice"}, {"amount", 1}}),
                  alice);
  recorder.Answer("send: insufficient funds", "POST", send, 400,
                  Body({{"to_user", "bob"}, {"amount", 1000000}}), alice);
  recorder.Answer("send: recipient would overflow", "POST", send, 400,
                  Body({{"to_user", "full"}, {"amount", 1}}), alice);
  recorder.Answer("send: note too long", "POST", send, 400,
                  Body({{"to_user", "bob"}, {"amount", 1}, {"note", kTooLongText}}), alice);
  recorder.Answer("send: bad sender name", "POST", send, 400,
                  Body({{"to_user", "bob"}, {"amount", 1}}), bad_name);
  recorder.Answer("send: no token", "POST", send, 401, Body({{"to_user", "bob"}, {"amount", 1}}));
  recorder.Answer("send: unknown recipient", "POST", send, 404,
                  Body({{"to_user", "nobody"}, {"amount", 1}}), alice);
  recorder.Answer("send: reused transaction_id", "POST", send, 409,
                  Body({{"to_user", "bob"}, {"amount", 51}, {"transaction_id", "oa-send-1"}}),
                  alice);
  recorder.Answer("send: body too large", "POST", send, 413, too_large, alice);

  // GET /sbd_tokens and /sbd_tokens/transactions (alice has a mint, sends
  // and a receive by now).
  recorder.Answer("balance", "GET", "/sbd_tokens", 200, "", alice);
  recorder.Answer("balance: bad name", "GET", "/sbd_tokens", 400, "", bad_name);
  recorder.Answer("balance: no token", "GET", "/sbd_tokens", 401);
  recorder.Answer("balance: expired token", "GET", "/sbd_tokens", 401, "",
                  MakeToken("alice", false, -60));
  recorder.Answer("balance: no account", "GET", "/sbd_tokens", 404, "", ghost);
  recorder.Answer("transactions", "GET", "/sbd_tokens/transactions?limit=100", 200, "", alice);
  recorder.Answer("transactions, a page", "GET", "/sbd_tokens/transactions?skip=1&limit=1", 200, "",
                  alice);
  recorder.Answer("transactions: limit 0", "GET", "/sbd_tokens/transactions?limit=0", 400, "",
                  alice);
  recorder.Answer("transactions: bad name", "GET", "/sbd_tokens/transactions", 400, "", bad_name);
  recorder.Answer("transactions: no token", "GET", "/sbd_tokens/transactions", 401);
  recorder.Answer("transactions: no account", "GET", "/sbd_tokens/transactions", 404, "", ghost);

  // PATCH /sbd_tokens/transaction/note.
  const std::string note = "/sbd_tokens/transaction/note";
  recorder.Answer("note", "PATCH", note, 200,
                  Body({{"transaction_id", "oa-send-1"}, {"note", "rent, March"}}), alice);
  recorder.Answer("note: body not an object", "PATCH", note, 400, kNotAnObject, alice);
  recorder.Answer("note: no note", "PATCH", note, 400, Body({{"transaction_id", "oa-send-1"}}),
                  alice);
  recorder.Answer("note: bad name", "PATCH", note, 400,
                  Body({{"transaction_id", "oa-send-1"}, {"note", "x"}}), bad_name);
  recorder.Answer("note: too long", "PATCH", note, 400,
                  Body({{"transaction_id", "oa-send-1"}, {"note", kTooLongText}}), alice);
  recorder.Answer("note: no token", "PATCH", note, 401,
                  Body({{"transaction_id", "oa-send-1"}, {"note", "x"}}));
  recorder.Answer("note: no account", "PATCH", note, 404,
                  Body({{"transaction_id", "oa-send-1"}, {"note", "x"}}), ghost);
  recorder.Answer("note: not a party", "PATCH", note, 404,
                  Body({{"transaction_id", "oa-send-1"}, {"note", "x"}}), carol);
  recorder.Answer("note: body too large", "PATCH", note, 413, too_large, alice);

  // POST /admin/accounts.
  const std::string accounts = "/admin/accounts";
  recorder.Answer("open account", "POST", accounts, 201, Body({{"username", "dave"}}), admin);
  recorder.Answer("open: body not an object", "POST", accounts, 400, kNotAnObject, admin);
  recorder.Answer("open: no username", "POST", accounts, 400, "{}", admin);
  recorder.Answer("open: bad name", "POST", accounts, 400, Body({{"username", "Bad Name!"}}),
                  admin);
  recorder.Answer("open: name not a string", "POST", accounts, 400, R"({"username":5})", admin);
  recorder.Answer("open: no token", "POST", accounts, 401, Body({{"username", "erin"}}));
  recorder.Answer("open: not an admin", "POST", accounts, 403, Body({{"username", "erin"}}), alice);
  recorder.Answer("open: exists", "POST", accounts, 409, Body({{"username", "alice"}}), admin);
  recorder.Answer("open: body too large", "POST", accounts, 413, too_large, admin);

  // POST /admin/mint.
  const std::string mint = "/admin/mint";
  const std::string first_mint = Body({{"username", "carol"},
                                       {"amount", 100},
                                       {"reason", "welcome"},
                                       {"transaction_id", "oa-mint-1"}});
  recorder.Answer("mint", "POST", mint, 200, first_mint, admin);
  recorder.Answer("mint replayed (duplicate)", "POST", mint, 200, first_mint, admin);
  recorder.Answer("mint: body not an object", "POST", mint, 400, kNotAnObject, admin);
  recorder.Answer("mint: no amount", "POST", mint, 400, Body({{"username", "carol"}}), admin);
  recorder.Answer("mint: zero", "POST", mint, 400, Body({{"username", "carol"}, {"amount", 0}}),
                  admin);
  recorder.Answer("mint: bad name", "POST", mint, 400,
                  Body({{"username", "Bad Name!"}, {"amount", 1}}), admin);
  recorder.Answer("mint: would overflow", "POST", mint, 400,
                  Body({{"username", "full"}, {"amount", 1}}), admin);
  recorder.Answer("mint: reason too long", "POST", mint, 400,
                  Body({{"username", "carol"}, {"amount", 1}, {"reason", kTooLongText}}), admin);
  recorder.Answer("mint: no token", "POST", mint, 401,
                  Body({{"username", "carol"}, {"amount", 1}}));
  recorder.Answer("mint: not an admin", "POST", mint, 403,
                  Body({{"username", "carol"}, {"amount", 1}}), alice);
  recorder.Answer("mint: no account", "POST", mint, 404,
                  Body({{"username", "nobody"}, {"amount", 1}}), admin);
  recorder.Answer("mint: reused transaction_id", "POST", mint, 409,
                  Body({{"username", "carol"}, {"amount", 101}, {"transaction_id", "oa-mint-1"}}),
                  admin);
  recorder.Answer("mint: body too large", "POST", mint, 413, too_large, admin);
  recorder.Answer("carol's history (a mint with a reason)", "GET",
                  "/sbd_tokens/transactions?limit=100", 200, "", carol);

  // POST /admin/transfer (a service token; admins may too).
  const std::string transfer = "/admin/transfer";
  const std::string service = MakeServiceToken("shop-service");
  const std::string first_transfer = Body({{"from_user", "alice"},
                                           {"to_user", "carol"},
                                           {"amount", 5},
                                           {"note", "theme"},
                                           {"reason", "order 1"},
                                           {"transaction_id", "oa-transfer-1"}});
  recorder.Answer("service transfer", "POST", transfer, 200, first_transfer, service);
  recorder.Answer("service transfer replayed (duplicate)", "POST", transfer, 200, first_transfer,
                  service);
  recorder.Answer("transfer: body not an object", "POST", transfer, 400, kNotAnObject, service);
  recorder.Answer("transfer: no from_user", "POST", transfer, 400,
                  Body({{"to_user", "carol"}, {"amount", 1}}), service);
  recorder.Answer("transfer: zero", "POST", transfer, 400,
                  Body({{"from_user", "alice"}, {"to_user", "carol"}, {"amount", 0}}), service);
  recorder.Answer("transfer: bad name", "POST", transfer, 400,
                  Body({{"from_user", "Bad Name!"}, {"to_user", "carol"}, {"amount", 1}}), service);
  recorder.Answer("transfer to self", "POST", transfer, 400,
                  Body({{"from_user", "alice"}, {"to_user", "alice"}, {"amount", 1}}), service);
  recorder.Answer("transfer: insufficient funds", "POST", transfer, 400,
                  Body({{"from_user", "alice"}, {"to_user", "carol"}, {"amount", 1000000}}),
                  service);
  recorder.Answer("transfer: recipient would overflow", "POST", transfer, 400,
                  Body({{"from_user", "alice"}, {"to_user", "full"}, {"amount", 1}}), service);
  recorder.Answer(
      "transfer: reason too long", "POST", transfer, 400,
      Body({{"from_user", "alice"}, {"to_user", "carol"}, {"amount", 1}, {"reason", kTooLongText}}),
      service);
  recorder.Answer("transfer: no token", "POST", transfer, 401,
                  Body({{"from_user", "alice"}, {"to_user", "carol"}, {"amount", 1}}));
  recorder.Answer("transfer: a user token", "POST", transfer, 403,
                  Body({{"from_user", "alice"}, {"to_user", "carol"}, {"amount", 1}}), alice);
  recorder.Answer("transfer: unknown sender", "POST", transfer, 404,
                  Body({{"from_user", "nobody"}, {"to_user", "carol"}, {"amount", 1}}), service);
  recorder.Answer("transfer: reused transaction_id", "POST", transfer, 409,
                  Body({{"from_user", "alice"},
                        {"to_user", "carol"},
                        {"amount", 6},
                        {"transaction_id", "oa-transfer-1"}}),
                  service);
  recorder.Answer("transfer: body too large", "POST", transfer, 413, too_large, service);
  recorder.Answer("mint: a service token", "POST", mint, 403,
                  Body({{"username", "carol"}, {"amount", 1}}), service);

  // GET /ws.
  recorder.AcceptedUpgrade("ws upgrade", "/ws?token=" + alice + "&since=0");
  recorder.RefusedUpgrade("ws: bad name", "/ws?token=" + bad_name, 400);
  recorder.RefusedUpgrade("ws: bad since", "/ws?token=" + alice + "&since=abc", 400);
  recorder.Answer("ws: not an upgrade", "GET", "/ws?token=" + alice, 400);
  recorder.RefusedUpgrade("ws: no token", "/ws", 401);
  recorder.RefusedUpgrade("ws: bad token", "/ws?token=garbage", 401);
  recorder.RefusedUpgrade("ws: no account", "/ws?token=" + ghost, 404);

  // Answers of no route in particular.
  recorder.PathIndependent("unknown path", "NotFound", "GET", "/no/such/path", 404);
  recorder.PathIndependent("wrong method", "MethodNotAllowed", "DELETE", "/sbd_tokens", 405);
  recorder.PathIndependent("wrong method on a public route", "MethodNotAllowed", "POST",
                           "/openapi.json", 405);
  recorder.PathIndependent("header too large", "HeaderFieldsTooLarge", "GET", "/healthz", 431,
                           {{"X-Padding", std::string(kRequestHeaderBytesMax + 1, 'p')}});
}

// --rate-limit 1: alice's sends past the burst are 429.
void RecordRateLimitedServer(Recorder& recorder) {
  if (!FundAll(recorder, {{"alice", 1000000}, {"bob", 0}})) return;
  recorder.AnswerEventually(
      "send: over the rate limit", "POST", "/sbd_tokens/send", 429,
      [](int) {
        return Body({{"to_user", "bob"}, {"amount", 1}});
      },
      MakeToken("alice"));
}

// --cors-origins kCorsOrigin: a preflight on every path from it (204) and
// from another origin (403), and a WebSocket handshake from another origin
// (403).
constexpr char kCorsOrigin[] = "http://localhost:3000";
void RecordCorsServer(Recorder& recorder) {
  if (!FundAll(recorder, {{"alice", 1}})) return;
  for (const Routes::ServedRoute& route : Routes::ServedRoutes()) {
    if (route.method != "OPTIONS") continue;
    const std::string path(route.path);
    const HttpClient::Headers request = {{"Access-Control-Request-Method", "POST"},
                                         {"Access-Control-Request-Headers", "authorization"}};
    HttpClient::Headers allowed = request;
    allowed.push_back({"Origin", kCorsOrigin});
    HttpClient::Headers other = request;
    other.push_back({"Origin", "http://localhost:3001"});
    recorder.Answer(absl::StrCat("preflight ", path), "OPTIONS", path, 204, "", "", allowed);
    recorder.Answer(absl::StrCat("preflight ", path, ": other origin"), "OPTIONS", path, 403, "",
                    "", other);
  }
  recorder.RefusedUpgrade("ws: other origin", absl::StrCat("/ws?token=", MakeToken("alice")), 403,
                          {{"Origin", "http://localhost:3001"}});
}

// Files limited to kFileSizeLimitBytes: once the log is full, every command
// is 503.
void RecordFullDiskServer(Recorder& recorder) {
  if (!FundAll(recorder, {{"alice", 1000000}, {"bob", 0}})) return;
  const std::string alice = MakeToken("alice");
  const std::string admin = MakeToken("admin", true);
  const std::string long_note(kNoteLengthMax - 100, 'n');  // Big events fill the log sooner.
  recorder.AnswerEventually(
      "send: log full", "POST", "/sbd_tokens/send", 503,
      [&](int i) {
        return Body({{"to_user", "bob"},
                     {"amount", 1},
                     {"note", long_note},
                     {"transaction_id", absl::StrCat("oa-fill-", i)}});
      },
      alice);
  recorder.AnswerEventually(
      "note: log full", "PATCH", "/sbd_tokens/transaction/note", 503,
      [&](int i) {
        // A different note each time, so that every attempt is a new event.
        return Body({{"transaction_id", "oa-fill-0"}, {"note", absl::StrCat(i, long_note)}});
      },
      alice);
  recorder.AnswerEventually(
      "open: log full", "POST", "/admin/accounts", 503,
      [](int i) {
        return Body({{"username", absl::StrCat("fill-", i)}});
      },
      admin);
  recorder.AnswerEventually(
      "transfer: log full", "POST", "/admin/transfer", 503,
      [](int) {
        return Body({{"from_user", "alice"}, {"to_user", "bob"}, {"amount", 1}});
      },
      MakeServiceToken("shop-service"));
  recorder.AnswerEventually(
      "mint: log full", "POST", "/admin/mint", 503,
      [](int) {
        return Body({{"username", "bob"}, {"amount", 1}});
      },
      admin);
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT.json\n", argv[0]);
    return 2;
  }
  absl::StatusOr<std::unique_ptr<ServerProcess>> plain = ServerProcess::Start();
  if (!plain.ok()) {
    std::fprintf(stderr, "openapi_answer_recorder: %s\n", plain.status().ToString().c_str());
    return 1;
  }
  Recorder recorder((*plain)->port());
  RecordPlainServer(recorder, (*plain)->port());

  ServerProcessOptions rate_limited;
  rate_limited.args = {"--rate-limit", "1"};
  absl::StatusOr<std::unique_ptr<ServerProcess>> limited = ServerProcess::Start(rate_limited);
  if (!limited.ok()) {
    recorder.Fail("rate-limited server", limited.status());
  } else {
    recorder.set_port((*limited)->port());
    RecordRateLimitedServer(recorder);
  }

  ServerProcessOptions full_disk;
  full_disk.file_size_limit_bytes = kFileSizeLimitBytes;
  full_disk.args = {"--durability", "normal"};
  absl::StatusOr<std::unique_ptr<ServerProcess>> full = ServerProcess::Start(full_disk);
  if (!full.ok()) {
    recorder.Fail("full-disk server", full.status());
  } else {
    recorder.set_port((*full)->port());
    RecordFullDiskServer(recorder);
  }

  ServerProcessOptions cors;
  cors.args = {"--cors-origins", kCorsOrigin};
  absl::StatusOr<std::unique_ptr<ServerProcess>> cors_server = ServerProcess::Start(cors);
  if (!cors_server.ok()) {
    recorder.Fail("CORS server", cors_server.status());
  } else {
    recorder.set_port((*cors_server)->port());
    RecordCorsServer(recorder);
  }

  if (absl::Status written = recorder.Write(argv[1]); !written.ok()) {
    recorder.Fail("output", written);
  }
  return recorder.failed() ? 1 : 0;
}

}  // namespace
}  // namespace sbd::testing

int main(int argc, char** argv) { return sbd::testing::Main(argc, argv); }

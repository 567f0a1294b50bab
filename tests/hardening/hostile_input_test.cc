// Hostile input and abuse against the real sbd-ledger: a table of malformed
// requests (broken JSON, duplicate keys, deep nesting, huge numbers, NaN,
// invalid UTF-8, NUL bytes, overlong fields, wrong content types, a 10 MB
// body, broken HTTP framing), slowloris, a connection flood, forged tokens
// on HTTP and the WebSocket, and the per-user rate limit. Each request gets
// API.md's exact error body or a closed socket; the server stays up and not
// one balance or event changes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/hardening/hardening_util.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"
#include "tests/support/websocket_client.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::string Admin() { return MakeToken("root", /*admin=*/true); }

std::unique_ptr<ServerProcess> MustStart(std::vector<std::string> args = {}) {
  ServerProcessOptions options;
  options.args = std::move(args);
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

void OpenFunded(HttpClient& http, const std::string& user, int64_t amount) {
  absl::StatusOr<HttpResponse> opened =
      http.Post("/admin/accounts", json::serialize(json::object{{"username", user}}), Admin());
  ASSERT_TRUE(opened.ok() && opened->status == 201);
  if (amount == 0) return;
  absl::StatusOr<HttpResponse> minted =
      http.Post("/admin/mint",
                json::serialize(json::object{{"username", user}, {"amount", amount}}), Admin());
  ASSERT_TRUE(minted.ok() && minted->status == 200);
}

// Every balance and the last seq: what no refused request may change.
struct LedgerState {
  int64_t seq = -1;
  std::map<std::string, int64_t> balances;
  bool operator==(const LedgerState&) const = default;
};

LedgerState ReadState(uint16_t port, const std::vector<std::string>& users) {
  HttpClient http(port, seconds(10));
  LedgerState state;
  absl::StatusOr<HttpResponse> health = http.Get("/healthz");
  EXPECT_TRUE(health.ok() && health->status == 200) << "the server is not healthy";
  if (health.ok() && health->status == 200) {
    state.seq = health->Json().at("seq").to_number<int64_t>();
  }
  for (const std::string& user : users) {
    absl::StatusOr<HttpResponse> balance = http.Get("/sbd_tokens", MakeToken(user));
    state.balances[user] = balance.ok() && balance->status == 200
                               ? balance->Json().at("sbd_tokens").to_number<int64_t>()
                               : -1;
  }
  return state;
}

std::string DebugString(const LedgerState& state) {
  std::string text = absl::StrCat("seq ", state.seq);
  for (const auto& [user, balance] : state.balances)
    absl::StrAppend(&text, " ", user, "=", balance);
  return text;
}

// A request as raw bytes, with Content-Length.
std::string RawRequest(const std::string& method, const std::string& target,
                       const std::string& body, const std::string& token,
                       const std::string& content_type = "application/json",
                       const std::string& extra_headers = "") {
  std::string request = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!token.empty()) absl::StrAppend(&request, "Authorization: Bearer ", token, "\r\n");
  if (!content_type.empty()) absl::StrAppend(&request, "Content-Type: ", content_type, "\r\n");
  absl::StrAppend(&request, extra_headers, "Content-Length: ", body.size(), "\r\n\r\n", body);
  return request;
}

std::string Repeat(std::string_view text, int count) {
  std::string out;
  out.reserve(text.size() * count);
  for (int i = 0; i < count; ++i) out.append(text);
  return out;
}

// A plain TCP socket for what HttpClient will not do: dribbling bytes and
// holding connections open without a request.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      close(fd_);
      fd_ = -1;
    }
    if (fd_ >= 0) {
      int one = 1;
      setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
    }
  }
  ~RawSocket() {
    if (fd_ >= 0) close(fd_);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  // False once the peer closed or reset the connection.
  bool Send(std::string_view bytes) {
    if (fd_ < 0 || closed_) return false;
    const ssize_t sent = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) closed_ = true;
    return !closed_;
  }
  // Reads what is there without waiting; true if the peer has closed.
  bool PeerClosed() {
    if (fd_ < 0) return true;
    char buffer[4096];
    while (!closed_) {
      const ssize_t got = recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (got > 0) {
        received_.append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        closed_ = true;
      } else {
        break;
      }
    }
    return closed_;
  }
  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

// --- The table of malformed requests ---

struct MalformedCase {
  std::string name;
  std::string request;  // Raw bytes on a fresh connection.
  int status;           // 0: the server closes the connection without an answer.
  std::string code;
  bool may_close = false;  // A huge body: the answer may be lost to the reset.
};

std::vector<MalformedCase> MalformedCases() {
  const std::string alice = MakeToken("alice");
  auto send = [&](std::string name, std::string body, int status, std::string code,
                  const std::string& content_type = "application/json") {
    return MalformedCase{std::move(name),
                         RawRequest("POST", "/sbd_tokens/send", body, alice, content_type), status,
                         std::move(code)};
  };
  auto get = [&](std::string name, std::string target, int status, std::string code) {
    return MalformedCase{std::move(name), RawRequest("GET", target, "", alice, ""), status,
                         std::move(code)};
  };
  auto raw = [](std::string name, std::string bytes) {
    return MalformedCase{std::move(name), std::move(bytes), 0, ""};
  };
  // Valid JSON that alice cannot afford: shows the body was read as meant.
  const std::string unaffordable = R"("amount":1000000000)";
  const std::string kNul(1, '\0');
  std::vector<MalformedCase> cases = {
      // Broken JSON.
      send("unterminated object", R"({"to_user":"bob","amount":1)", 400, "invalid_json"),
      send("trailing comma", R"({"to_user":"bob","amount":1,})", 400, "invalid_json"),
      send("single quotes", R"({'to_user':'bob','amount':1})", 400, "invalid_json"),
      send("unquoted keys", R"({to_user:"bob",amount:1})", 400, "invalid_json"),
      send("comment", R"({"to_user":"bob",/* hi */"amount":1})", 400, "invalid_json"),
      send("empty body", "", 400, "invalid_json"),
      send("two objects", R"({"to_user":"bob","amount":1}{"to_user":"bob","amount":1})", 400,
           "invalid_json"),
      send("array", R"([{"to_user":"bob","amount":1}])", 400, "invalid_json"),
      // Duplicate keys.
      send("duplicate to_user", R"({"to_user":"bob","to_user":"carol","amount":1})", 400,
           "invalid_json"),
      send("duplicate amount", R"({"to_user":"bob","amount":1,"amount":2})", 400, "invalid_json"),
      // Deep nesting.
      send("10k open brackets", std::string(10000, '['), 400, "invalid_json"),
      send("10k nested arrays in a field",
           absl::StrCat(R"({"to_user":"bob","amount":1,"x":)", std::string(10000, '['),
                        std::string(10000, ']'), "}"),
           400, "invalid_json"),
      send("10k nested objects",
           absl::StrCat(Repeat(R"({"a":)", 10000), "1", std::string(10000, '}')), 400,
           "invalid_json"),
      // Huge numbers.
      send("amount 1e400", R"({"to_user":"bob","amount":1e400})", 400, "invalid_amount"),
      send("amount 20 digits", R"({"to_user":"bob","amount":99999999999999999999})", 400,
           "invalid_amount"),
      send("amount -20 digits", R"({"to_user":"bob","amount":-99999999999999999999})", 400,
           "invalid_amount"),
      send("amount 1e-400", R"({"to_user":"bob","amount":1e-400})", 400, "invalid_amount"),
      send("amount 2^53", R"({"to_user":"bob","amount":9007199254740992})", 400, "invalid_amount"),
      send("1e400 in an unknown field is valid JSON",
           absl::StrCat(R"({"to_user":"bob",)", unaffordable, R"(,"x":1e400})"), 400,
           "insufficient_funds"),
      MalformedCase{
          "mint 1e400",
          RawRequest("POST", "/admin/mint", R"({"username":"bob","amount":1e400})", Admin()), 400,
          "invalid_amount"},
      // NaN and Infinity are not JSON.
      send("amount NaN", R"({"to_user":"bob","amount":NaN})", 400, "invalid_json"),
      send("amount Infinity", R"({"to_user":"bob","amount":Infinity})", 400, "invalid_json"),
      send("amount -Infinity", R"({"to_user":"bob","amount":-Infinity})", 400, "invalid_json"),
      send("NaN in an unknown field", R"({"to_user":"bob","amount":1,"x":NaN})", 400,
           "invalid_json"),
      // Invalid UTF-8.
      send("0xff in to_user", "{\"to_user\":\"bo\xff\",\"amount\":1}", 400, "invalid_json"),
      send("overlong encoding in note",
           absl::StrCat("{\"to_user\":\"bob\",", unaffordable, ",\"note\":\"\xc0\xaf\"}"), 400,
           "invalid_json"),
      send("encoded surrogate in note",
           absl::StrCat("{\"to_user\":\"bob\",", unaffordable, ",\"note\":\"\xed\xa0\x80\"}"), 400,
           "invalid_json"),
      send("truncated sequence in note",
           absl::StrCat("{\"to_user\":\"bob\",", unaffordable, ",\"note\":\"\xe2\x82\"}"), 400,
           "invalid_json"),
      send("lone surrogate escape in note",
           absl::StrCat(R"({"to_user":"bob",)", unaffordable, R"(,"note":"\ud800"})"), 400,
           "invalid_json"),
      // NUL bytes.
      send("raw NUL in a string", absl::StrCat(R"({"to_user":"bob)", kNul, R"(","amount":1})"), 400,
           "invalid_json"),
      send("NUL after the object", absl::StrCat(R"({"to_user":"bob","amount":1})", kNul), 400,
           "invalid_json"),
      send("escaped NUL in to_user", R"({"to_user":"bob\u0000","amount":1})", 400,
           "invalid_username"),
      send("escaped NUL in transaction_id",
           R"({"to_user":"bob","amount":1,"transaction_id":"a\u0000b"})", 400, "invalid_field"),
      send("escaped NUL in a note is text",
           absl::StrCat(R"({"to_user":"bob",)", unaffordable, R"(,"note":"a\u0000b"})"), 400,
           "insufficient_funds"),
      raw("NUL in a header value",
          absl::StrCat("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a", kNul, "b\r\n\r\n")),
      raw("NUL in the target", absl::StrCat("GET /healthz", kNul, " HTTP/1.1\r\nHost: x\r\n\r\n")),
      // Overlong fields.
      send("note of 501 characters",
           absl::StrCat(R"({"to_user":"bob","amount":1,"note":")", std::string(501, 'n'), "\"}"),
           400, "invalid_field"),
      send("note of 60000 characters",
           absl::StrCat(R"({"to_user":"bob","amount":1,"note":")", std::string(60000, 'n'), "\"}"),
           400, "invalid_field"),
      send("to_user of 65 characters",
           absl::StrCat(R"({"to_user":")", std::string(65, 'b'), R"(","amount":1})"), 400,
           "invalid_username"),
      send("to_user of 60000 characters",
           absl::StrCat(R"({"to_user":")", std::string(60000, 'b'), R"(","amount":1})"), 400,
           "invalid_username"),
      send("transaction_id of 129 characters",
           absl::StrCat(R"({"to_user":"bob","amount":1,"transaction_id":")", std::string(129, 't'),
                        "\"}"),
           400, "invalid_field"),
      send("transaction_id of 60000 characters",
           absl::StrCat(R"({"to_user":"bob","amount":1,"transaction_id":")",
                        std::string(60000, 't'), "\"}"),
           400, "invalid_field"),
      get("limit of a million", "/sbd_tokens/transactions?limit=1000000", 400, "invalid_field"),
      get("skip of 20 digits", "/sbd_tokens/transactions?skip=99999999999999999999", 400,
          "invalid_field"),
      get("limit NUL", "/sbd_tokens/transactions?limit=%00", 400, "invalid_field"),
      get("10 KB target", absl::StrCat("/", std::string(10000, 'a')), 431, "payload_too_large"),
      // Wrong content types: the body is what counts.
      send("form-encoded body", "to_user=bob&amount=1", 400, "invalid_json",
           "application/x-www-form-urlencoded"),
      send("multipart body",
           "--x\r\nContent-Disposition: form-data; name=\"to_user\"\r\n\r\nbob\r\n--x--\r\n", 400,
           "invalid_json", "multipart/form-data; boundary=x"),
      send("XML body", "<send><to_user>bob</to_user><amount>1</amount></send>", 400, "invalid_json",
           "application/xml"),
      send("JSON as text/plain is still JSON",
           absl::StrCat(R"({"to_user":"bob",)", unaffordable, "}"), 400, "insufficient_funds",
           "text/plain"),
      // Bodies far over the 64 KiB limit.
      MalformedCase{"10 MB body",
                    RawRequest("POST", "/sbd_tokens/send", std::string(10 << 20, ' '), alice), 413,
                    "payload_too_large", /*may_close=*/true},
      MalformedCase{
          "10 MB chunked body",
          absl::StrCat("POST /sbd_tokens/send HTTP/1.1\r\nHost: x\r\nAuthorization: "
                       "Bearer ",
                       alice, "\r\nTransfer-Encoding: chunked\r\n\r\n",
                       Repeat(absl::StrCat("100000\r\n", std::string(1 << 20, ' '), "\r\n"), 10),
                       "0\r\n\r\n"),
          413, "payload_too_large", /*may_close=*/true},
      // Broken HTTP framing: closed without an answer.
      raw("Content-Length and chunked",
          "POST /sbd_tokens/send HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
      raw("negative Content-Length",
          "POST /sbd_tokens/send HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
      raw("two Content-Lengths",
          "POST /sbd_tokens/send HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
          "Content-Length: 3\r\n\r\n{}"),
      raw("Content-Length of 23 digits",
          "POST /sbd_tokens/send HTTP/1.1\r\nHost: x\r\nContent-Length: "
          "99999999999999999999999\r\n\r\n"),
      raw("bad chunk size",
          "POST /sbd_tokens/send HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
      raw("TLS client hello",
          std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11) + std::string(100, '\0')),
      raw("HTTP/9.9", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n"),
      raw("bare LF line ends", "GET /healthz HTTP/1.1\nHost: x\n\n"),
      MalformedCase{"unknown method", "FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 405,
                    "method_not_allowed"},
  };
  return cases;
}

TEST(HostileInputTest, MalformedRequestsGetTheApiErrorOrAClosedSocketAndChangeNothing) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  const std::vector<std::string> users = {"alice", "bob", "carol"};
  {
    HttpClient http(server->port());
    OpenFunded(http, "alice", 1000);
    OpenFunded(http, "bob", 0);
    OpenFunded(http, "carol", 50);
  }
  const LedgerState before = ReadState(server->port(), users);
  const std::vector<MalformedCase> cases = MalformedCases();
  for (const MalformedCase& test : cases) {
    SCOPED_TRACE(test.name);
    HttpClient client(server->port(), seconds(10));
    const absl::Status sent = client.SendRaw(test.request);
    if (!sent.ok() && !test.may_close) {
      ADD_FAILURE() << "could not send: " << sent;
      continue;
    }
    absl::StatusOr<HttpResponse> response = client.ReadResponse();
    if (test.status == 0) {
      // Closed unanswered: the read fails at once, not by the timeout.
      EXPECT_FALSE(response.ok()) << "answered " << response->status << " " << response->body;
      if (!response.ok()) {
        EXPECT_FALSE(absl::IsDeadlineExceeded(response.status())) << "the connection stayed open";
      }
      continue;
    }
    if (!response.ok() && test.may_close) continue;  // Reset while the body was still going.
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_TRUE(IsApiError(*response, test.status, test.code));
  }
  // Up, and nothing changed.
  const LedgerState after = ReadState(server->port(), users);
  EXPECT_EQ(after, before) << DebugString(before) << " -> " << DebugString(after);
  std::printf("%zu malformed requests refused; %s unchanged\n", cases.size(),
              DebugString(after).c_str());
}

TEST(HostileInputTest, SlowlorisConnectionsAreDroppedAfterTheReadTimeout) {
  auto server = MustStart({"--read-timeout", "1"});
  ASSERT_NE(server, nullptr);
  // Ten dribble their headers and ten their body, one byte per 100 ms each,
  // never finishing.
  constexpr int kHeaders = 10;
  constexpr int kBodies = 10;
  std::vector<std::unique_ptr<RawSocket>> sockets;
  std::vector<std::string> scripts;
  const std::string header_script =
      absl::StrCat("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ", std::string(200, 'p'));
  const std::string body_script =
      absl::StrCat("POST /sbd_tokens/send HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ",
                   MakeToken("alice"), "\r\nContent-Length: 300\r\n\r\n", std::string(300, ' '));
  for (int i = 0; i < kHeaders + kBodies; ++i) {
    sockets.push_back(std::make_unique<RawSocket>(server->port()));
    ASSERT_TRUE(sockets.back()->connected());
    std::string script = i < kHeaders ? header_script : body_script;
    if (i >= kHeaders) {
      // Headers at once, then the body byte by byte.
      const size_t head = script.find("\r\n\r\n") + 4;
      sockets.back()->Send(script.substr(0, head));
      script = script.substr(head);
    }
    scripts.push_back(script);
  }
  const auto start = Clock::now();
  std::vector<double> dropped_after_s(sockets.size(), -1);
  HttpClient healthy(server->port(), seconds(5));
  for (size_t step = 0; step < 100; ++step) {  // At most 10 s.
    bool all_dropped = true;
    for (size_t i = 0; i < sockets.size(); ++i) {
      if (dropped_after_s[i] >= 0) continue;
      if (step < scripts[i].size()) sockets[i]->Send(scripts[i].substr(step, 1));
      if (sockets[i]->PeerClosed()) {
        dropped_after_s[i] = std::chrono::duration<double>(Clock::now() - start).count();
      } else {
        all_dropped = false;
      }
    }
    if (step % 5 == 0) {
      // Meanwhile the server answers others at once.
      absl::StatusOr<HttpResponse> health = healthy.Get("/healthz");
      EXPECT_TRUE(health.ok() && health->status == 200) << "step " << step;
    }
    if (all_dropped) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  for (size_t i = 0; i < sockets.size(); ++i) {
    EXPECT_GE(dropped_after_s[i], 0.5) << "socket " << i << " dropped too early";
    EXPECT_LE(dropped_after_s[i], 4.0) << "socket " << i << " was not dropped in time";
    EXPECT_EQ(sockets[i]->received().find("200 OK"), std::string::npos) << "socket " << i;
  }
  absl::StatusOr<HttpResponse> health = HttpClient(server->port()).Get("/healthz");
  EXPECT_TRUE(health.ok() && health->status == 200);
}

TEST(HostileInputTest, ConnectionFloodIsShedAndIdleHoldersAreDropped) {
  constexpr int kConnectionsMax = 8;
  constexpr int kFlood = 60;
  auto server = MustStart({"--connections-max", std::to_string(kConnectionsMax), "--idle-timeout",
                           "2", "--read-timeout", "2"});
  ASSERT_NE(server, nullptr);
  // A client already connected keeps being served through the flood.
  HttpClient regular(server->port(), seconds(5));
  ASSERT_EQ(regular.Get("/healthz")->status, 200);
  std::vector<std::unique_ptr<RawSocket>> flood;
  for (int i = 0; i < kFlood; ++i) flood.push_back(std::make_unique<RawSocket>(server->port()));
  // Beyond the limit, connections are closed at once.
  std::this_thread::sleep_for(milliseconds(500));
  int closed_at_once = 0;
  for (auto& socket : flood) closed_at_once += socket->PeerClosed() ? 1 : 0;
  EXPECT_GE(closed_at_once, kFlood - (kConnectionsMax - 1));
  ASSERT_EQ(regular.Get("/healthz")->status, 200);
  // Those that got a slot but never send a request are dropped by the
  // timeouts, and new clients are served again.
  const auto deadline = Clock::now() + seconds(8);
  int open = kFlood;
  while (open > 0 && Clock::now() < deadline) {
    open = 0;
    for (auto& socket : flood) open += socket->PeerClosed() ? 0 : 1;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(open, 0) << "connections that never sent a request were not dropped";
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    HttpClient fresh(server->port(), seconds(2));
    absl::StatusOr<HttpResponse> health = fresh.Get("/healthz");
    served = health.ok() && health->status == 200;
    if (!served) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(served);
}

TEST(HostileInputTest, ForgedTokensAreRefusedOnHttpAndTheWebSocket) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  const std::vector<std::string> users = {"alice", "bob", "carol"};
  HttpClient http(server->port());
  OpenFunded(http, "alice", 1000);
  OpenFunded(http, "bob", 1000);
  OpenFunded(http, "carol", 1000);
  const int64_t now = NowSeconds();
  const std::string hs256 = R"({"alg":"HS256","typ":"JWT"})";
  const std::string bob_claims = absl::StrCat(R"({"sub":"bob","exp":)", now + 3600, "}");
  const std::string alice_token = MakeToken("alice");
  // Alice's signature on bob's claims.
  const std::string bob_forged_token = MakeRawToken(hs256, bob_claims, kTestSecret);
  const std::string spliced = absl::StrCat(bob_forged_token.substr(0, bob_forged_token.rfind('.')),
                                           alice_token.substr(alice_token.rfind('.')));
  struct ForgedCase {
    std::string name;
    std::string token;
  };
  const std::vector<ForgedCase> forged = {
      {"garbage", "garbage"},
      {"three garbage segments", "a.b.c"},
      {"four segments", MakeToken("bob") + ".x"},
      {"wrong key", MakeTokenWithSecret("another-secret-0123456789abcdef", "bob")},
      {"empty key", MakeRawToken(hs256, bob_claims, "")},
      {"expired", MakeToken("bob", false, -60)},
      {"alg none, no signature",
       MakeRawToken(R"({"alg":"none","typ":"JWT"})", bob_claims, "", /*sign=*/false)},
      {"alg none, signed", MakeRawToken(R"({"alg":"none","typ":"JWT"})", bob_claims, kTestSecret)},
      {"alg HS512", MakeRawToken(R"({"alg":"HS512","typ":"JWT"})", bob_claims, kTestSecret)},
      {"alg HS384", MakeRawToken(R"({"alg":"HS384","typ":"JWT"})", bob_claims, kTestSecret)},
      {"alg RS256", MakeRawToken(R"({"alg":"RS256","typ":"JWT"})", bob_claims, kTestSecret)},
      {"no alg", MakeRawToken(R"({"typ":"JWT"})", bob_claims, kTestSecret)},
      // RFC 7515: the alg name is case-sensitive (libjwt alone takes these).
      {"alg hs256", MakeRawToken(R"({"alg":"hs256","typ":"JWT"})", bob_claims, kTestSecret)},
      {"alg Hs256", MakeRawToken(R"({"alg":"Hs256","typ":"JWT"})", bob_claims, kTestSecret)},
      // RFC 7515 §4.1.11: we understand no extension, so any crit is refused.
      {"crit [exp]",
       MakeRawToken(R"({"alg":"HS256","typ":"JWT","crit":["exp"]})", bob_claims, kTestSecret)},
      {"crit []", MakeRawToken(R"({"alg":"HS256","crit":[]})", bob_claims, kTestSecret)},
      {"crit a string", MakeRawToken(R"({"alg":"HS256","crit":"exp"})", bob_claims, kTestSecret)},
      // RFC 7519 §4.1.5: not valid for another 10 minutes (the leeway is 30 s).
      {"nbf in 10 minutes",
       MakeRawToken(
           hs256, absl::StrCat(R"({"sub":"bob","exp":)", now + 3600, R"(,"nbf":)", now + 600, "}"),
           kTestSecret)},
      {"nbf a string",
       MakeRawToken(hs256, absl::StrCat(R"({"sub":"bob","exp":)", now + 3600, R"(,"nbf":"now"})"),
                    kTestSecret)},
      {"missing sub",
       MakeRawToken(hs256, absl::StrCat(R"({"exp":)", now + 3600, "}"), kTestSecret)},
      {"sub is a number",
       MakeRawToken(hs256, absl::StrCat(R"({"sub":5,"exp":)", now + 3600, "}"), kTestSecret)},
      {"missing exp", MakeRawToken(hs256, R"({"sub":"bob"})", kTestSecret)},
      {"exp is a string", MakeRawToken(hs256, R"({"sub":"bob","exp":"tomorrow"})", kTestSecret)},
      {"refresh token",
       MakeRawToken(hs256, absl::StrCat(R"({"sub":"bob","type":"refresh","exp":)", now + 3600, "}"),
                    kTestSecret)},
      {"bob's claims with alice's signature", spliced},
      {"forged admin",
       MakeTokenWithSecret("another-secret-0123456789abcdef", "root", /*admin=*/true)},
  };
  const LedgerState before = ReadState(server->port(), users);
  for (const ForgedCase& test : forged) {
    SCOPED_TRACE(test.name);
    absl::StatusOr<HttpResponse> balance = http.Get("/sbd_tokens", test.token);
    ASSERT_TRUE(balance.ok()) << balance.status();
    EXPECT_TRUE(IsApiError(*balance, 401, "unauthorized"));
    absl::StatusOr<HttpResponse> sent =
        http.Post("/sbd_tokens/send", R"({"to_user":"carol","amount":1})", test.token);
    ASSERT_TRUE(sent.ok()) << sent.status();
    EXPECT_TRUE(IsApiError(*sent, 401, "unauthorized"));
    absl::StatusOr<HttpResponse> minted =
        http.Post("/admin/mint", R"({"username":"carol","amount":1})", test.token);
    ASSERT_TRUE(minted.ok()) << minted.status();
    EXPECT_TRUE(IsApiError(*minted, 401, "unauthorized"));
    absl::StatusOr<int> handshake =
        WebSocketClient::HandshakeStatus(server->port(), "/ws?token=" + test.token + "&since=0");
    ASSERT_TRUE(handshake.ok()) << handshake.status();
    EXPECT_EQ(*handshake, 401);
  }
  EXPECT_EQ(ReadState(server->port(), users), before);

  // Alice's valid token never reaches bob's data, whatever the URL says.
  ASSERT_EQ(
      http.Post("/sbd_tokens/send", R"({"to_user":"bob","amount":7})", MakeToken("carol"))->status,
      200);
  // Two `token` parameters are ambiguous (whatever is in front of us may
  // have read the other one): 400 before any upgrade, whichever is good.
  for (const std::string& target :
       {absl::StrCat("/ws?token=", bob_forged_token.substr(0, 10), "x&token=", alice_token,
                     "&since=0"),
        absl::StrCat("/ws?token=", alice_token, "&token=", spliced, "&since=0"),
        absl::StrCat("/ws?token=", alice_token, "&token=", alice_token),
        absl::StrCat("/ws?token=", alice_token, "&tok%65n=", MakeToken("bob"))}) {
    SCOPED_TRACE(target);
    absl::StatusOr<std::unique_ptr<WebSocketClient>> ws =
        WebSocketClient::Connect(server->port(), target);
    ASSERT_FALSE(ws.ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(ws.status())) << ws.status();
    EXPECT_TRUE(absl::StrContains(ws.status().message(), "HTTP 400")) << ws.status();
    EXPECT_TRUE(
        absl::StrContains(ws.status().message(),
                          R"("code":"invalid_field","detail":"more than one token parameter")"))
        << ws.status();
  }
  {
    const std::string target =
        absl::StrCat("/ws?token=", alice_token, "&since=0&username=bob&user=bob&sub=bob");
    SCOPED_TRACE(target);
    absl::StatusOr<std::unique_ptr<WebSocketClient>> ws =
        WebSocketClient::Connect(server->port(), target);
    ASSERT_TRUE(ws.ok()) << ws.status();
    absl::StatusOr<json::value> connected = (*ws)->ReadJson(seconds(10));
    ASSERT_TRUE(connected.ok()) << connected.status();
    EXPECT_EQ(connected->at("data").at("username"), "alice") << json::serialize(*connected);
    // Alice took part in none of the transfers: the since=0 replay has only
    // her mint, and carol -> bob reaches her not at all.
    absl::StatusOr<json::value> mint = (*ws)->ReadJson(seconds(10));
    ASSERT_TRUE(mint.ok()) << mint.status();
    EXPECT_EQ(mint->at("type"), "sbd_tokens_credited");
    absl::StatusOr<std::string> more = (*ws)->Read(milliseconds(300));
    EXPECT_TRUE(absl::IsDeadlineExceeded(more.status())) << (more.ok() ? *more : "");
  }
}

// Two Authorization headers: a proxy in front may have checked or logged the
// other one, so the server picks neither (400 invalid_field) and nothing is
// applied, whichever of them is good.
TEST(HostileInputTest, TwoAuthorizationHeadersAreRefusedWith400) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  const std::vector<std::string> users = {"alice", "bob"};
  HttpClient http(server->port());
  OpenFunded(http, "alice", 1000);
  OpenFunded(http, "bob", 1000);
  const std::string alice = MakeToken("alice");
  const std::string bob = MakeToken("bob");
  const std::string forged = MakeTokenWithSecret("another-secret-0123456789abcdef", "bob");
  struct TwoHeaderCase {
    std::string name;
    std::string request;
  };
  const std::string send = R"({"to_user":"bob","amount":5})";
  const std::vector<TwoHeaderCase> cases = {
      {"two good tokens on GET", RawRequest("GET", "/sbd_tokens", "", alice, "",
                                            absl::StrCat("Authorization: Bearer ", bob, "\r\n"))},
      {"a good and a forged token on a send",
       RawRequest("POST", "/sbd_tokens/send", send, alice, "application/json",
                  absl::StrCat("Authorization: Bearer ", forged, "\r\n"))},
      {"a forged and a good token on a send",
       RawRequest("POST", "/sbd_tokens/send", send, forged, "application/json",
                  absl::StrCat("Authorization: Bearer ", alice, "\r\n"))},
      {"the same token twice, other spellings of the name",
       RawRequest("POST", "/sbd_tokens/send", send, "", "application/json",
                  absl::StrCat("authorization: Bearer ", alice, "\r\nAUTHORIZATION: Bearer ", alice,
                               "\r\n"))},
      {"two admin tokens on a mint",
       RawRequest("POST", "/admin/mint", R"({"username":"bob","amount":5})", Admin(),
                  "application/json", absl::StrCat("Authorization: Bearer ", Admin(), "\r\n"))},
      {"a Bearer and a Basic",
       RawRequest("GET", "/sbd_tokens", "", alice, "", "Authorization: Basic YWxpY2U6eA==\r\n")},
  };
  const LedgerState before = ReadState(server->port(), users);
  for (const TwoHeaderCase& test : cases) {
    SCOPED_TRACE(test.name);
    HttpClient raw(server->port());
    ASSERT_TRUE(raw.SendRaw(test.request).ok());
    absl::StatusOr<HttpResponse> response = raw.ReadResponse();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_TRUE(IsApiError(*response, 400, "invalid_field"));
    EXPECT_TRUE(
        absl::StrContains(response->body, R"("detail":"more than one Authorization header")"))
        << response->body;
  }
  EXPECT_EQ(ReadState(server->port(), users), before);
  // One header, as before: served.
  absl::StatusOr<HttpResponse> one = http.Post("/sbd_tokens/send", send, alice);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->status, 200) << one->body;
}

// A claims object the size of the origin app's tokens with many tenants.
std::string TenantMemberships(size_t count) {
  std::string list;
  for (size_t i = 0; i < count; ++i) {
    absl::StrAppend(&list, i == 0 ? "" : ",", R"({"tenant_id":"tenant-)", 100000 + i,
                    R"(","role":"member","permissions":["read","send"]})");
  }
  return absl::StrCat("[", list, "]");
}

// A valid token for `user` of at least `bytes_min` bytes, grown by its
// tenant_memberships array like the origin app's.
std::string LargeToken(const std::string& user, size_t bytes_min) {
  const int64_t now = NowSeconds();
  std::string token;
  for (size_t count = 1; token.size() < bytes_min; ++count) {
    token = MakeRawToken(
        R"({"alg":"HS256","typ":"JWT"})",
        absl::StrCat(R"({"sub":")", user, R"(","exp":)", now + 3600, R"(,"iat":)", now,
                     R"(,"type":"access","tenant_memberships":)", TenantMemberships(count), "}"),
        kTestSecret);
  }
  return token;
}

// GET /sbd_tokens with `token` answers 200 for `user`, and /ws with it
// connects as `user`.
void ExpectServedOnHttpAndTheWebSocket(uint16_t port, const std::string& token,
                                       const std::string& user) {
  HttpClient http(port);
  absl::StatusOr<HttpResponse> balance = http.Get("/sbd_tokens", token);
  ASSERT_TRUE(balance.ok()) << balance.status();
  ASSERT_EQ(balance->status, 200) << balance->body;
  EXPECT_EQ(balance->Json().at("username"), json::string(user));
  absl::StatusOr<std::unique_ptr<WebSocketClient>> ws =
      WebSocketClient::Connect(port, "/ws?token=" + token);
  ASSERT_TRUE(ws.ok()) << ws.status();
  absl::StatusOr<json::value> connected = (*ws)->ReadJson(seconds(10));
  ASSERT_TRUE(connected.ok()) << connected.status();
  EXPECT_EQ(connected->at("type"), "connected");
  EXPECT_EQ(connected->at("data").at("username"), json::string(user));
}

// The other side of the token rules: what must still be served. An nbf
// within the leeway (the issuer's clock ahead of ours) or in the past, and a
// token of any size that fits the request header limit: the origin app's
// tokens grow with tenant_memberships (a 6.8 KB one was refused as "token too
// long" by a 4 KiB cap of our own).
TEST(HostileInputTest, TokensThatAreValidAreServedWhateverTheirSize) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  HttpClient http(server->port());
  OpenFunded(http, "alice", 10);
  const int64_t now = NowSeconds();
  const std::string hs256 = R"({"alg":"HS256","typ":"JWT"})";
  for (int64_t nbf : {now + 5, now, now - 3600}) {
    SCOPED_TRACE(nbf - now);
    ExpectServedOnHttpAndTheWebSocket(
        server->port(),
        MakeRawToken(hs256,
                     absl::StrCat(R"({"sub":"alice","exp":)", now + 3600, R"(,"nbf":)", nbf, "}"),
                     kTestSecret),
        "alice");
  }

  const std::string large = LargeToken("alice", 6800);
  ASSERT_LT(large.size(), 7000u);
  {
    SCOPED_TRACE(absl::StrCat("token of ", large.size(), " bytes"));
    ExpectServedOnHttpAndTheWebSocket(server->port(), large, "alice");
  }

  // Over the default 8 KiB header limit: 431, on HTTP and at the handshake
  // (the /ws token is in the request line, which counts toward the limit).
  const std::string too_large = LargeToken("alice", 9000);
  absl::StatusOr<HttpResponse> refused = HttpClient(server->port()).Get("/sbd_tokens", too_large);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_TRUE(IsApiError(*refused, 431, "payload_too_large"));
  absl::StatusOr<int> handshake =
      WebSocketClient::HandshakeStatus(server->port(), "/ws?token=" + too_large);
  ASSERT_TRUE(handshake.ok()) << handshake.status();
  EXPECT_EQ(*handshake, 431);

  // With a higher --header-limit the same token is served: the limit is the
  // only bound on a token's size.
  auto roomy = MustStart({"--header-limit", "32768"});
  ASSERT_NE(roomy, nullptr);
  HttpClient roomy_http(roomy->port());
  OpenFunded(roomy_http, "alice", 10);
  const std::string twenty_kb = LargeToken("alice", 20000);
  ExpectServedOnHttpAndTheWebSocket(roomy->port(), too_large, "alice");
  ExpectServedOnHttpAndTheWebSocket(roomy->port(), twenty_kb, "alice");
}

TEST(HostileInputTest, RateLimitedSenderGets429WhileOthersAreUnaffected) {
  constexpr int kRate = 20;  // Sends per second per user; burst 2N.
  auto server = MustStart({"--rate-limit", std::to_string(kRate)});
  ASSERT_NE(server, nullptr);
  {
    HttpClient http(server->port());
    OpenFunded(http, "alice", 100000);
    OpenFunded(http, "bob", 100000);
    OpenFunded(http, "carol", 0);
  }
  // Bob's and carol's part lasts `duration`; alice floods at least that long,
  // and on until the limit has refused her (a loaded machine may answer too
  // slowly for her to drain her burst in 2 s), bounded by kFloodMax.
  const auto duration = seconds(2);
  constexpr auto kFloodMax = seconds(30);
  std::atomic<int> alice_ok{0};
  std::atomic<int> alice_limited{0};
  std::atomic<int> alice_other{0};
  std::atomic<int> bob_ok{0};
  std::atomic<int> bob_other{0};
  std::atomic<int> reads_ok{0};
  std::atomic<int> reads_other{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  // Alice floods from two connections.
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      HttpClient http(server->port());
      while (Clock::now() - start < duration ||
             (alice_limited.load() == 0 && Clock::now() - start < kFloodMax)) {
        absl::StatusOr<HttpResponse> response =
            http.Post("/sbd_tokens/send", R"({"to_user":"carol","amount":1})", MakeToken("alice"));
        if (response.ok() && response->status == 200) {
          alice_ok++;
        } else if (response.ok() && IsApiError(*response, 429, "rate_limited") &&
                   !response->Header("retry-after").empty() &&
                   std::stoi(response->Header("retry-after")) >= 1) {
          alice_limited++;
        } else {
          alice_other++;
        }
      }
    });
  }
  // Bob sends a fixed number at half the rate (a count, not a duration: on a
  // loaded machine fewer rounds fit in the time), carol reads as fast as she
  // likes.
  constexpr int kBobSends = 10;
  threads.emplace_back([&] {
    HttpClient http(server->port());
    for (int i = 0; i < kBobSends; ++i) {
      absl::StatusOr<HttpResponse> response =
          http.Post("/sbd_tokens/send", R"({"to_user":"carol","amount":1})", MakeToken("bob"));
      (response.ok() && response->status == 200 ? bob_ok : bob_other)++;
      std::this_thread::sleep_for(milliseconds(1000 / (kRate / 2)));
    }
  });
  threads.emplace_back([&] {
    HttpClient http(server->port());
    while (Clock::now() - start < duration) {
      absl::StatusOr<HttpResponse> response = http.Get("/sbd_tokens", MakeToken("carol"));
      (response.ok() && response->status == 200 ? reads_ok : reads_other)++;
    }
  });
  for (std::thread& thread : threads) thread.join();
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(alice_other.load(), 0);
  EXPECT_GT(alice_limited.load(), 0);
  EXPECT_GE(alice_ok.load(), kRate);  // At least the burst.
  EXPECT_LE(alice_ok.load(), 2 * kRate + kRate * elapsed_s + 2) << "the limit let too many through";
  EXPECT_EQ(bob_other.load(), 0) << "bob, under the limit, was refused";
  EXPECT_EQ(bob_ok.load(), kBobSends);
  EXPECT_EQ(reads_other.load(), 0);
  EXPECT_GT(reads_ok.load(), 0);
  // Exactly the accepted sends moved money.
  const LedgerState state = ReadState(server->port(), {"alice", "bob", "carol"});
  EXPECT_EQ(state.balances.at("alice"), 100000 - alice_ok.load());
  EXPECT_EQ(state.balances.at("bob"), 100000 - bob_ok.load());
  EXPECT_EQ(state.balances.at("carol"), alice_ok.load() + bob_ok.load());
  std::printf("rate limit %d/s: alice %d accepted, %d refused with 429; bob %d accepted\n", kRate,
              alice_ok.load(), alice_limited.load(), bob_ok.load());
}

}  // namespace
}  // namespace sbd::testing

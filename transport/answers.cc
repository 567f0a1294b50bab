#include "transport/answers.h"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <cassert>
#include <utility>

#include "transport/http_status.h"
#include "transport/json_object_writer.h"

namespace sbd {
namespace {

namespace http = boost::beast::http;

// API.md fixes this detail, whatever the ledger's message says.
constexpr std::string_view kInsufficientFundsDetail = "Insufficient sbd_tokens";

HttpResponse JsonAnswer(JsonObjectWriter& body, http::status status = http::status::ok) {
  return MakeResponse(status, kJsonContentType, body.Finish());
}

// One entry of the history, as `account` sees the event.
void WriteHistoryEntry(const Event& event, std::string_view account, JsonObjectWriter& out) {
  out.BeginElement();
  int64_t new_balance = event.to_balance;
  if (event.type == EventType::kTokensMinted) {
    out.String("type", "mint").String("from", event.actor);
  } else if (event.from_account == account) {
    out.String("type", "send").String("to", event.to_account);
    new_balance = event.from_balance;
  } else {
    out.String("type", "receive").String("from", event.from_account);
  }
  out.Number("amount", event.amount)
      .Number("new_balance", new_balance)
      .String("transaction_id", event.transaction_id)
      .Number("seq", event.seq)
      .String("timestamp", FormatTimestamp(event.timestamp_ms));
  if (!event.note.empty()) out.String("note", event.note);
  out.EndObject();
}

}  // namespace

HttpResponse MakeResponse(http::status status, std::string_view content_type, std::string body) {
  HttpResponse response;
  response.result(status);
  if (!content_type.empty()) response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  return response;
}

HttpResponse ErrorAnswer(ErrorCode code, std::string_view detail, int64_t retry_after_s) {
  if (code == ErrorCode::kInsufficientFunds) detail = kInsufficientFundsDetail;
  JsonObjectWriter body;
  body.String("status", "error").String("code", ErrorCodeName(code)).String("detail", detail);
  HttpResponse response = JsonAnswer(body, HttpStatusOf(code));
  if (code == ErrorCode::kUnavailable || code == ErrorCode::kRateLimited) {
    response.set(http::field::retry_after, std::to_string(std::max<int64_t>(1, retry_after_s)));
  }
  // RFC 6750 §3: a 401 names the scheme the client should authenticate with.
  if (code == ErrorCode::kUnauthorized) response.set(http::field::www_authenticate, "Bearer");
  return response;
}

HttpResponse InternalErrorAnswer(const absl::Status& status) {
  assert(!status.ok() && "an internal error needs a failed status");
  JsonObjectWriter body;
  body.String("status", "error")
      .String("code", "internal_error")
      .String("detail", status.ToString());
  return JsonAnswer(body, http::status::internal_server_error);
}

HttpResponse BalanceAnswer(std::string_view account, int64_t balance) {
  JsonObjectWriter body;
  body.String("username", account).Number("sbd_tokens", balance);
  return JsonAnswer(body);
}

HttpResponse HistoryAnswer(std::string_view account, absl::Span<const Event> history) {
  JsonObjectWriter body;
  body.String("username", account).BeginArray("transactions");
  for (const Event& event : history) WriteHistoryEntry(event, account, body);
  body.EndArray();
  return JsonAnswer(body);
}

HttpResponse TransferAnswer(const CommandResult& result) {
  const Event& event = result.event;
  JsonObjectWriter body;
  body.String("status", "success")
      .String("from_user", event.from_account)
      .String("to_user", event.to_account)
      .Number("amount", event.amount)
      .String("transaction_id", event.transaction_id)
      .Number("new_balance", event.from_balance)
      .Number("seq", event.seq)
      .String("timestamp", FormatTimestamp(event.timestamp_ms));
  if (result.duplicate) body.Bool("duplicate", true);
  return JsonAnswer(body);
}

HttpResponse MintAnswer(const CommandResult& result) {
  const Event& event = result.event;
  JsonObjectWriter body;
  body.String("status", "success")
      .String("username", event.to_account)
      .Number("amount", event.amount)
      .Number("new_balance", event.to_balance)
      .String("transaction_id", event.transaction_id)
      .Number("seq", event.seq)
      .String("timestamp", FormatTimestamp(event.timestamp_ms));
  if (result.duplicate) body.Bool("duplicate", true);
  return JsonAnswer(body);
}

HttpResponse NoteAnswer(const CommandResult& result) {
  JsonObjectWriter body;
  body.String("status", "success")
      .String("transaction_id", result.event.transaction_id)
      .String("note", result.event.note);
  return JsonAnswer(body);
}

HttpResponse AccountOpenedAnswer(const CommandResult& result) {
  JsonObjectWriter body;
  body.String("username", result.event.to_account).Number("sbd_tokens", result.event.to_balance);
  return JsonAnswer(body, http::status::created);
}

HttpResponse HealthAnswer(int64_t last_seq, const ClusterView* cluster) {
  JsonObjectWriter body;
  body.String("status", "ok").Number("seq", last_seq);
  if (cluster != nullptr) {
    body.String("role", cluster->writer() ? "writer" : "follower")
        .String("node", cluster->node_id());
  }
  return JsonAnswer(body);
}

HttpResponse GatewayHealthAnswer(const GatewayView& gateway, bool serving) {
  JsonObjectWriter body;
  body.String("status", serving ? "ok" : "unavailable")
      .Number("seq", gateway.applied_seq())
      .String("role", "gateway")
      .String("node", gateway.node_id())
      .Number("lag", gateway.stream_lag())
      .Bool("following", gateway.following());
  return JsonAnswer(body, serving ? http::status::ok : http::status::service_unavailable);
}

}  // namespace sbd

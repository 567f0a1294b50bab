#include "tools/sbd-replay/replay_report.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/strings/str_format.h"
#include "engine/absl_compat.h"
#include "transport/messages.h"

namespace sbd {
namespace {

// A statement line as the three formats print it.
struct StatementEntry {
  std::string_view type;  // open, mint, send, receive, note.
  std::string_view counterparty;
  int64_t amount = 0;
};

std::optional<StatementEntry> EntryFor(const Event& event, std::string_view account) {
  switch (event.type) {
    case EventType::kAccountOpened:
      if (event.to_account == account) return StatementEntry{"open", event.actor, 0};
      break;
    case EventType::kTokensMinted:
      if (event.to_account == account) return StatementEntry{"mint", event.actor, event.amount};
      break;
    case EventType::kTokensTransferred:
      if (event.from_account == account) {
        return StatementEntry{"send", event.to_account, event.amount};
      }
      if (event.to_account == account) {
        return StatementEntry{"receive", event.from_account, event.amount};
      }
      break;
    case EventType::kTransactionNoteSet:
      if (event.actor == account) return StatementEntry{"note", "", 0};
      break;
  }
  return std::nullopt;
}

std::string Json(std::string_view text) {
  return boost::json::serialize(boost::json::string(text));
}

// RFC 4180: quoted when it holds a separator, a quote or a line break.
std::string Csv(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

// Totals are 128-bit; JSON gets a number while it fits int64 (always, short of
// a million accounts at the cap), else the decimal digits as a string.
boost::json::value JsonTotal(absl::int128 total) {
  if (total >= std::numeric_limits<int64_t>::min() &&
      total <= std::numeric_limits<int64_t>::max()) {
    return static_cast<int64_t>(total);
  }
  std::ostringstream digits;
  digits << total;
  return boost::json::string(digits.str());
}

std::string Text(absl::int128 value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

std::vector<std::pair<std::string, int64_t>> SortedBalances(const Projector& projection) {
  std::vector<std::pair<std::string, int64_t>> balances;
  balances.reserve(projection.account_count());
  projection.ForEachAccount([&](std::string_view account, int64_t balance) {
    balances.emplace_back(std::string(account), balance);
  });
  std::sort(balances.begin(), balances.end());
  return balances;
}

}  // namespace

ReplayReport::ReplayReport(const ReplayOptions& options, std::ostream& out)
    : options_(options),
      out_(out),
      shape_(options.notifications     ? Shape::kNotifications
             : options.account.empty() ? Shape::kSummary
                                       : Shape::kStatement) {}

void ReplayReport::Begin() {
  if (shape_ != Shape::kStatement) return;
  switch (options_.format) {
    case ReplayFormat::kTable:
      out_ << absl::StrFormat("%-10s %-24s %-8s %-20s %17s %17s  %s\n", "seq", "timestamp", "type",
                              "counterparty", "amount", "balance", "transaction_id  note");
      break;
    case ReplayFormat::kJson:
      out_ << "{\"account\":" << Json(options_.account) << ",\"entries\":[";
      break;
    case ReplayFormat::kCsv:
      out_ << "seq,timestamp,type,counterparty,amount,balance,transaction_id,note\r\n";
      break;
  }
}

void ReplayReport::OnEvent(const Event& event, const Projector& projection) {
  switch (shape_) {
    case Shape::kSummary:
      break;
    case Shape::kStatement:
      WriteStatementEntry(event, projection);
      break;
    case Shape::kNotifications:
      // The sender's message, then the receiver's; a mint has the holder's only.
      if (event.type == EventType::kTokensTransferred) WriteNotification(event, event.from_account);
      WriteNotification(event, event.to_account);
      break;
  }
}

void ReplayReport::WriteNotification(const Event& event, const std::string& account) {
  if (!options_.account.empty() && account != options_.account) return;
  std::optional<std::string> message = EncodeNotification(event, account);
  if (!message.has_value()) return;
  // The message is copied verbatim: these are the exact bytes the socket sent.
  out_ << "{\"to\":" << Json(account) << ",\"message\":" << *message << "}\n";
}

void ReplayReport::WriteStatementEntry(const Event& event, const Projector& projection) {
  const std::optional<StatementEntry> entry = EntryFor(event, options_.account);
  if (!entry.has_value()) return;
  const int64_t balance = projection.Balance(options_.account).value_or(0);
  const std::string timestamp = FormatTimestamp(event.timestamp_ms);
  switch (options_.format) {
    case ReplayFormat::kTable:
      out_ << absl::StrFormat("%-10d %-24s %-8s %-20s %17d %17d  %s  %s\n", event.seq, timestamp,
                              ToAbsl(entry->type), ToAbsl(entry->counterparty), entry->amount,
                              balance, event.transaction_id, event.note);
      break;
    case ReplayFormat::kJson: {
      boost::json::object line;
      line["seq"] = event.seq;
      line["timestamp"] = timestamp;
      line["type"] = entry->type;
      line["counterparty"] = entry->counterparty;
      line["amount"] = entry->amount;
      line["balance"] = balance;
      line["transaction_id"] = event.transaction_id;
      line["note"] = event.note;
      out_ << (first_entry_ ? "" : ",") << boost::json::serialize(line);
      first_entry_ = false;
      break;
    }
    case ReplayFormat::kCsv:
      out_ << event.seq << ',' << timestamp << ',' << entry->type << ',' << Csv(entry->counterparty)
           << ',' << entry->amount << ',' << balance << ',' << Csv(event.transaction_id) << ','
           << Csv(event.note) << "\r\n";
      break;
  }
}

void ReplayReport::Finish(const AuditResult& result, const Projector& projection) {
  switch (shape_) {
    case Shape::kSummary:
      FinishSummary(result, projection);
      break;
    case Shape::kStatement:
      FinishStatement(result, projection);
      break;
    case Shape::kNotifications:
      if (result.violation.has_value()) {
        boost::json::object violation;
        violation["seq"] = result.violation->seq;
        violation["detail"] = result.violation->detail;
        boost::json::object line;
        line["violation"] = std::move(violation);
        out_ << boost::json::serialize(line) << "\n";
      }
      break;
  }
}

void ReplayReport::FinishSummary(const AuditResult& result, const Projector& projection) {
  const std::vector<std::pair<std::string, int64_t>> balances = SortedBalances(projection);
  const std::optional<Violation>& violation = result.violation;
  switch (options_.format) {
    case ReplayFormat::kTable: {
      out_ << absl::StrFormat("%-15s %s\n", "log", options_.db_path);
      out_ << absl::StrFormat("%-15s %d\n", "events verified", result.events_verified);
      if (!result.last_hash.empty()) {
        out_ << absl::StrFormat("%-15s %s\n", "last hash", result.last_hash);
      }
      if (violation.has_value()) {
        out_ << absl::StrFormat("%-15s VIOLATION at seq %d: %s\n", "status", violation->seq,
                                violation->detail);
      } else {
        out_ << absl::StrFormat("%-15s %s\n", "status", "ok");
      }
      out_ << absl::StrFormat("%-15s %d\n", "accounts", projection.account_count());
      out_ << absl::StrFormat("%-15s %s\n", "total minted", Text(projection.total_minted()));
      out_ << absl::StrFormat("%-15s %s\n", "total balance", Text(projection.total_balance()));
      out_ << absl::StrFormat("\n%-32s %17s\n", "account", "balance");
      for (const auto& [account, balance] : balances) {
        out_ << absl::StrFormat("%-32s %17d\n", account, balance);
      }
      break;
    }
    case ReplayFormat::kJson: {
      boost::json::object summary;
      summary["db"] = options_.db_path;
      summary["status"] = violation.has_value() ? "violation" : "ok";
      summary["events_verified"] = result.events_verified;
      summary["last_hash"] = result.last_hash;
      summary["accounts"] = projection.account_count();
      summary["total_minted"] = JsonTotal(projection.total_minted());
      summary["total_balance"] = JsonTotal(projection.total_balance());
      boost::json::object balance_by_account;
      for (const auto& [account, balance] : balances) balance_by_account[account] = balance;
      summary["balances"] = std::move(balance_by_account);
      if (violation.has_value()) {
        boost::json::object detail;
        detail["seq"] = violation->seq;
        detail["detail"] = violation->detail;
        summary["violation"] = std::move(detail);
      }
      out_ << boost::json::serialize(summary) << "\n";
      break;
    }
    case ReplayFormat::kCsv: {
      // One table, long form: a row per fact, so a violation fits in it too.
      out_ << "kind,name,value\r\n";
      out_ << "summary,status," << (violation.has_value() ? "violation" : "ok") << "\r\n";
      if (violation.has_value()) {
        out_ << "violation," << violation->seq << ',' << Csv(violation->detail) << "\r\n";
      }
      out_ << "summary,events_verified," << result.events_verified << "\r\n";
      out_ << "summary,last_hash," << result.last_hash << "\r\n";
      out_ << "summary,accounts," << projection.account_count() << "\r\n";
      out_ << "summary,total_minted," << Text(projection.total_minted()) << "\r\n";
      out_ << "summary,total_balance," << Text(projection.total_balance()) << "\r\n";
      for (const auto& [account, balance] : balances) {
        out_ << "balance," << Csv(account) << ',' << balance << "\r\n";
      }
      break;
    }
  }
}

void ReplayReport::FinishStatement(const AuditResult& result, const Projector& projection) {
  const std::optional<int64_t> balance = projection.Balance(options_.account);
  const std::optional<Violation>& violation = result.violation;
  switch (options_.format) {
    case ReplayFormat::kTable:
      out_ << absl::StrFormat("\n%s: balance %s after seq %d\n", options_.account,
                              balance.has_value() ? std::to_string(*balance) : "none",
                              result.events_verified);
      if (violation.has_value()) {
        out_ << absl::StrFormat("status: VIOLATION at seq %d: %s\n", violation->seq,
                                violation->detail);
      } else {
        out_ << "status: ok\n";
      }
      break;
    case ReplayFormat::kJson: {
      out_ << "],\"events_verified\":" << result.events_verified
           << ",\"balance\":" << (balance.has_value() ? std::to_string(*balance) : "null")
           << ",\"status\":" << (violation.has_value() ? "\"violation\"" : "\"ok\"");
      if (violation.has_value()) {
        boost::json::object detail;
        detail["seq"] = violation->seq;
        detail["detail"] = violation->detail;
        out_ << ",\"violation\":" << boost::json::serialize(detail);
      }
      out_ << "}\n";
      break;
    }
    case ReplayFormat::kCsv:
      // The row of the bad seq, typed "violation", with the detail as its note.
      if (violation.has_value()) {
        out_ << violation->seq << ",,violation,,,,," << Csv(violation->detail) << "\r\n";
      }
      break;
  }
}

}  // namespace sbd

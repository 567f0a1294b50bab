#include "tools/sbd-ledger/import/origin_export.h"

#include <simdjson.h>

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/absl_compat.h"
#include "engine/event.h"
#include "engine/validation.h"
#include "tools/sbd-ledger/import/export_documents.h"
#include "tools/sbd-ledger/import/extended_json.h"

namespace sbd {
namespace {

namespace dom = simdjson::dom;

constexpr int64_t kMicrosPerMilli = 1000;

// Names the field a reason is about: "username", or inside an entry
// "sbd_tokens_transactions[3].amount". Spelled out only for an error, so
// that a valid document costs no string building.
struct FieldName {
  std::string_view key;         // Empty: the entry itself.
  std::optional<size_t> entry;  // Set: a field of sbd_tokens_transactions[entry].

  std::string Text() const {
    if (!entry) return std::string(key);
    return absl::StrCat("sbd_tokens_transactions[", *entry, "]", key.empty() ? "" : ".",
                        ToAbsl(key));
  }
};

absl::Status Invalid(const FieldName& field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field.Text(), ": ", ToAbsl(what)));
}

// What a value is, for a reason that says what was found instead.
std::string Describe(dom::element value) {
  switch (value.type()) {
    case dom::element_type::ARRAY:
      return "an array";
    case dom::element_type::OBJECT:
      return "an object";
    case dom::element_type::INT64:
      return absl::StrCat(int64_t(value));
    case dom::element_type::UINT64:
      return absl::StrCat(uint64_t(value));
    case dom::element_type::DOUBLE:
      return absl::StrCat("the non-integer number ", double(value));
    case dom::element_type::STRING:
      return absl::StrCat("the string ", QuoteForReason(std::string_view(value)));
    case dom::element_type::BOOL:
      return bool(value) ? "true" : "false";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown value";
}

// The one field of an Extended JSON wrapper object ({"$numberLong": …}),
// if `value` is an object with exactly that one key.
std::optional<dom::element> Wrapped(dom::element value, std::string_view key) {
  dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS || object.size() != 1) {
    return std::nullopt;
  }
  const dom::key_value_pair field = *object.begin();
  if (field.key != key) return std::nullopt;
  return field.value;
}

// A JSON integer, {"$numberInt": "n"} or {"$numberLong": "n"}.
std::optional<int64_t> IntegerOf(dom::element value) {
  if (value.type() == dom::element_type::INT64) return int64_t(value);
  for (std::string_view key : {"$numberInt", "$numberLong"}) {
    if (std::optional<dom::element> digits = Wrapped(value, key)) {
      std::string_view text;
      if (digits->get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      return ParseDecimalInt64(text);
    }
  }
  return std::nullopt;
}

absl::StatusOr<int64_t> IntegerField(const FieldName& field, dom::element value, int64_t min,
                                     int64_t max) {
  std::optional<int64_t> integer = IntegerOf(value);
  if (!integer || *integer < min || *integer > max) {
    return Invalid(field, absl::StrCat("must be an integer from ", min, " to ", max, ", not ",
                                       Describe(value)));
  }
  return *integer;
}

absl::StatusOr<int64_t> MillisToMicros(const FieldName& field, int64_t ms) {
  if (ms < kTimestampMsMin || ms > kTimestampMsMax) {
    return Invalid(field, absl::StrCat("$date ", ms, " ms is outside the years 1970 to 9999"));
  }
  return ms * kMicrosPerMilli;
}

absl::StatusOr<int64_t> IsoField(const FieldName& field, std::string_view text) {
  absl::StatusOr<int64_t> us = ParseIsoTimestampUs(text);
  if (!us.ok()) return Invalid(field, ToStd(us.status().message()));
  return us;
}

// An ISO 8601 string, or {"$date": ISO string | {"$numberLong": ms} | ms}.
absl::StatusOr<int64_t> TimestampField(const FieldName& field, dom::element value) {
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) return IsoField(field, text);
  if (std::optional<dom::element> date = Wrapped(value, "$date")) {
    if (date->get_string().get(text) == simdjson::SUCCESS) return IsoField(field, text);
    if (std::optional<int64_t> ms = IntegerOf(*date)) return MillisToMicros(field, *ms);
  }
  return Invalid(
      field, absl::StrCat("must be an ISO 8601 string or {\"$date\": …}, not ", Describe(value)));
}

absl::StatusOr<std::string_view> StringField(const FieldName& field, dom::element value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return Invalid(field, absl::StrCat("must be a string, not ", Describe(value)));
  }
  return text;
}

absl::StatusOr<std::string> UsernameField(const FieldName& field, dom::element value) {
  absl::StatusOr<std::string_view> text = StringField(field, value);
  if (!text.ok()) return text.status();
  std::string name(*text);
  if (absl::Status status = CanonicalizeUsername(name); !status.ok()) {
    return Invalid(field,
                   absl::StrCat(QuoteForReason(*text), " is not a username: ", status.message()));
  }
  return name;
}

// The fields an entry or a document is read from: each found once, by
// walking the object's fields (a key given twice is an error, not a silent
// pick of one of them).
template <size_t N>
absl::Status FindFields(dom::object object, std::optional<size_t> entry,
                        const std::array<std::string_view, N>& keys,
                        std::array<std::optional<dom::element>, N>& found) {
  for (const dom::key_value_pair field : object) {
    for (size_t i = 0; i < N; ++i) {
      if (field.key != keys[i]) continue;
      if (found[i]) return Invalid(FieldName{keys[i], entry}, "the field appears twice");
      found[i] = field.value;
    }
  }
  return absl::OkStatus();
}

bool IsAbsent(const std::optional<dom::element>& value) {
  return !value || value->type() == dom::element_type::NULL_VALUE;
}

absl::StatusOr<OriginEntry> ParseEntry(dom::element value, const std::string& username,
                                       size_t index) {
  dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return Invalid(FieldName{"", index}, absl::StrCat("must be an object, not ", Describe(value)));
  }
  enum { kType, kTo, kFrom, kAmount, kTimestamp, kTransactionId, kNote, kFieldCount };
  static constexpr std::array<std::string_view, kFieldCount> kKeys = {
      "type", "to", "from", "amount", "timestamp", "transaction_id", "note"};
  std::array<std::optional<dom::element>, kFieldCount> found;
  if (absl::Status status = FindFields(object, index, kKeys, found); !status.ok()) return status;
  auto field = [&](int key) { return FieldName{kKeys[key], index}; };

  OriginEntry entry;
  entry.index = index;
  if (!found[kType]) return Invalid(field(kType), "missing");
  absl::StatusOr<std::string_view> type = StringField(field(kType), *found[kType]);
  if (!type.ok()) return type.status();
  if (*type != "send" && *type != "receive") {
    return Invalid(field(kType),
                   absl::StrCat("must be \"send\" or \"receive\", not ", QuoteForReason(*type)));
  }
  entry.type = *type == "send" ? EntryType::kSend : EntryType::kReceive;
  const int party = entry.type == EntryType::kSend ? kTo : kFrom;
  if (!found[party]) {
    return Invalid(field(party), absl::StrCat("missing (a ", ToAbsl(*type), " names it)"));
  }
  absl::StatusOr<std::string> counterparty = UsernameField(field(party), *found[party]);
  if (!counterparty.ok()) return counterparty.status();
  if (*counterparty == username) {
    return Invalid(field(party),
                   "the user itself: the ledger has no transfers to oneself (API.md "
                   "self_transfer); remove this entry and its other half");
  }
  entry.counterparty = *std::move(counterparty);

  if (!found[kAmount]) return Invalid(field(kAmount), "missing");
  absl::StatusOr<int64_t> amount = IntegerField(field(kAmount), *found[kAmount], 1, kAmountMax);
  if (!amount.ok()) return amount.status();
  entry.amount = *amount;

  if (!found[kTimestamp]) return Invalid(field(kTimestamp), "missing");
  absl::StatusOr<int64_t> timestamp = TimestampField(field(kTimestamp), *found[kTimestamp]);
  if (!timestamp.ok()) return timestamp.status();
  entry.timestamp_us = *timestamp;

  if (!IsAbsent(found[kTransactionId])) {
    absl::StatusOr<std::string_view> id =
        StringField(field(kTransactionId), *found[kTransactionId]);
    if (!id.ok()) return id.status();
    if (!id->empty()) {
      if (absl::Status status = ValidateTransactionId(*id); !status.ok()) {
        return Invalid(field(kTransactionId),
                       absl::StrCat(QuoteForReason(*id), ": ", status.message()));
      }
      entry.transaction_id = std::string(*id);
    }
  }
  if (entry.transaction_id.empty()) {
    entry.transaction_id = MadeUpTransactionId(username, index);
    entry.transaction_id_made_up = true;
  }

  if (!IsAbsent(found[kNote])) {
    absl::StatusOr<std::string_view> note = StringField(field(kNote), *found[kNote]);
    if (!note.ok()) return note.status();
    if (absl::Status status = ValidateNote(*note); !status.ok()) {
      return Invalid(field(kNote), ToStd(status.message()));
    }
    entry.note = std::string(*note);
  }
  return entry;
}

absl::StatusOr<OriginUser> ParseUser(dom::element document, int64_t line) {
  dom::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("a user document must be a JSON object, not ", Describe(document)));
  }
  enum { kUsername, kTokens, kTransactions, kFieldCount };
  static constexpr std::array<std::string_view, kFieldCount> kKeys = {"username", "sbd_tokens",
                                                                      "sbd_tokens_transactions"};
  std::array<std::optional<dom::element>, kFieldCount> found;
  if (absl::Status status = FindFields(object, std::nullopt, kKeys, found); !status.ok()) {
    return status;
  }
  auto field = [&](int key) { return FieldName{kKeys[key], std::nullopt}; };

  OriginUser user;
  user.line = line;
  if (!found[kUsername]) return Invalid(field(kUsername), "missing");
  absl::StatusOr<std::string> username = UsernameField(field(kUsername), *found[kUsername]);
  if (!username.ok()) return username.status();
  user.username = *std::move(username);
  if (found[kTokens]) {
    absl::StatusOr<int64_t> tokens = IntegerField(field(kTokens), *found[kTokens], 0, kAmountMax);
    if (!tokens.ok()) return tokens.status();
    user.sbd_tokens = *tokens;
  }
  if (!IsAbsent(found[kTransactions])) {
    dom::array entries;
    if (found[kTransactions]->get_array().get(entries) != simdjson::SUCCESS) {
      return Invalid(field(kTransactions),
                     absl::StrCat("must be an array, not ", Describe(*found[kTransactions])));
    }
    user.entries.reserve(entries.size());
    size_t index = 0;
    for (dom::element value : entries) {
      absl::StatusOr<OriginEntry> entry = ParseEntry(value, user.username, index++);
      if (!entry.ok()) return entry.status();
      user.entries.push_back(*std::move(entry));
    }
  }
  return user;
}

}  // namespace

std::string MadeUpTransactionId(std::string_view username, size_t index) {
  // At most 11 + 64 + 1 + 20 bytes: within the 128 of a transaction_id.
  return absl::StrCat("sbd-import:", ToAbsl(username), ":", index);
}

ParsedExport ParseOriginExport(std::string_view text, ExportFormat format) {
  ParsedExport parsed;
  SplitDocuments split =
      format == ExportFormat::kJsonLines ? SplitJsonLines(text) : SplitJsonArray(text);
  if (!split.error && format == ExportFormat::kJsonLines && !split.documents.empty()) {
    // mongoexport --jsonArray output read as lines: say so once, rather
    // than once a line.
    const DocumentSpan& first = split.documents.front();
    const std::string_view bytes = text.substr(first.offset, first.size);
    if (bytes[bytes.find_first_not_of(" \t\r")] == '[') {
      split.error = InputError{first.line,
                               "this line starts a JSON array, not a user document (for "
                               "mongoexport --jsonArray output, pass --jsonArray)"};
    }
  }
  if (split.error) {
    parsed.errors.push_back(*std::move(split.error));
    return parsed;
  }
  dom::parser parser;
  parsed.data.users.reserve(split.documents.size());
  for (const DocumentSpan& span : split.documents) {
    const std::string_view bytes = text.substr(span.offset, span.size);
    dom::element document;
    absl::StatusOr<OriginUser> user;
    // The parser copies each document into its own padded buffer (reused).
    if (const simdjson::error_code error = parser.parse(bytes.data(), bytes.size()).get(document);
        error != simdjson::SUCCESS) {
      user = absl::InvalidArgumentError(
          absl::StrCat("not valid JSON: ", simdjson::error_message(error)));
    } else {
      user = ParseUser(document, span.line);
    }
    if (!user.ok()) {
      parsed.errors.push_back({span.line, std::string(user.status().message())});
      if (parsed.errors.size() >= kInputErrorsMax) break;
      continue;
    }
    parsed.data.entry_count += user->entries.size();
    parsed.data.users.push_back(*std::move(user));
  }
  return parsed;
}

}  // namespace sbd

#include "transport/request_parser.h"

#include <simdjson.h>

#include <array>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "engine/error_code.h"
#include "transport/limits.h"

namespace sbd {
namespace {

namespace ondemand = simdjson::ondemand;

enum class FieldKind { kString, kAmount };

struct FieldSpec {
  std::string_view name;
  FieldKind kind;
  bool required;
};

struct ParsedField {
  bool present = false;
  std::string text;    // kString.
  AmountField amount;  // kAmount.
};

absl::Status InvalidJson(std::string_view detail) {
  return MakeError(ErrorCode::kInvalidJson, detail);
}

std::string_view TrimToken(std::string_view token) {
  while (!token.empty() && absl::ascii_isspace(static_cast<unsigned char>(token.back()))) {
    token.remove_suffix(1);
  }
  return token;
}

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// Sets *integer when there is neither a fraction nor an exponent.
bool IsJsonNumber(std::string_view s, bool* integer) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  *integer = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
    *integer = false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
    *integer = false;
  }
  return i == s.size();
}

// Walks (and so validates) a value nobody reads.
simdjson::error_code Walk(ondemand::value value, size_t depth) {
  if (depth > kRequestBodyDepthMax) return simdjson::DEPTH_ERROR;
  ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case ondemand::json_type::object: {
      ondemand::object object;
      if (auto error = value.get_object().get(object)) return error;
      for (auto field : object) {
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) return error;
        ondemand::value child;
        if (auto error = field.value().get(child)) return error;
        if (auto error = Walk(child, depth + 1)) return error;
      }
      return simdjson::SUCCESS;
    }
    case ondemand::json_type::array: {
      ondemand::array array;
      if (auto error = value.get_array().get(array)) return error;
      for (auto element : array) {
        ondemand::value child;
        if (auto error = element.get(child)) return error;
        if (auto error = Walk(child, depth + 1)) return error;
      }
      return simdjson::SUCCESS;
    }
    case ondemand::json_type::string: {
      std::string_view ignored;
      return value.get_string().get(ignored);
    }
    case ondemand::json_type::number: {
      bool integer = false;
      return IsJsonNumber(TrimToken(value.raw_json_token()), &integer) ? simdjson::SUCCESS
                                                                       : simdjson::NUMBER_ERROR;
    }
    case ondemand::json_type::boolean: {
      bool ignored;
      return value.get_bool().get(ignored);
    }
    case ondemand::json_type::null: {
      bool is_null = false;
      if (auto error = value.is_null().get(is_null)) return error;
      return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

// Classifies an amount value (walking it if it is not a number).
simdjson::error_code ClassifyAmount(ondemand::value value, AmountField& amount) {
  ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  amount = AmountField{};  // kNotInteger.
  if (type != ondemand::json_type::number) return Walk(value, 1);
  bool integer = false;
  const std::string_view token = TrimToken(value.raw_json_token());
  if (!IsJsonNumber(token, &integer)) return simdjson::NUMBER_ERROR;
  if (!integer) return simdjson::SUCCESS;
  int64_t parsed = 0;
  if (value.get_int64().get(parsed) == simdjson::SUCCESS) {
    amount = AmountField::Integer(parsed);
  } else {
    amount.kind = AmountField::Kind::kTooLarge;
  }
  return simdjson::SUCCESS;
}

ondemand::parser& ThreadParser() {
  thread_local ondemand::parser parser = [] {
    ondemand::parser p;
    // On failure iterate() allocates (with the default depth) itself.
    if (p.allocate(64 * 1024, kRequestBodyDepthMax) != simdjson::SUCCESS) return ondemand::parser();
    return p;
  }();
  return parser;
}

// Parses `body` against `specs`; `out` is parallel to `specs`.
absl::Status ParseObject(std::string_view body, absl::Span<const FieldSpec> specs,
                         absl::Span<ParsedField> out) {
  simdjson::padded_string padded(body);
  ondemand::parser& parser = ThreadParser();
  ondemand::document document;
  if (parser.iterate(padded).get(document) != simdjson::SUCCESS) {
    return InvalidJson("the body is not valid JSON");
  }
  ondemand::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidJson("the body must be a JSON object");
  }
  absl::flat_hash_set<std::string_view> keys;
  std::string wrong_type;  // The first string field of another type.
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
      return InvalidJson("the body is not valid JSON");
    }
    if (!keys.insert(key).second) {
      return InvalidJson(absl::StrCat("duplicate key \"", std::string(key), "\""));
    }
    ondemand::value value;
    if (field.value().get(value) != simdjson::SUCCESS) {
      return InvalidJson("the body is not valid JSON");
    }
    size_t index = 0;
    while (index < specs.size() && specs[index].name != key) ++index;
    simdjson::error_code error = simdjson::SUCCESS;
    if (index == specs.size()) {
      error = Walk(value, 1);
    } else if (specs[index].kind == FieldKind::kAmount) {
      out[index].present = true;
      error = ClassifyAmount(value, out[index].amount);
    } else {
      ondemand::json_type type;
      error = value.type().get(type);
      if (error == simdjson::SUCCESS && type == ondemand::json_type::string) {
        std::string_view text;
        error = value.get_string().get(text);
        out[index].present = true;
        out[index].text = std::string(text);
      } else if (error == simdjson::SUCCESS) {
        error = Walk(value, 1);
        const bool null_optional = type == ondemand::json_type::null && !specs[index].required;
        if (!null_optional && wrong_type.empty()) wrong_type = std::string(key);
        out[index].present = !null_optional;
      }
    }
    if (error != simdjson::SUCCESS) return InvalidJson("the body is not valid JSON");
  }
  // Past the end of the input current_location() is an error; a location
  // means something follows the object.
  const char* trailing = nullptr;
  if (document.current_location().get(trailing) == simdjson::SUCCESS) {
    return InvalidJson("unexpected content after the JSON object");
  }

  std::vector<std::string> missing;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].required && !out[i].present) missing.emplace_back(specs[i].name);
  }
  if (!missing.empty()) {
    return MakeError(ErrorCode::kMissingFields,
                     absl::StrCat("missing required fields: ", absl::StrJoin(missing, ", ")));
  }
  if (!wrong_type.empty()) {
    return MakeError(ErrorCode::kInvalidField, absl::StrCat(wrong_type, " must be a string"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TransferCommand> ParseSendBody(std::string_view body, std::string from_account) {
  static constexpr std::array<FieldSpec, 4> kSpecs = {{
      {"to_user", FieldKind::kString, true},
      {"amount", FieldKind::kAmount, true},
      {"note", FieldKind::kString, false},
      {"transaction_id", FieldKind::kString, false},
  }};
  std::array<ParsedField, kSpecs.size()> fields;
  if (absl::Status status = ParseObject(body, kSpecs, absl::MakeSpan(fields)); !status.ok()) {
    return status;
  }
  TransferCommand command;
  command.from_account = std::move(from_account);
  command.to_account = std::move(fields[0].text);
  command.amount = fields[1].amount;
  command.note = std::move(fields[2].text);
  command.transaction_id = std::move(fields[3].text);
  return command;
}

absl::StatusOr<TransferCommand> ParseAdminTransferBody(std::string_view body, std::string actor) {
  static constexpr std::array<FieldSpec, 6> kSpecs = {{
      {"from_user", FieldKind::kString, true},
      {"to_user", FieldKind::kString, true},
      {"amount", FieldKind::kAmount, true},
      {"note", FieldKind::kString, false},
      {"transaction_id", FieldKind::kString, false},
      {"reason", FieldKind::kString, false},
  }};
  std::array<ParsedField, kSpecs.size()> fields;
  if (absl::Status status = ParseObject(body, kSpecs, absl::MakeSpan(fields)); !status.ok()) {
    return status;
  }
  TransferCommand command;
  command.from_account = std::move(fields[0].text);
  command.to_account = std::move(fields[1].text);
  command.amount = fields[2].amount;
  command.note = std::move(fields[3].text);
  command.transaction_id = std::move(fields[4].text);
  command.actor = std::move(actor);
  command.reason = std::move(fields[5].text);
  return command;
}

absl::StatusOr<MintCommand> ParseMintBody(std::string_view body, std::string actor) {
  static constexpr std::array<FieldSpec, 4> kSpecs = {{
      {"username", FieldKind::kString, true},
      {"amount", FieldKind::kAmount, true},
      {"reason", FieldKind::kString, false},
      {"transaction_id", FieldKind::kString, false},
  }};
  std::array<ParsedField, kSpecs.size()> fields;
  if (absl::Status status = ParseObject(body, kSpecs, absl::MakeSpan(fields)); !status.ok()) {
    return status;
  }
  MintCommand command;
  command.actor = std::move(actor);
  command.account = std::move(fields[0].text);
  command.amount = fields[1].amount;
  command.reason = std::move(fields[2].text);
  command.transaction_id = std::move(fields[3].text);
  return command;
}

absl::StatusOr<OpenAccountCommand> ParseOpenAccountBody(std::string_view body, std::string actor) {
  static constexpr std::array<FieldSpec, 1> kSpecs = {{
      {"username", FieldKind::kString, true},
  }};
  std::array<ParsedField, kSpecs.size()> fields;
  if (absl::Status status = ParseObject(body, kSpecs, absl::MakeSpan(fields)); !status.ok()) {
    return status;
  }
  OpenAccountCommand command;
  command.actor = std::move(actor);
  command.account = std::move(fields[0].text);
  return command;
}

absl::StatusOr<SetNoteCommand> ParseSetNoteBody(std::string_view body, std::string actor) {
  static constexpr std::array<FieldSpec, 2> kSpecs = {{
      {"transaction_id", FieldKind::kString, true},
      {"note", FieldKind::kString, true},
  }};
  std::array<ParsedField, kSpecs.size()> fields;
  if (absl::Status status = ParseObject(body, kSpecs, absl::MakeSpan(fields)); !status.ok()) {
    return status;
  }
  SetNoteCommand command;
  command.actor = std::move(actor);
  command.transaction_id = std::move(fields[0].text);
  command.note = std::move(fields[1].text);
  return command;
}

}  // namespace sbd

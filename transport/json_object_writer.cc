#include "transport/json_object_writer.h"

#include <array>
#include <boost/json/serializer.hpp>
#include <boost/json/string_view.hpp>
#include <cassert>
#include <charconv>

namespace sbd {
namespace {

// The bytes a JSON serializer may write other than as themselves: all but
// printable ASCII, the quote and the backslash.
constexpr std::array<bool, 256> kEscaped = [] {
  std::array<bool, 256> escaped{};
  for (int byte = 0; byte < 256; ++byte) {
    escaped[byte] = byte < 0x20 || byte > 0x7e || byte == '"' || byte == '\\';
  }
  return escaped;
}();

}  // namespace

JsonObjectWriter::JsonObjectWriter() {
  out_.reserve(256);
  out_.push_back('{');
  open_.push_back('{');
}

JsonObjectWriter& JsonObjectWriter::String(std::string_view key, std::string_view value) {
  Key(key);
  AppendString(value);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Number(std::string_view key, int64_t value) {
  Key(key);
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out_.append(digits, end);
  return *this;
}

JsonObjectWriter& JsonObjectWriter::Bool(std::string_view key, bool value) {
  Key(key);
  out_.append(value ? "true" : "false");
  return *this;
}

JsonObjectWriter& JsonObjectWriter::BeginObject(std::string_view key) {
  Key(key);
  out_.push_back('{');
  open_.push_back('{');
  return *this;
}

JsonObjectWriter& JsonObjectWriter::EndObject() {
  assert(open_.size() > 1 && open_.back() == '{' && "EndObject without an open nested object");
  out_.push_back('}');
  open_.pop_back();
  return *this;
}

JsonObjectWriter& JsonObjectWriter::BeginArray(std::string_view key) {
  Key(key);
  out_.push_back('[');
  open_.push_back('[');
  return *this;
}

JsonObjectWriter& JsonObjectWriter::BeginElement() {
  assert(!open_.empty() && open_.back() == '[' && "BeginElement outside an array");
  if (out_.back() != '[') out_.push_back(',');
  out_.push_back('{');
  open_.push_back('{');
  return *this;
}

JsonObjectWriter& JsonObjectWriter::EndArray() {
  assert(!open_.empty() && open_.back() == '[' && "EndArray without an open array");
  out_.push_back(']');
  open_.pop_back();
  return *this;
}

std::string JsonObjectWriter::Finish() {
  assert(open_ == "{" && "Finish with a nested object or array still open");
  out_.push_back('}');
  open_.clear();
  return std::move(out_);
}

void JsonObjectWriter::Key(std::string_view key) {
  assert(!open_.empty() && open_.back() == '{' && "a member outside an object");
  if (out_.back() != '{') out_.push_back(',');
  AppendString(key);
  out_.push_back(':');
}

void JsonObjectWriter::AppendString(std::string_view text) {
  // Printable ASCII other than '"' and '\\' is written as is by every JSON
  // serializer: quote it directly. Anything else goes to Boost.JSON.
  bool escaped = false;
  for (const char c : text) escaped |= kEscaped[static_cast<unsigned char>(c)];
  if (!escaped) {
    out_.push_back('"');
    out_.append(text);
    out_.push_back('"');
    return;
  }
  thread_local boost::json::serializer serializer;
  serializer.reset(boost::json::string_view(text.data(), text.size()));
  char buffer[512];
  while (!serializer.done()) {
    const boost::json::string_view chunk = serializer.read(buffer, sizeof buffer);
    out_.append(chunk.data(), chunk.size());
  }
}

}  // namespace sbd

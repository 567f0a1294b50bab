#include "transport/json_object_writer.h"

#include <algorithm>
#include <boost/json/serializer.hpp>
#include <boost/json/string_view.hpp>
#include <charconv>

namespace sbd {

JsonObjectWriter::JsonObjectWriter() {
  out_.reserve(256);
  out_.push_back('{');
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
  return *this;
}

JsonObjectWriter& JsonObjectWriter::EndObject() {
  out_.push_back('}');
  return *this;
}

std::string JsonObjectWriter::Finish() {
  out_.push_back('}');
  return std::move(out_);
}

void JsonObjectWriter::Key(std::string_view key) {
  if (out_.back() != '{') out_.push_back(',');
  AppendString(key);
  out_.push_back(':');
}

void JsonObjectWriter::AppendString(std::string_view text) {
  // Printable ASCII other than '"' and '\\' is written as is by every JSON
  // serializer: quote it directly. Anything else goes to Boost.JSON.
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
  });
  if (plain) {
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

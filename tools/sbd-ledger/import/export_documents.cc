#include "tools/sbd-ledger/import/export_documents.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace sbd {
namespace {

constexpr std::string_view kByteOrderMark = "\xef\xbb\xbf";

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t SkipByteOrderMark(std::string_view text) {
  return text.substr(0, kByteOrderMark.size()) == kByteOrderMark ? kByteOrderMark.size() : 0;
}

// Walks `text` from a position, counting lines as it goes.
class Cursor {
 public:
  Cursor(std::string_view text, size_t position) : text_(text), position_(position) {}

  bool done() const { return position_ >= text_.size(); }
  char peek() const { return text_[position_]; }
  size_t position() const { return position_; }
  int64_t line() const { return line_; }

  void Advance() {
    if (text_[position_] == '\n') ++line_;
    ++position_;
  }

  void SkipSpace() {
    while (!done() && IsJsonSpace(peek())) Advance();
  }

  // Moves past one JSON value: an object or array by its brackets (strings
  // and their escapes skipped), anything else up to the next delimiter.
  // False if the text ends inside it.
  bool SkipValue() {
    if (peek() != '{' && peek() != '[') {
      while (!done() && peek() != ',' && peek() != ']' && !IsJsonSpace(peek())) Advance();
      return true;
    }
    size_t depth = 0;
    bool in_string = false;
    while (!done()) {
      const char c = peek();
      Advance();
      if (in_string) {
        if (c == '\\' && !done()) {
          Advance();
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view text_;
  size_t position_;
  int64_t line_ = 1;
};

}  // namespace

SplitDocuments SplitJsonLines(std::string_view text) {
  SplitDocuments split;
  size_t start = SkipByteOrderMark(text);
  int64_t line = 1;
  while (start < text.size()) {
    const void* newline = std::memchr(text.data() + start, '\n', text.size() - start);
    const size_t end = newline != nullptr
                           ? static_cast<size_t>(static_cast<const char*>(newline) - text.data())
                           : text.size();
    size_t first = start;
    while (first < end && IsJsonSpace(text[first])) ++first;
    if (first < end) split.documents.push_back({start, end - start, line});
    start = end + 1;
    ++line;
  }
  return split;
}

SplitDocuments SplitJsonArray(std::string_view text) {
  SplitDocuments split;
  Cursor cursor(text, SkipByteOrderMark(text));
  auto fail = [&](std::string reason) {
    split.error = InputError{cursor.line(), std::move(reason)};
    return split;
  };
  cursor.SkipSpace();
  if (cursor.done() || cursor.peek() != '[') {
    return fail(
        "a --jsonArray file holds one JSON array of user documents; this does not start "
        "with '['");
  }
  cursor.Advance();
  cursor.SkipSpace();
  if (!cursor.done() && cursor.peek() == ']') {
    cursor.Advance();
  } else {
    for (;;) {
      if (cursor.done()) return fail("the array is not closed with ']'");
      const size_t start = cursor.position();
      const int64_t line = cursor.line();
      if (!cursor.SkipValue()) {
        split.error = InputError{line, "the document starting on this line is not closed"};
        return split;
      }
      split.documents.push_back({start, cursor.position() - start, line});
      cursor.SkipSpace();
      if (cursor.done()) return fail("the array is not closed with ']'");
      const char next = cursor.peek();
      cursor.Advance();
      if (next == ']') break;
      if (next != ',') {
        return fail(absl::StrCat("expected ',' or ']' after a document, found '",
                                 std::string(1, next), "'"));
      }
      cursor.SkipSpace();
    }
  }
  cursor.SkipSpace();
  if (!cursor.done()) return fail("content after the array's closing ']'");
  return split;
}

}  // namespace sbd

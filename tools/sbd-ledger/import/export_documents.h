// Where the user documents of a `mongoexport` file are, and on which line
// each starts: JSON lines (the default: one document a line; blank lines
// are skipped) or one JSON array (`--jsonArray`, pretty-printed or not).
//
// This only finds the documents' byte ranges; parsing and validating each is
// origin_export.h's job, so a document that is not valid JSON is reported
// there, at its line.
//
// Thread-safety: pure functions.
#ifndef SBD_TOOLS_SBD_LEDGER_IMPORT_EXPORT_DOCUMENTS_H_
#define SBD_TOOLS_SBD_LEDGER_IMPORT_EXPORT_DOCUMENTS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tools/sbd-ledger/import/input_error.h"

namespace sbd {

struct DocumentSpan {
  size_t offset = 0;  // In the file's text.
  size_t size = 0;
  int64_t line = 0;  // 1-based line the document starts on.

  friend bool operator==(const DocumentSpan&, const DocumentSpan&) = default;
};

struct SplitDocuments {
  std::vector<DocumentSpan> documents;
  std::optional<InputError> error;  // Set: the file's framing is broken here.
};

// Every non-blank line (a UTF-8 byte order mark at the start is skipped).
SplitDocuments SplitJsonLines(std::string_view text);

// Every element of the one top-level array the text holds. Only the framing
// is checked (an opening '[', elements separated by ',', a closing ']' and
// nothing after it): an error names the line where it breaks.
SplitDocuments SplitJsonArray(std::string_view text);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_IMPORT_EXPORT_DOCUMENTS_H_

#include "store/sqlite_status.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"

namespace sbd {
namespace {

// The most specific absl code for an SQLite error (DESIGN.md, rule 3): what
// a retry after the operator acts may fix is kUnavailable; a damaged file is
// kDataLoss.
absl::StatusCode CodeOf(int sqlite_code) {
  switch (sqlite_code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return absl::StatusCode::kDataLoss;
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status FromSqlite(const SQLite::Exception& error, const char* what, const std::string& path) {
  return absl::Status(CodeOf(error.getErrorCode()),
                      absl::StrCat(what, " ", path, ": ", error.what()));
}

absl::Status ChainBroken(int64_t seq, const std::string& why) {
  return absl::DataLossError(absl::StrCat("hash chain broken at seq ", seq, ": ", why));
}

}  // namespace sbd

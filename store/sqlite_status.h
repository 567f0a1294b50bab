// The absl::Status of a store error: an SQLiteCpp exception converted at the
// edge of store/ (DESIGN.md, rule 3), and a broken hash chain. Internal to
// store/.
//
// Thread-safety: pure functions.
#ifndef SBD_STORE_SQLITE_STATUS_H_
#define SBD_STORE_SQLITE_STATUS_H_

#include <SQLiteCpp/Exception.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace sbd {

// `error` as the most specific absl code (a full disk or an I/O error is
// kUnavailable, a damaged file kDataLoss), its message saying what failed:
// "<what> <path>: <SQLite's message>".
absl::Status FromSqlite(const SQLite::Exception& error, const char* what, const std::string& path);

// kDataLoss naming the seq at which the hash chain breaks and why.
absl::Status ChainBroken(int64_t seq, const std::string& why);

}  // namespace sbd

#endif  // SBD_STORE_SQLITE_STATUS_H_

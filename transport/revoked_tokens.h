// RevokedTokens: the ids of revoked permanent tokens (API.md "Origin
// tokens"), read from `--revoked-tokens FILE`: one `token_id` a line,
// surrounding whitespace ignored, `#` starts a comment (a whole line or the
// rest of one), blank lines skipped.
//
// The file is re-read by Reload (on SIGHUP, and by RevocationWatcher when it
// changes on disk). A reload that fails (the file vanished or is unreadable
// mid-edit) keeps the last good list: a revocation is never undone by a
// broken file.
//
// Thread-safety: every method is thread-safe. IsRevoked (every request with a
// permanent token) takes a shared pointer copy under a short lock; the list
// itself is immutable once built.
#ifndef SBD_TRANSPORT_REVOKED_TOKENS_H_
#define SBD_TRANSPORT_REVOKED_TOKENS_H_

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "engine/mutex.h"

namespace sbd {

// Ids in one file, at most: far more than any deployment revokes, and a
// bound on what a runaway file can make the server hold.
inline constexpr size_t kRevokedTokenIdsMax = 1'000'000;

class RevokedTokens {
 public:
  // Reads `path` once. kNotFound / kUnavailable if it cannot be read,
  // kInvalidArgument naming the line of an id that is not printable ASCII or
  // the count past kRevokedTokenIdsMax.
  static absl::StatusOr<std::unique_ptr<RevokedTokens>> Open(std::string path);

  bool IsRevoked(std::string_view token_id) const;

  // Re-reads the file: true if the list changed. On an error the last good
  // list stays in force, and FileChanged is false until the file changes
  // again (a broken file is not re-read in a loop).
  absl::StatusOr<bool> Reload();

  // Whether the file on disk differs (inode, size or modification time) from
  // the one last read, or vanished.
  bool FileChanged() const;

  size_t size() const;
  const std::string& path() const { return path_; }

 private:
  using IdSet = absl::flat_hash_set<std::string>;
  struct FileStamp {
    ino_t inode = 0;
    off_t size = -1;
    timespec modified{};
    friend bool operator==(const FileStamp& a, const FileStamp& b) {
      return a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec &&
             a.modified.tv_nsec == b.modified.tv_nsec;
    }
  };

  explicit RevokedTokens(std::string path) : path_(std::move(path)) {}
  // The file's stamp now; all zero (size -1) if it cannot be stat'ed.
  FileStamp StampNow() const;
  // Parses the file as it is now, with the stamp it was read at.
  absl::StatusOr<std::pair<std::shared_ptr<const IdSet>, FileStamp>> Read() const;

  const std::string path_;
  mutable Mutex mutex_;
  std::shared_ptr<const IdSet> ids_ ABSL_GUARDED_BY(mutex_);
  FileStamp stamp_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_REVOKED_TOKENS_H_

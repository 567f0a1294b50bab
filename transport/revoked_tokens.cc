#include "transport/revoked_tokens.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sbd {

RevokedTokens::FileStamp RevokedTokens::StampNow() const {
  struct stat info {};
  if (stat(path_.c_str(), &info) != 0) return {};
  return {info.st_ino, info.st_size, info.st_mtim};
}

absl::StatusOr<std::unique_ptr<RevokedTokens>> RevokedTokens::Open(std::string path) {
  std::unique_ptr<RevokedTokens> revoked(new RevokedTokens(std::move(path)));
  auto read = revoked->Read();
  if (!read.ok()) return read.status();
  MutexLock lock(revoked->mutex_);
  revoked->ids_ = std::move(read->first);
  revoked->stamp_ = read->second;
  return revoked;
}

absl::StatusOr<std::pair<std::shared_ptr<const RevokedTokens::IdSet>, RevokedTokens::FileStamp>>
RevokedTokens::Read() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string message = absl::StrCat("cannot read ", path_, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    return absl::UnavailableError(message);
  }
  // The stamp of the file as opened: a change after this shows as changed.
  const FileStamp stamp = StampNow();
  auto ids = std::make_shared<IdSet>();
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    std::string_view id = line;
    if (const size_t comment = id.find('#'); comment != std::string_view::npos) {
      id = id.substr(0, comment);
    }
    const absl::string_view stripped =
        absl::StripAsciiWhitespace(absl::string_view(id.data(), id.size()));
    if (stripped.empty()) continue;
    for (char c : stripped) {
      if (c < 0x21 || c > 0x7e) {
        return absl::InvalidArgumentError(
            absl::StrCat(path_, ":", number, ": a token id is printable ASCII without spaces"));
      }
    }
    ids->emplace(stripped);
    if (ids->size() > kRevokedTokenIdsMax) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": more than ", kRevokedTokenIdsMax, " revoked token ids"));
    }
  }
  if (in.bad()) return absl::UnavailableError(absl::StrCat("error reading ", path_));
  return std::pair<std::shared_ptr<const IdSet>, FileStamp>(std::move(ids), stamp);
}

bool RevokedTokens::IsRevoked(std::string_view token_id) const {
  std::shared_ptr<const IdSet> ids;
  {
    MutexLock lock(mutex_);
    ids = ids_;
  }
  return ids->contains(absl::string_view(token_id.data(), token_id.size()));
}

absl::StatusOr<bool> RevokedTokens::Reload() {
  auto read = Read();
  MutexLock lock(mutex_);
  if (!read.ok()) {
    // Not retried until the file changes again.
    stamp_ = StampNow();
    return read.status();
  }
  const bool changed = *read->first != *ids_;
  ids_ = std::move(read->first);
  stamp_ = read->second;
  return changed;
}

bool RevokedTokens::FileChanged() const {
  const FileStamp now = StampNow();
  MutexLock lock(mutex_);
  return !(now == stamp_);
}

size_t RevokedTokens::size() const {
  MutexLock lock(mutex_);
  return ids_->size();
}

}  // namespace sbd

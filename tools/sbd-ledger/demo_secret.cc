#include "tools/sbd-ledger/demo_secret.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sbd {
namespace {

// 32 random bytes, hex: the key size HS256 wants (RFC 7518 §3.2).
constexpr size_t kSecretBytes = 32;
// A kept secret is 64 hex digits; anything much larger is not ours.
constexpr size_t kSecretFileBytesMax = 4096;

absl::Status Errno(const char* what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::StatusOr<std::string> RandomSecret() {
  std::array<unsigned char, kSecretBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return absl::UnavailableError("no randomness for a demo secret");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// Reads the kept secret; refuses a file others may read or write.
absl::StatusOr<std::string> ReadSecret(int fd, const std::string& path) {
  struct stat info {};
  if (fstat(fd, &info) != 0) return Errno("cannot stat", path);
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is open to other users (mode ", absl::Hex(info.st_mode & 0777),
                     "); chmod 600 it, or delete it to make a new demo secret"));
  }
  std::string contents(kSecretFileBytesMax, '\0');
  size_t used = 0;
  while (used < contents.size()) {
    const ssize_t got = read(fd, contents.data() + used, contents.size() - used);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Errno("cannot read", path);
    if (got == 0) break;
    used += static_cast<size_t>(got);
  }
  contents.resize(used);
  const std::string secret(absl::StripAsciiWhitespace(contents));
  if (secret.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is empty; delete it to make a new demo secret"));
  }
  return secret;
}

absl::Status WriteSecret(int fd, const std::string& path, const std::string& secret) {
  const std::string line = secret + "\n";
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t put = write(fd, line.data() + written, line.size() - written);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) return Errno("cannot write", path);
    written += static_cast<size_t>(put);
  }
  if (fsync(fd) != 0) return Errno("cannot fsync", path);
  return absl::OkStatus();
}

// Closes `fd` on every path out of a scope.
struct FileCloser {
  int fd;
  ~FileCloser() { close(fd); }
};

}  // namespace

std::string DemoSecretPath(const std::string& db_path) { return db_path + ".demo-secret"; }

absl::StatusOr<std::string> LoadOrCreateDemoSecret(const std::string& path) {
  const int created = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (created >= 0) {
    FileCloser closer{created};
    absl::StatusOr<std::string> secret = RandomSecret();
    if (!secret.ok()) return secret.status();
    absl::Status written = WriteSecret(created, path, *secret);
    if (!written.ok()) {
      unlink(path.c_str());  // A half-written secret would be read back next time.
      return written;
    }
    return secret;
  }
  if (errno != EEXIST) return Errno("cannot create", path);
  const int existing = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (existing < 0) return Errno("cannot open", path);
  FileCloser closer{existing};
  return ReadSecret(existing, path);
}

}  // namespace sbd

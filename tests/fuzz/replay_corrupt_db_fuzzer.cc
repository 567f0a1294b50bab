// Fuzz target: sbd-replay, and the server's open, on a corrupted database.
//
// At start the target writes a small valid event log through
// SqliteEventLog (accounts, mints, transfers with notes, a note set) and
// keeps its bytes. Each input then damages a copy: the first byte is flags,
// an optional truncation length and --until-seq follow, then any number of
// patches (3-byte offset into the file, 1-byte length, that many bytes XORed
// onto the file at the offset: whole pages, headers, b-tree cells, row
// payloads). The damaged file is audited by RunReplay (sbd-replay's code
// behind its flags, in the format and mode the flags pick) and, with flag
// 0x10, also opened read-write the way the server opens it (SqliteEventLog +
// Ledger::Open, which replays and verifies the whole chain).
// Properties: nothing crashes, hangs or trips a sanitizer; damage is an
// error (exit 1 violation or 2 unreadable), never an abort; RunReplay's exit
// code is one of 0, 1, 2.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/ledger.h"
#include "store/sqlite_event_log.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/store/test_ledger.h"
#include "tools/sbd-replay/replay.h"

namespace sbd::fuzz {
namespace {

namespace fs = std::filesystem;

struct Fixture {
  fs::path dir;
  std::string seed_bytes;  // The valid log, checkpointed into one file.
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) abort();
}

void RemoveDatabase(const fs::path& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    fs::remove(path.string() + suffix, ignored);
  }
}

std::vector<Event> SeedEvents() {
  testing::TestLedger ledger;
  ledger.Open("alice");
  ledger.Open("bob");
  ledger.Open("carol");
  ledger.Mint("alice", 1000, "welcome");
  ledger.Mint("bob", 250);
  ledger.Transfer("alice", "bob", 120, "rent");
  ledger.Transfer("bob", "carol", 70);
  ledger.Transfer("carol", "alice", 5, "caf\xc3\xa9");
  ledger.SetNote("bob", "tx-6", "thanks");
  ledger.Mint("carol", 9007199254740000, "big");
  ledger.Transfer("carol", "bob", 9007199254740000, std::string(300, 'n'));
  return ledger.events();
}

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    auto* made = new Fixture;
    const char* tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/sbd-replay-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) abort();
    made->dir = pattern;
    // Removed at exit (libFuzzer exits normally at the end of a bounded run).
    atexit([] {
      std::error_code ignored;
      fs::remove_all(GetFixture().dir, ignored);
    });
    const fs::path seed = made->dir / "seed.db";
    {
      absl::StatusOr<std::unique_ptr<SqliteEventLog>> log = SqliteEventLog::Open(seed.string(), {});
      if (!log.ok()) abort();
      const std::vector<Event> events = SeedEvents();
      if (!(*log)->Append(events).ok()) abort();
    }  // Closing the last connection checkpoints the WAL into the file.
    made->seed_bytes = ReadFile(seed);
    RemoveDatabase(seed);
    if (made->seed_bytes.size() < 1024) abort();
    return made;
  }();
  return *fixture;
}

int Replay(const fs::path& path, uint8_t flags, int64_t until_seq) {
  ReplayOptions options;
  options.db_path = path.string();
  options.format = static_cast<ReplayFormat>((flags & 3) % 3);
  options.notifications = (flags & 4) != 0;
  if ((flags & 8) != 0) options.account = "Alice";
  if (until_seq > 0) options.until_seq = until_seq;
  options.progress_interval = absl::InfiniteDuration();
  std::ostringstream out, err;
  return RunReplay(options, out, err);
}

// The server's start on the damaged file: any failure must be a status.
void OpenAsServer(const fs::path& path) {
  absl::StatusOr<std::unique_ptr<SqliteEventLog>> log =
      SqliteEventLog::Open(path.string(), {.durability = Durability::kNormal});
  if (!log.ok()) return;
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Open(std::move(*log), {});
  if (ledger.ok()) (*ledger)->Stop();
}

}  // namespace
}  // namespace sbd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sbd;
  using namespace sbd::fuzz;
  Fixture& fixture = GetFixture();
  FuzzInput input(data, size);
  const uint8_t flags = input.Byte();
  std::string bytes = fixture.seed_bytes;
  if ((flags & 0x20) != 0) bytes.resize(input.Integer(2) % (bytes.size() + 1));
  const int64_t until_seq = (flags & 0x40) != 0 ? input.Byte() : 0;
  while (!input.empty() && !bytes.empty()) {
    const size_t offset = input.Integer(3) % bytes.size();
    const size_t length = input.Byte() % 17;
    for (size_t i = 0; i < length && offset + i < bytes.size(); ++i) {
      bytes[offset + i] = static_cast<char>(bytes[offset + i] ^ input.Byte());
    }
  }
  const fs::path path = fixture.dir / "input.db";
  RemoveDatabase(path);
  WriteFile(path, bytes);
  const int code = Replay(path, flags, until_seq);
  if (code != kReplayExitClean && code != kReplayExitViolation && code != kReplayExitError) {
    fprintf(stderr, "replay_corrupt_db_fuzzer: exit code %d\n", code);
    abort();
  }
  if ((flags & 0x10) != 0) {
    RemoveDatabase(path);
    WriteFile(path, bytes);
    OpenAsServer(path);
  }
  RemoveDatabase(path);
  return 0;
}

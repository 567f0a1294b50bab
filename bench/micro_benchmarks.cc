// Google Benchmark micro-benchmarks of the hot pieces of one transfer's path
// (docs/BENCHMARKS.md, "Micro-benchmarks"): request parsing, projector
// apply, notification encoding, hash chaining, batch append.
//
// Run: build-bench/bench/sbd-microbench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/synthetic_log.h"
#include "engine/projector.h"
#include "store/event_hash.h"
#include "store/sqlite_event_log.h"
#include "transport/messages.h"
#include "transport/request_parser.h"

namespace sbd::bench {
namespace {

// As many accounts as the engine row of the targets table.
constexpr size_t kAccounts = 10'000;
// Transfers generated ahead for the per-event benchmarks; a projector is
// rebuilt (untimed) when they run out.
constexpr size_t kTransfersAhead = 1'000'000;
constexpr uint64_t kSeed = 7;

// A transfer with a UUID transaction_id, as the ledger makes them.
Event SampleTransfer() {
  SyntheticLog log(kAccounts, kSeed);
  Event event;
  for (size_t i = 0; i < 2 * kAccounts + 1; ++i) event = log.Next();
  return event;
}

void BM_ParseSendBody(benchmark::State& state) {
  const std::string body =
      R"({"to_user":"user0004242","amount":50,"note":"lunch","transaction_id":"6f1c2a9e-3b7d-4c1e-9a2f-0d5e8b7c6a41"})";
  for (auto _ : state) {
    absl::StatusOr<TransferCommand> command = ParseSendBody(body, "user0000001");
    benchmark::DoNotOptimize(command);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseSendBody);

// The projector's state after opening and funding kAccounts accounts, and
// the transfers that follow.
struct ProjectorFixture {
  std::unique_ptr<Projector> projector;
  std::vector<Event> transfers;
  size_t next = 0;

  void Reset() {
    projector = std::make_unique<Projector>(kAccounts);
    SyntheticLog log(kAccounts, kSeed);
    for (int64_t i = 0; i < log.setup_events(); ++i) {
      if (!projector->Apply(log.Next()).ok()) std::abort();
    }
    if (transfers.empty()) {
      transfers.reserve(kTransfersAhead);
      for (size_t i = 0; i < kTransfersAhead; ++i) transfers.push_back(log.Next());
    }
    next = 0;
  }
};

void BM_ProjectorApplyTransfer(benchmark::State& state) {
  ProjectorFixture fixture;
  fixture.Reset();
  for (auto _ : state) {
    if (fixture.next == fixture.transfers.size()) {
      state.PauseTiming();
      fixture.Reset();
      state.ResumeTiming();
    }
    absl::Status status = fixture.projector->Apply(fixture.transfers[fixture.next++]);
    if (!status.ok()) state.SkipWithError("projector refused a synthetic transfer");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ProjectorApplyTransfer);

// Both messages of one transfer: what the Notifier builds per event.
void BM_EncodeTransferNotifications(benchmark::State& state) {
  const Event event = SampleTransfer();
  for (auto _ : state) {
    std::optional<std::string> sent = EncodeNotification(event, event.from_account);
    std::optional<std::string> received = EncodeNotification(event, event.to_account);
    benchmark::DoNotOptimize(sent);
    benchmark::DoNotOptimize(received);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeTransferNotifications);

void BM_ChainHash(benchmark::State& state) {
  const Event event = SampleTransfer();
  EventHash hash = kGenesisHash;
  for (auto _ : state) {
    hash = ChainHash(hash, event);
    benchmark::DoNotOptimize(hash);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChainHash);

// SqliteEventLog::Append of a batch of state.range(0) events (the ledger's
// full batch is 4096), synchronous=FULL (range(1) = 1) or NORMAL (0).
void BM_AppendBatch(benchmark::State& state) {
  const size_t batch_size = static_cast<size_t>(state.range(0));
  const Durability durability = state.range(1) == 1 ? Durability::kFull : Durability::kNormal;
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("sbd-microbench-" + std::to_string(getpid()) + ".db");
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix, ignored);
  }
  {
    SqliteEventLog::Options options;
    options.durability = durability;
    absl::StatusOr<std::unique_ptr<SqliteEventLog>> log =
        SqliteEventLog::Open(path.string(), options);
    if (!log.ok()) {
      state.SkipWithError("cannot open the log");
      return;
    }
    SyntheticLog generator(kAccounts, kSeed);
    std::vector<Event> batch;
    for (auto _ : state) {
      state.PauseTiming();
      generator.NextBatch(batch_size, batch);
      state.ResumeTiming();
      if (!(*log)->Append(batch).ok()) state.SkipWithError("append failed");
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch_size));
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix, ignored);
  }
}
BENCHMARK(BM_AppendBatch)
    ->Args({4096, 1})
    ->Args({4096, 0})
    ->ArgNames({"events", "full"})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sbd::bench

BENCHMARK_MAIN();

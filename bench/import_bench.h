// `sbd-bench import`: writes a synthetic export of the origin's users
// (SyntheticExport: N users, M history entries), then per run times the
// importer in-process (ImportUsers, exactly what `sbd-ledger import` runs:
// read, parse, plan, a fresh SQLite log and Ledger, every step through
// Ledger::Submit, verification, close) and two baselines on the same data:
//  - parse only: ParseOriginExport of the file (the import's floor for
//    reading its input);
//  - bare appends: the imported log's own events appended again, in
//    batches of 4,096, to a fresh log with the same durability
//    (SqliteEventLog::Append: SQLite and the hash chain, no engine).
//
// Thread-safety: RunImportBench is called from one thread.
#ifndef SBD_BENCH_IMPORT_BENCH_H_
#define SBD_BENCH_IMPORT_BENCH_H_

#include <cstddef>
#include <filesystem>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_report.h"

namespace sbd::bench {

struct ImportBenchOptions {
  size_t users = 100'000;
  size_t entries = 1'000'000;
  size_t runs = 1;
  std::filesystem::path directory;
  // Keep the export file in `directory` (for profiling the binary on it).
  bool keep_export = false;
};

// Writes the export once, then measures `runs` times: one Metrics per run.
absl::StatusOr<std::vector<Metrics>> RunImportBench(const ImportBenchOptions& options);

}  // namespace sbd::bench

#endif  // SBD_BENCH_IMPORT_BENCH_H_

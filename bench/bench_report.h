// BenchReport: the numbers one sbd-bench subcommand measured, over one or
// more runs, printed as a human table or as JSON (Boost.JSON).
//
// Each run yields a list of Metrics in a fixed order; the report shows the
// median of every metric across runs (the figure docs/BENCHMARKS.md quotes)
// and, in JSON, every run's values too.
//
// Thread-safety: none; built and printed by one thread.
#ifndef SBD_BENCH_BENCH_REPORT_H_
#define SBD_BENCH_BENCH_REPORT_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace sbd::bench {

struct Metric {
  std::string key;    // JSON name: "transfers_per_s".
  std::string label;  // Table row: "transfers/s".
  double value = 0;
  std::string unit;  // "", "ms", "MiB", "x", ...
};

using Metrics = std::vector<Metric>;

class BenchReport {
 public:
  explicit BenchReport(std::string command) : command_(std::move(command)) {}

  // A parameter of the run ("accounts" -> "10000"), echoed in both outputs.
  void AddParameter(std::string key, std::string value);
  void AddRun(Metrics run) { runs_.push_back(std::move(run)); }
  size_t run_count() const { return runs_.size(); }

  // Per metric key (in the first run's order), the median across runs.
  Metrics Medians() const;

  void PrintTable(std::ostream& out) const;
  void PrintJson(std::ostream& out) const;

 private:
  std::string command_;
  std::vector<std::pair<std::string, std::string>> parameters_;
  std::vector<Metrics> runs_;
};

// The value of the metric named `key` in `metrics`; 0 if there is none (a
// row a run skipped).
double MetricValue(const Metrics& metrics, const std::string& key);

// The median of `values` (the mean of the middle two for an even count); 0
// for none.
double Median(std::vector<double> values);

}  // namespace sbd::bench

#endif  // SBD_BENCH_BENCH_REPORT_H_

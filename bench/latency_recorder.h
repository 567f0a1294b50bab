// LatencyRecorder: keeps every sample (nanoseconds) and answers percentiles
// exactly. A million samples is 8 MB, which a benchmark can afford; exact
// percentiles need no bucket-width caveat in the report.
//
// Thread-safety: none. Record from one thread, or merge per-thread recorders.
#ifndef SBD_BENCH_LATENCY_RECORDER_H_
#define SBD_BENCH_LATENCY_RECORDER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sbd::bench {

class LatencyRecorder {
 public:
  void Reserve(size_t count) { samples_ns_.reserve(count); }
  void Record(int64_t nanoseconds) {
    samples_ns_.push_back(nanoseconds);
    sorted_ = false;
  }
  void Merge(const LatencyRecorder& other);
  size_t count() const { return samples_ns_.size(); }

  // The nearest-rank percentile (0 < percentile <= 100) in milliseconds; 0
  // without samples. Sorts the samples on first use after a Record.
  double PercentileMs(double percentile);
  double MaxMs();

 private:
  void Sort();

  std::vector<int64_t> samples_ns_;
  bool sorted_ = true;
};

}  // namespace sbd::bench

#endif  // SBD_BENCH_LATENCY_RECORDER_H_

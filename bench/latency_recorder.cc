#include "bench/latency_recorder.h"

#include <algorithm>
#include <cmath>

namespace sbd::bench {
namespace {

constexpr double kNanosecondsPerMillisecond = 1e6;

}  // namespace

void LatencyRecorder::Merge(const LatencyRecorder& other) {
  samples_ns_.insert(samples_ns_.end(), other.samples_ns_.begin(), other.samples_ns_.end());
  sorted_ = false;
}

void LatencyRecorder::Sort() {
  if (sorted_) return;
  std::sort(samples_ns_.begin(), samples_ns_.end());
  sorted_ = true;
}

double LatencyRecorder::PercentileMs(double percentile) {
  if (samples_ns_.empty()) return 0;
  Sort();
  const double rank = std::ceil(percentile / 100.0 * static_cast<double>(samples_ns_.size()));
  const size_t index =
      std::min(samples_ns_.size() - 1, static_cast<size_t>(std::max(rank, 1.0)) - 1);
  return static_cast<double>(samples_ns_[index]) / kNanosecondsPerMillisecond;
}

double LatencyRecorder::MaxMs() {
  if (samples_ns_.empty()) return 0;
  Sort();
  return static_cast<double>(samples_ns_.back()) / kNanosecondsPerMillisecond;
}

}  // namespace sbd::bench

#include "bench/bench_report.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace sbd::bench {
namespace {

// Human form: integers with thousands separators, small values with 2-3
// significant decimals.
std::string FormatValue(double value) {
  char buffer[64];
  if (std::fabs(value) >= 1000 || value == std::floor(value)) {
    std::snprintf(buffer, sizeof(buffer), "%.0f", value);
    std::string digits = buffer;
    const size_t sign = (!digits.empty() && digits[0] == '-') ? 1 : 0;
    for (int i = static_cast<int>(digits.size()) - 3; i > static_cast<int>(sign); i -= 3) {
      digits.insert(static_cast<size_t>(i), ",");
    }
    return digits;
  }
  std::snprintf(buffer, sizeof(buffer), std::fabs(value) >= 10 ? "%.1f" : "%.3f", value);
  return buffer;
}

boost::json::object MetricsObject(const Metrics& metrics) {
  boost::json::object object;
  for (const Metric& metric : metrics) object[metric.key] = metric.value;
  return object;
}

}  // namespace

double MetricValue(const Metrics& metrics, const std::string& key) {
  for (const Metric& metric : metrics) {
    if (metric.key == key) return metric.value;
  }
  return 0;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

void BenchReport::AddParameter(std::string key, std::string value) {
  parameters_.emplace_back(std::move(key), std::move(value));
}

Metrics BenchReport::Medians() const {
  Metrics medians;
  if (runs_.empty()) return medians;
  for (const Metric& metric : runs_.front()) {
    std::vector<double> values;
    for (const Metrics& run : runs_) {
      for (const Metric& candidate : run) {
        if (candidate.key == metric.key) values.push_back(candidate.value);
      }
    }
    Metric median = metric;
    median.value = Median(std::move(values));
    medians.push_back(std::move(median));
  }
  return medians;
}

void BenchReport::PrintTable(std::ostream& out) const {
  out << "sbd-bench " << command_;
  for (const auto& [key, value] : parameters_) out << " --" << key << " " << value;
  out << "\n";
  const Metrics medians = Medians();
  size_t label_width = 0;
  for (const Metric& metric : medians) label_width = std::max(label_width, metric.label.size());
  const std::string heading = runs_.size() > 1
                                  ? "median of " + std::to_string(runs_.size()) + " runs"
                                  : std::string("value");
  out << "  " << std::string(label_width, ' ') << "  " << heading << "\n";
  for (const Metric& metric : medians) {
    out << "  " << metric.label << std::string(label_width - metric.label.size(), ' ') << "  "
        << FormatValue(metric.value);
    if (!metric.unit.empty()) out << " " << metric.unit;
    out << "\n";
  }
}

void BenchReport::PrintJson(std::ostream& out) const {
  boost::json::object root;
  root["command"] = command_;
  boost::json::object parameters;
  for (const auto& [key, value] : parameters_) parameters[key] = value;
  root["parameters"] = std::move(parameters);
  root["median"] = MetricsObject(Medians());
  boost::json::array runs;
  for (const Metrics& run : runs_) runs.push_back(MetricsObject(run));
  root["runs"] = std::move(runs);
  out << boost::json::serialize(root) << "\n";
}

}  // namespace sbd::bench

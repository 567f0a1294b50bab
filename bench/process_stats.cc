#include "bench/process_stats.h"

#include <sys/resource.h>

#include <fstream>
#include <string>
#include <string_view>

namespace sbd::bench {

int64_t PeakRssKib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // Linux reports KiB.
}

int64_t CurrentRssKib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  constexpr std::string_view kField = "VmRSS:";
  while (std::getline(status, line)) {
    if (line.compare(0, kField.size(), kField) == 0) {
      return std::stoll(line.substr(kField.size()));  // "   1234 kB"
    }
  }
  return -1;
}

void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace sbd::bench

// Memory and CPU readings of this process or another (the server under test), for
// the RSS and CPU rows of docs/BENCHMARKS.md. Linux only (/proc, getrusage).
// Thread-safe: pure functions.
#ifndef SBD_BENCH_PROCESS_STATS_H_
#define SBD_BENCH_PROCESS_STATS_H_

#include <sys/types.h>

#include <cstdint>

namespace sbd::bench {

// This process's peak resident set since it started, KiB (getrusage).
int64_t PeakRssKib();

// The current resident set of process `pid` (VmRSS in /proc/PID/status),
// KiB; -1 if it cannot be read.
int64_t CurrentRssKib(pid_t pid);

// The CPU time process `pid` has used so far, user + system, in seconds
// (/proc/PID/stat; a clock tick's resolution); -1 if it cannot be read.
double CpuSeconds(pid_t pid);

// Raises this process's open-file limit to its hard limit (many sockets);
// children started afterwards inherit it.
void RaiseOpenFileLimit();

}  // namespace sbd::bench

#endif  // SBD_BENCH_PROCESS_STATS_H_

// The engine's limits, each with why it is what it is. The server's flags
// override the ones an operator would want to change.
//
// Thread-safety: compile-time constants only.
#ifndef SBD_ENGINE_LIMITS_H_
#define SBD_ENGINE_LIMITS_H_

#include <cstddef>

namespace sbd {

// Commands appended in one SQLite transaction. Large enough that one fsync
// (~100 us here) is amortised over thousands of transfers; small enough that
// a batch's events and undo data stay in cache and a commit stays ~10 ms.
inline constexpr size_t kBatchSizeMax = 4096;

// Commands waiting for the writer. Past this, Submit answers
// kResourceExhausted at once instead of letting latency grow without bound.
// 64k commands is ~16 full batches: far beyond any healthy backlog.
inline constexpr size_t kCommandQueueSizeMax = 65536;

// The writer takes up to a batch from the queue at a time: a queue that
// cannot hold one full batch would never let a batch fill.
static_assert(kCommandQueueSizeMax >= kBatchSizeMax, "the queue holds at least one full batch");
static_assert(kBatchSizeMax >= 1, "a batch holds at least one command");

// Accounts reserved in the projection at open; it grows past this as needed.
inline constexpr size_t kAccountsExpectedDefault = 1024;

}  // namespace sbd

#endif  // SBD_ENGINE_LIMITS_H_

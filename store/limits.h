// The store's limits, each with why it is what it is: how long SQLite may
// wait on a lock, how many idle read connections are kept, and the shape of
// the pipelined long read. None is a flag: none is something an operator
// tunes (they trade CPU and memory of one process, measured here).
//
// Thread-safety: constants only.
#ifndef SBD_STORE_LIMITS_H_
#define SBD_STORE_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace sbd {

// How long a connection waits on a lock held by another connection before
// giving up with SQLITE_BUSY (-> kUnavailable). Readers in WAL mode only wait
// during WAL recovery; the writer only when another process writes the file.
inline constexpr int kBusyTimeoutMs = 5000;

// Idle read connections kept open for reuse. Each reading thread holds one
// while it reads; more than this many are closed on return rather than kept,
// so a burst of readers does not pin file handles and page caches forever.
inline constexpr size_t kIdleReadersMax = 16;

// Reads of at least this many events (the replay at open, sbd-replay) step
// SQLite on a second thread, which fills chunks of rows while the calling
// thread checks the hash chain and visits (store/pipelined_read.h). Below
// it, a second thread costs more than it saves.
inline constexpr int64_t kPipelinedReadEventsMin = 4096;

// Rows per chunk the pipelined read hands from its stepping thread to the
// visiting one: large enough that the hand-over (a lock and a wakeup) is
// amortised over many rows, small enough that a chunk stays in cache.
inline constexpr size_t kChunkEvents = 1024;

// Filled chunks queued at once: the stepping thread runs at most this far
// ahead, which bounds the read's memory (kChunksInFlight * kChunkEvents
// events) however long the range.
inline constexpr size_t kChunksInFlight = 4;

// Rows hashed per claim, the unit of hashing work the two threads of a
// pipelined read share: small enough to spread a chunk over both, large
// enough that the claims (one atomic each) cost nothing beside the hashing.
inline constexpr size_t kHashBlockEvents = 64;
static_assert(kChunkEvents % kHashBlockEvents == 0, "a chunk is whole hash blocks");

}  // namespace sbd

#endif  // SBD_STORE_LIMITS_H_

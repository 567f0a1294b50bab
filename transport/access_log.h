// AccessLog: the server's log lines (one per request, accept errors, the
// shutdown messages), written to a file descriptor (stderr) without ever
// making the caller wait on it. A log collector that stops reading a pipe
// must not stall the io threads that serve requests.
//
// Append copies a whole line into a bounded in-memory buffer and returns; a
// thread of its own writes the buffer to the fd. A line that does not fit
// (the fd is not draining) is dropped whole and counted (Metrics'
// sbd_access_log_dropped_total); once the fd takes lines again, the thread
// writes "access log: N lines dropped (...)" where the gap is. Lines are
// never split or interleaved: each is at most PIPE_BUF bytes (longer ones
// are cut) and goes out in one write(2), which a pipe takes whole.
//
// The writer never blocks for long either: it polls the fd for POLLOUT (with
// a timeout, so it sees a shutdown) and then writes at most PIPE_BUF bytes,
// which a writable pipe takes without blocking; a socket is written with
// MSG_DONTWAIT. The fd itself is left blocking (stderr's file description is
// shared with the parent). The destructor flushes what is buffered for at
// most a second, then counts the rest as dropped: a reader that does not
// read cannot hang a shutdown.
//
// Thread-safety: Append and dropped_total may be called from any thread;
// construct and destroy from one. The fd and the Metrics (if any) must
// outlive the AccessLog; the fd is not closed.
#ifndef SBD_TRANSPORT_ACCESS_LOG_H_
#define SBD_TRANSPORT_ACCESS_LOG_H_

#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "engine/mutex.h"
#include "transport/limits.h"

namespace sbd {

class Metrics;

class AccessLog {
 public:
  // A line, its newline included, is at most this long (longer ones are
  // cut), so it goes out in one write(2) that a pipe takes whole.
  static constexpr size_t kLineBytesMax = PIPE_BUF;
  static_assert(kAccessLogBufferBytesMax >= kLineBytesMax,
                "the default buffer must hold at least one whole line");

  struct Options {
    int fd = 2;  // stderr.
    // Bytes buffered before lines are dropped; at least kLineBytesMax.
    size_t buffer_bytes_max = kAccessLogBufferBytesMax;
    Metrics* metrics = nullptr;  // Counts the drops if not null.
  };

  explicit AccessLog(Options options);
  ~AccessLog();  // Flushes for a bounded time; see above.
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Queues `line` (one line, without its newline) or drops it; never waits
  // on the fd.
  void Append(std::string_view line);

  // Lines dropped so far (buffer full, a write error, or given up at
  // shutdown).
  uint64_t dropped_total() const { return dropped_total_.load(std::memory_order_relaxed); }

 private:
  enum class WriteResult { kDone, kFailed, kStopped };

  // The writer thread: takes the buffer, writes it, until stopped.
  void Drain();
  // Writes `bytes`, whole lines at a time; `written` says how far it got.
  // kFailed: the fd gave an error; kStopped: the shutdown deadline passed.
  WriteResult WriteOut(std::string_view bytes, size_t& written);
  bool StopDeadlinePassed();
  // Enough lines buffered to write them now rather than gather more.
  bool GatheredEnough() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    mutex_.AssertHeld();
    return buffer_.size() >= buffer_bytes_max_ / 2;
  }
  // Counts `lines` lines as dropped (the caller knows they will never be
  // written).
  void CountDropped(uint64_t lines);

  const int fd_;
  const size_t buffer_bytes_max_;
  Metrics* const metrics_;
  bool fd_is_socket_ = false;  // Set by the constructor only.
  std::atomic<uint64_t> dropped_total_{0};

  // Never held during I/O.
  Mutex mutex_;
  CondVar wake_;
  std::string buffer_ ABSL_GUARDED_BY(mutex_);  // Whole lines, '\n' ended.
  // Dropped since the last "lines dropped" line.
  uint64_t dropped_unreported_ ABSL_GUARDED_BY(mutex_) = 0;
  bool drain_waiting_ ABSL_GUARDED_BY(mutex_) = false;  // Drain sleeps on wake_.
  // Drain lets lines gather (kAccessLogGatherInterval) until the buffer is
  // half full, a line is dropped, or the log stops.
  bool drain_gathering_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::chrono::steady_clock::time_point stop_deadline_ ABSL_GUARDED_BY(mutex_);

  std::thread drain_;  // Last: starts once everything above is set.
};

}  // namespace sbd

#endif  // SBD_TRANSPORT_ACCESS_LOG_H_

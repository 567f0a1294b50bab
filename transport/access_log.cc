#include "transport/access_log.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/metrics.h"

namespace sbd {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kDroppedSuffix[] = " lines dropped (stderr not draining)\n";

uint64_t CountLines(std::string_view bytes) {
  return static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
}

}  // namespace

AccessLog::AccessLog(Options options)
    : fd_(options.fd), buffer_bytes_max_(options.buffer_bytes_max), metrics_(options.metrics) {
  assert(buffer_bytes_max_ >= kLineBytesMax);  // Else a drop could leave the buffer empty.
  struct stat status;
  fd_is_socket_ = fstat(fd_, &status) == 0 && S_ISSOCK(status.st_mode);
  drain_ = std::thread([this] { Drain(); });
}

AccessLog::~AccessLog() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
    stop_deadline_ = Clock::now() + kAccessLogShutdownFlushTimeout;
  }
  wake_.Signal();
  drain_.join();
}

void AccessLog::Append(std::string_view line) {
  line = line.substr(0, kLineBytesMax - 1);  // Room for the newline.
  bool wake = false;
  bool dropped = false;
  {
    MutexLock lock(mutex_);
    if (buffer_.size() + line.size() + 1 > buffer_bytes_max_) {
      // The buffer holds at least one line (buffer_bytes_max_ >=
      // kLineBytesMax), so the writer is awake and will report this.
      ++dropped_unreported_;
      dropped = true;
      wake = std::exchange(drain_gathering_, false);
    } else {
      buffer_.append(line.data(), line.size());
      buffer_.push_back('\n');
      wake = std::exchange(drain_waiting_, false);  // One wake-up is enough.
      if (drain_gathering_ && GatheredEnough()) wake = std::exchange(drain_gathering_, false);
    }
  }
  if (wake) wake_.Signal();
  if (dropped) CountDropped(1);
}

void AccessLog::CountDropped(uint64_t lines) {
  if (lines == 0) return;
  dropped_total_.fetch_add(lines, std::memory_order_relaxed);
  if (metrics_ != nullptr) metrics_->CountAccessLogDropped(lines);
}

bool AccessLog::StopDeadlinePassed() {
  MutexLock lock(mutex_);
  return stopping_ && Clock::now() >= stop_deadline_;
}

void AccessLog::Drain() {
  std::string writing;  // Swapped with buffer_, so both keep their capacity.
  for (;;) {
    uint64_t dropped = 0;
    {
      MutexLock lock(mutex_);
      while (buffer_.empty() && dropped_unreported_ == 0 && !stopping_) {
        drain_waiting_ = true;
        wake_.Wait(mutex_);
      }
      drain_waiting_ = false;
      if (buffer_.empty() && dropped_unreported_ == 0) return;  // Stopping, all written.
      // Let the lines of a busy moment gather into one write (Append wakes
      // us early once there are enough of them, as does the destructor).
      const Clock::time_point gather_until = Clock::now() + kAccessLogGatherInterval;
      drain_gathering_ = true;
      while (drain_gathering_ && !stopping_ && dropped_unreported_ == 0 && !GatheredEnough() &&
             wake_.WaitUntil(mutex_, gather_until)) {
      }
      drain_gathering_ = false;
      writing.clear();
      writing.swap(buffer_);
      dropped = dropped_unreported_;
      dropped_unreported_ = 0;
    }
    // The drops came after the lines just taken (they happen only once the
    // buffer is full), so the report goes right after them.
    const size_t lines_end = writing.size();
    if (dropped > 0) absl::StrAppend(&writing, "access log: ", dropped, kDroppedSuffix);
    size_t written = 0;
    const WriteResult result = WriteOut(writing, written);
    if (result == WriteResult::kDone) continue;
    // The lines not written are dropped. A report not written is not made
    // again (on a broken fd that would never end); /metrics has the count.
    if (written < lines_end) {
      CountDropped(CountLines(std::string_view(writing).substr(written, lines_end - written)));
    }
    if (result == WriteResult::kStopped) {
      MutexLock lock(mutex_);
      CountDropped(CountLines(buffer_));
      buffer_.clear();
      return;
    }
  }
}

AccessLog::WriteResult AccessLog::WriteOut(std::string_view bytes, size_t& written) {
  while (written < bytes.size()) {
    if (StopDeadlinePassed()) return WriteResult::kStopped;
    // Up to the last newline within PIPE_BUF bytes: whole lines per write.
    std::string_view rest = bytes.substr(written);
    if (rest.size() > kLineBytesMax) {
      const size_t newline = rest.rfind('\n', kLineBytesMax - 1);
      rest = rest.substr(0, newline == std::string_view::npos ? kLineBytesMax : newline + 1);
    }
    pollfd poll_fd{fd_, POLLOUT, 0};
    const int ready = poll(&poll_fd, 1, static_cast<int>(kAccessLogPollTimeout.count()));
    if (ready < 0 && errno != EINTR) return WriteResult::kFailed;
    if (ready <= 0) continue;  // Not writable yet (or a signal): look at the deadline again.
    // POLLERR: a pipe's reader is gone (writing would raise SIGPIPE).
    if ((poll_fd.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) return WriteResult::kFailed;
    if ((poll_fd.revents & POLLOUT) == 0) continue;
    // A pipe that polled writable has room for PIPE_BUF bytes, so this write
    // does not block; a socket might, hence MSG_DONTWAIT (per call, so the
    // shared file description stays blocking).
    const ssize_t result = fd_is_socket_
                               ? send(fd_, rest.data(), rest.size(), MSG_DONTWAIT | MSG_NOSIGNAL)
                               : write(fd_, rest.data(), rest.size());
    if (result < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return WriteResult::kFailed;
    }
    written += static_cast<size_t>(result);
  }
  return WriteResult::kDone;
}

}  // namespace sbd

#include "store/pipelined_read.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <deque>
#include <exception>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "engine/mutex.h"
#include "store/event_hash.h"
#include "store/limits.h"

namespace sbd {
namespace {

constexpr size_t kHashBlocksPerChunk = kChunkEvents / kHashBlockEvents;

// Rows read ahead by the producer. Blocks of kHashBlockEvents rows are hashed
// by whichever thread claims them first (claims go in order).
struct Chunk {
  std::vector<Event> events = std::vector<Event>(kChunkEvents);
  std::vector<EventHash> recorded = std::vector<EventHash>(kChunkEvents);
  std::vector<EventHash> computed = std::vector<EventHash>(kChunkEvents);
  EventHash previous{};  // The recorded hash of the row before events[0].
  size_t size = 0;
  std::atomic<size_t> next_block{0};
  std::array<std::atomic<bool>, kHashBlocksPerChunk> block_hashed{};

  // Before the producer refills it; no other thread holds it then.
  void Clear(const EventHash& previous_recorded) {
    previous = previous_recorded;
    size = 0;
    next_block.store(0, std::memory_order_relaxed);
    for (std::atomic<bool>& hashed : block_hashed) hashed.store(false, std::memory_order_relaxed);
  }

  // Claims the next unhashed block and hashes it; false if none is left.
  bool HashNextBlock() {
    const size_t block = next_block.fetch_add(1, std::memory_order_relaxed);
    const size_t begin = block * kHashBlockEvents;
    if (begin >= size) return false;
    const size_t end = std::min(size, begin + kHashBlockEvents);
    for (size_t i = begin; i < end; ++i) {
      computed[i] = ChainHash(i == 0 ? previous : recorded[i - 1], events[i]);
    }
    block_hashed[block].store(true, std::memory_order_release);
    return true;
  }

  // Waits until row `i`'s hash is computed, hashing blocks meanwhile.
  void AwaitHashed(size_t i) {
    assert(i < size);
    const size_t block = i / kHashBlockEvents;
    while (!block_hashed[block].load(std::memory_order_acquire)) {
      if (!HashNextBlock()) std::this_thread::yield();  // The other thread has it.
    }
  }

  bool HasUnclaimedBlocks() const {
    return next_block.load(std::memory_order_relaxed) * kHashBlockEvents < size;
  }
};

// One pipelined read: the producer (a second thread) steps `range_` into
// chunks and queues them in full_; the consumer (the calling thread) checks
// and visits them in order and hands them back through spare_ for reuse.
class PipelinedRead {
 public:
  explicit PipelinedRead(RowStatement& range) : range_(range) {}

  // Runs the read; see ReadPipelined.
  absl::Status Run(ChainVerifier& chain, absl::FunctionRef<absl::Status(const Event&)> visit);

 private:
  // The producer thread's body. `previous`: the recorded hash of the row
  // before the first one `range_` returns.
  void Produce(EventHash previous);
  // Returns once the queue has room or the read is cancelled. While the
  // queue is full, hashes the newest queued chunk's rows (the consumer
  // reaches it last); waits only when there is nothing left to hash.
  void AwaitRoomHashingMeanwhile();
  // A chunk to fill (a spare one if any), or null once the read is cancelled.
  std::unique_ptr<Chunk> ChunkToFill();
  // Steps `range_` into `chunk`; false once the range ends or a row is bad
  // (row_status_).
  bool Fill(Chunk& chunk);
  void Publish(std::unique_ptr<Chunk> chunk);

  // The next filled chunk in seq order, or null once the producer is done
  // and every chunk is taken.
  std::unique_ptr<Chunk> NextFilled();
  void Recycle(std::unique_ptr<Chunk> chunk);
  void Cancel();

  RowStatement& range_;  // Stepped by the producer only.
  Mutex mutex_;
  CondVar changed_;  // Signalled at every change to what mutex_ guards.
  std::deque<std::unique_ptr<Chunk>> full_ ABSL_GUARDED_BY(mutex_);    // Filled, in seq order.
  std::vector<std::unique_ptr<Chunk>> spare_ ABSL_GUARDED_BY(mutex_);  // Visited, for reuse.
  bool done_ ABSL_GUARDED_BY(mutex_) = false;       // The producer queues no more.
  bool cancelled_ ABSL_GUARDED_BY(mutex_) = false;  // The consumer takes no more.
  absl::Status row_status_;                         // Producer only, read after join.
  std::exception_ptr failure_;                      // Producer only, read after join.
};

absl::Status PipelinedRead::Run(ChainVerifier& chain,
                                absl::FunctionRef<absl::Status(const Event&)> visit) {
  std::thread producer([this, previous = chain.previous()] { Produce(previous); });
  absl::Status result;
  while (result.ok()) {
    std::unique_ptr<Chunk> chunk = NextFilled();
    if (chunk == nullptr) break;
    for (size_t i = 0; i < chunk->size && result.ok(); ++i) {
      chunk->AwaitHashed(i);
      result = chain.CheckHashed(chunk->events[i], chunk->recorded[i], chunk->computed[i]);
      if (result.ok()) result = visit(chunk->events[i]);
    }
    // Every claimed block is finished before the chunk is recycled.
    for (size_t i = 0; i < chunk->size; i += kHashBlockEvents) chunk->AwaitHashed(i);
    Recycle(std::move(chunk));
  }
  Cancel();
  producer.join();
  if (failure_) std::rethrow_exception(failure_);
  // A bad row comes after every row that was read before it.
  return result.ok() ? row_status_ : result;
}

void PipelinedRead::Produce(EventHash previous) {
  try {
    for (bool end = false; !end;) {
      AwaitRoomHashingMeanwhile();
      std::unique_ptr<Chunk> chunk = ChunkToFill();
      if (chunk == nullptr) break;
      chunk->Clear(previous);
      end = !Fill(*chunk);
      if (chunk->size > 0) previous = chunk->recorded[chunk->size - 1];
      Publish(std::move(chunk));
    }
  } catch (...) {
    failure_ = std::current_exception();
  }
  {
    MutexLock lock(mutex_);
    done_ = true;
  }
  changed_.SignalAll();
}

void PipelinedRead::AwaitRoomHashingMeanwhile() {
  for (;;) {
    Chunk* to_hash = nullptr;
    {
      MutexLock lock(mutex_);
      if (cancelled_ || full_.size() < kChunksInFlight) return;
      for (auto it = full_.rbegin(); it != full_.rend() && !to_hash; ++it) {
        if ((*it)->HasUnclaimedBlocks()) to_hash = it->get();
      }
      if (!to_hash) {
        while (!cancelled_ && full_.size() >= kChunksInFlight) changed_.Wait(mutex_);
        return;
      }
    }
    // Safe outside the lock: a chunk is recycled only by this thread, and the
    // consumer cannot finish it while a claimed block is open.
    to_hash->HashNextBlock();
  }
}

std::unique_ptr<Chunk> PipelinedRead::ChunkToFill() {
  {
    MutexLock lock(mutex_);
    if (cancelled_) return nullptr;
    if (!spare_.empty()) {
      std::unique_ptr<Chunk> chunk = std::move(spare_.back());
      spare_.pop_back();
      return chunk;
    }
  }
  return std::make_unique<Chunk>();
}

bool PipelinedRead::Fill(Chunk& chunk) {
  assert(chunk.size == 0);
  bool end = false;
  while (chunk.size < kChunkEvents && !end) {
    const bool row = range_.Step();
    if (row)
      row_status_ = ReadRow(range_.get(), chunk.events[chunk.size], chunk.recorded[chunk.size]);
    end = !row || !row_status_.ok();
    if (!end) ++chunk.size;
  }
  return !end;
}

void PipelinedRead::Publish(std::unique_ptr<Chunk> chunk) {
  {
    MutexLock lock(mutex_);
    full_.push_back(std::move(chunk));
  }
  changed_.SignalAll();
}

std::unique_ptr<Chunk> PipelinedRead::NextFilled() {
  std::unique_ptr<Chunk> chunk;
  {
    MutexLock lock(mutex_);
    while (full_.empty() && !done_) changed_.Wait(mutex_);
    if (full_.empty()) return nullptr;
    chunk = std::move(full_.front());
    full_.pop_front();
  }
  changed_.SignalAll();  // The producer may be waiting for room.
  return chunk;
}

void PipelinedRead::Recycle(std::unique_ptr<Chunk> chunk) {
  MutexLock lock(mutex_);
  spare_.push_back(std::move(chunk));
}

void PipelinedRead::Cancel() {
  {
    MutexLock lock(mutex_);
    cancelled_ = true;
  }
  changed_.SignalAll();
}

}  // namespace

absl::Status ReadPipelined(RowStatement& range, ChainVerifier& chain,
                           absl::FunctionRef<absl::Status(const Event&)> visit) {
  PipelinedRead read(range);
  return read.Run(chain, visit);
}

}  // namespace sbd

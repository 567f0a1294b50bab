#include "store/range_read.h"

#include <SQLiteCpp/Column.h>

#include <cassert>

#include "store/chain_verifier.h"
#include "store/event_hash.h"
#include "store/event_row.h"
#include "store/limits.h"
#include "store/pipelined_read.h"

namespace sbd {

absl::Status ReadRange(ReaderPool::Reader& reader, int64_t from_seq, int64_t to_seq,
                       absl::FunctionRef<absl::Status(const Event&)> visit) {
  assert(from_seq >= 1 && to_seq >= from_seq);
  EventHash previous = kGenesisHash;
  bool previous_missing = false;
  if (from_seq > 1) {
    reader.hash_at.bind(1, from_seq - 1);
    if (reader.hash_at.executeStep()) {
      if (absl::Status status =
              ReadRecordedHash(reader.hash_at.getColumn(0), from_seq - 1, previous);
          !status.ok()) {
        return status;
      }
    } else {
      // Fine if the range is past the end; a break if any event follows.
      previous_missing = true;
    }
    reader.hash_at.reset();
  }
  reader.range.Bind(1, from_seq);
  reader.range.Bind(2, to_seq);
  ChainVerifier chain(from_seq, previous, previous_missing);
  if (to_seq - from_seq + 1 >= kPipelinedReadEventsMin) {
    return ReadPipelined(reader.range, chain, visit);
  }
  Event event;
  EventHash recorded;
  while (reader.range.Step()) {
    if (absl::Status status = ReadRow(reader.range.get(), event, recorded); !status.ok()) {
      return status;
    }
    if (absl::Status status = chain.Check(event, recorded); !status.ok()) return status;
    if (absl::Status status = visit(event); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace sbd

#include "engine/batch.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/error_code.h"

namespace sbd {
namespace {

// A failed append fails every caller of the batch, even one whose command
// was rejected or replayed: its answer was decided against a state that
// included the batch's earlier, now discarded, commands.
void AnswerOne(CommandDone done, Decision& decision, std::vector<Event>& events, bool move_event,
               const absl::Status& committed) {
  if (!committed.ok()) {
    std::move(done)(
        MakeError(ErrorCode::kUnavailable,
                  absl::StrCat("the event log cannot be written: ", committed.message())));
  } else if (!decision.accepted()) {
    std::move(done)(std::move(decision.rejection));
  } else if (decision.replayed_event) {
    std::move(done)(CommandResult{std::move(*decision.replayed_event), true});
  } else {
    assert(*decision.event_index < events.size() && "a decision names an event of its batch");
    Event& event = events[*decision.event_index];
    std::move(done)(
        CommandResult{move_event ? std::move(event) : Event(event), decision.duplicate});
  }
}

}  // namespace

Batch::Batch(std::vector<QueuedCommand> commands, const Projector& projection, const EventLog& log,
             const Batch* ahead)
    : commands_(std::move(commands)),
      state_(projection, log, ahead != nullptr ? &ahead->state_ : nullptr, commands_.size()) {
  assert(!commands_.empty() && "a batch holds at least one command");
  assert((ahead == nullptr || !ahead->answered_) && "the batch ahead must still hold its events");
}

void Batch::Decide(Decider& decider) {
  assert(decisions_.empty() && !commit_ && "a batch is decided once, before its append");
  decisions_.reserve(commands_.size());
  for (QueuedCommand& queued : commands_) {
    decisions_.push_back(decider.Decide(queued.command, state_));
  }
  assert(decisions_.size() == commands_.size() && events().size() <= commands_.size());
}

void Batch::RecordCommit(CommitResult result) {
  assert(decisions_.size() == commands_.size() && "only a decided batch is committed");
  assert(!commit_ && "a batch's commit is recorded once");
  commit_ = std::move(result);
}

void Batch::Answer() {
  assert(commit_ && !answered_ && "a batch is answered once, after its commit");
  assert(decisions_.size() == commands_.size() && "one decision per command");
  answered_ = true;
  // Published and applied: the batch's events are no longer needed (the
  // batch decided on top of this one is decided already), so each caller
  // gets its event moved, not copied, unless a replay in the batch shares it.
  std::vector<Event>& answers = state_.events_to_answer();
  const bool shared = std::any_of(decisions_.begin(), decisions_.end(), [](const Decision& d) {
    return d.duplicate && d.event_index.has_value();
  });
  for (size_t i = 0; i < commands_.size(); ++i) {
    AnswerOne(std::move(commands_[i].done), decisions_[i], answers, !shared, commit_->status);
  }
}

}  // namespace sbd

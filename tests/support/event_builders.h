// Hand-built events for tests that feed a Projector or a Notifier directly,
// without a Ledger to number and balance them (tests/store/test_ledger.h
// builds whole consistent logs; these build one event each).
//
// Thread-safety: pure functions.
#ifndef SBD_TESTS_SUPPORT_EVENT_BUILDERS_H_
#define SBD_TESTS_SUPPORT_EVENT_BUILDERS_H_

#include <cstdint>
#include <string>
#include <utility>

#include "engine/event.h"

namespace sbd::testing {

// Event `seq`: the admin opened `account`.
inline Event Opened(int64_t seq, std::string account) {
  Event event;
  event.seq = seq;
  event.type = EventType::kAccountOpened;
  event.actor = "admin";
  event.to_account = std::move(account);
  return event;
}

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_EVENT_BUILDERS_H_

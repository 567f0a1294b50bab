// TestLedger: builds consistent events (gapless seqs, correct balances) by
// hand, so store and tool tests can write real logs without the engine's
// Ledger. Test-only; not thread-safe.
#ifndef SBD_TESTS_STORE_TEST_LEDGER_H_
#define SBD_TESTS_STORE_TEST_LEDGER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/event.h"

namespace sbd::testing {

class TestLedger {
 public:
  // 2026-11-26T15:04:05.000Z, then one second per event.
  static constexpr int64_t kFirstTimestampMs = 1795705445000;

  Event Open(const std::string& account) {
    Event event = Next(EventType::kAccountOpened, "admin");
    event.to_account = account;
    balances_[account] = 0;
    return Add(event);
  }

  Event Mint(const std::string& account, int64_t amount, const std::string& reason = "") {
    Event event = Next(EventType::kTokensMinted, "admin");
    event.to_account = account;
    event.amount = amount;
    event.to_balance = balances_[account] += amount;
    event.note = reason;
    return Add(event);
  }

  Event Transfer(const std::string& from, const std::string& to, int64_t amount,
                 const std::string& note = "") {
    Event event = Next(EventType::kTokensTransferred, from);
    event.from_account = from;
    event.to_account = to;
    event.amount = amount;
    event.from_balance = balances_[from] -= amount;
    event.to_balance = balances_[to] += amount;
    event.note = note;
    return Add(event);
  }

  // A transfer `actor` (a service or admin) made on behalf of `from`
  // (POST /admin/transfer), with its reason.
  Event ServiceTransfer(const std::string& actor, const std::string& from, const std::string& to,
                        int64_t amount, const std::string& reason, const std::string& note = "") {
    Event event = Transfer(from, to, amount, note);
    event.actor = actor;
    event.reason = reason;
    events_.back() = event;
    return event;
  }

  Event SetNote(const std::string& actor, const std::string& transaction_id,
                const std::string& note) {
    Event event = Next(EventType::kTransactionNoteSet, actor);
    event.transaction_id = transaction_id;
    event.note = note;
    return Add(event);
  }

  const std::vector<Event>& events() const { return events_; }
  const std::map<std::string, int64_t>& balances() const { return balances_; }

 private:
  Event Next(EventType type, const std::string& actor) {
    Event event;
    event.seq = static_cast<int64_t>(events_.size()) + 1;
    event.type = type;
    event.timestamp_ms = kFirstTimestampMs + 1000 * (event.seq - 1);
    event.actor = actor;
    // As the engine records them: opens carry no transaction_id.
    if (type == EventType::kTokensMinted || type == EventType::kTokensTransferred) {
      event.transaction_id = "tx-" + std::to_string(event.seq);
    }
    return event;
  }

  Event Add(const Event& event) {
    events_.push_back(event);
    return event;
  }

  std::vector<Event> events_;
  std::map<std::string, int64_t> balances_;
};

}  // namespace sbd::testing

#endif  // SBD_TESTS_STORE_TEST_LEDGER_H_

#include "bench/synthetic_log.h"

#include <cassert>
#include <cstdio>

namespace sbd::bench {
namespace {

// A fixed clock start (2026-01-01T00:00:00Z) and 10 events per millisecond:
// timestamps look like a busy day's and never go backwards.
constexpr int64_t kEpochMs = 1'767'225'600'000;
constexpr int64_t kEventsPerMs = 10;

constexpr const char* kAdmin = "admin";

}  // namespace

std::string AccountName(size_t index) {
  char name[32];
  std::snprintf(name, sizeof(name), "user%07zu", index);
  return name;
}

SyntheticLog::SyntheticLog(size_t accounts, uint64_t seed) : random_(seed) {
  assert(accounts >= 2 && "transfers need two distinct accounts");
  names_.reserve(accounts);
  for (size_t i = 0; i < accounts; ++i) names_.push_back(AccountName(i));
  balances_.assign(accounts, 0);
}

std::string SyntheticLog::TransactionId() {
  const uint64_t high = random_();
  const uint64_t low = random_();
  char id[40];
  std::snprintf(id, sizeof(id), "%08llx-%04llx-4%03llx-8%03llx-%012llx",
                static_cast<unsigned long long>(high >> 32),
                static_cast<unsigned long long>((high >> 16) & 0xffff),
                static_cast<unsigned long long>(high & 0xfff),
                static_cast<unsigned long long>(low >> 52),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return id;
}

Event SyntheticLog::Next() {
  Event event;
  Fill(event);
  return event;
}

void SyntheticLog::NextBatch(size_t count, std::vector<Event>& events) {
  events.resize(count);
  for (Event& event : events) Fill(event);
}

void SyntheticLog::Fill(Event& event) {
  const int64_t seq = ++seq_;
  const size_t accounts = names_.size();
  event.seq = seq;
  event.timestamp_ms = kEpochMs + seq / kEventsPerMs;
  event.note.clear();
  event.from_account.clear();
  event.amount = 0;
  event.from_balance = 0;
  if (seq <= static_cast<int64_t>(accounts)) {
    const size_t index = static_cast<size_t>(seq - 1);
    event.type = EventType::kAccountOpened;
    event.actor = kAdmin;
    event.to_account = names_[index];
    event.to_balance = 0;
    event.transaction_id.clear();
    return;
  }
  if (seq <= static_cast<int64_t>(2 * accounts)) {
    const size_t index = static_cast<size_t>(seq - 1) - accounts;
    balances_[index] = kStartingBalance;
    event.type = EventType::kTokensMinted;
    event.actor = kAdmin;
    event.to_account = names_[index];
    event.amount = kStartingBalance;
    event.to_balance = kStartingBalance;
    event.transaction_id = TransactionId();
    return;
  }
  const size_t from = random_() % accounts;
  const size_t to = (from + 1 + random_() % (accounts - 1)) % accounts;
  balances_[from] -= 1;
  balances_[to] += 1;
  assert(balances_[from] >= 0 && "kStartingBalance ran out");
  event.type = EventType::kTokensTransferred;
  event.actor = names_[from];
  event.from_account = names_[from];
  event.to_account = names_[to];
  event.amount = 1;
  event.from_balance = balances_[from];
  event.to_balance = balances_[to];
  event.transaction_id = TransactionId();
}

}  // namespace sbd::bench

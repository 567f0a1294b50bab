#include "bench/synthetic_export.h"

#include <cassert>
#include <cstdio>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/synthetic_log.h"

namespace sbd::bench {
namespace {

constexpr int64_t kStartS = 1'714'564'800;  // 2024-05-01T12:00:00Z.
constexpr int64_t kSignupGrant = 100;       // Tokens every user starts with, unrecorded.
constexpr int64_t kAmountMax = 20;          // Per entry: small, like the origin's.
constexpr const char* kShop = "emotion_tracker_shop";
constexpr const char* kAds = "sbd_ads";
constexpr const char* kNotes[] = {"lunch", "thanks!", "café ☕", "日本のお土産",
                                  "Checkout cart for emotion_tracker_shop"};

// Python's datetime.isoformat() of an aware UTC time, with microseconds.
std::string IsoTimestamp(int64_t us) {
  const time_t seconds = static_cast<time_t>(us / 1'000'000);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  char text[96];  // Room for any int the fields could hold (GCC checks).
  std::snprintf(text, sizeof(text), "\"%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00\"",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                utc.tm_sec, static_cast<long long>(us % 1'000'000));
  return text;
}

class Generator {
 public:
  Generator(size_t users, uint64_t seed) : random_(seed), balances_(users, kSignupGrant) {
    entries_.resize(users);
  }

  std::string Run(size_t entries_wanted, SyntheticExportStats* stats) {
    const size_t users = balances_.size();
    int64_t now_us = kStartS * 1'000'000;
    while (entry_count_ < entries_wanted) {
      now_us += 1 + static_cast<int64_t>(random_() % 2000);
      const unsigned kind = static_cast<unsigned>(random_() % 100);
      const size_t user = random_() % users;
      const int64_t amount = 1 + static_cast<int64_t>(random_() % kAmountMax);
      const std::string id = Uuid();
      const std::string note = random_() % 4 == 0 ? kNotes[random_() % std::size(kNotes)] : "";
      if (kind < 15) {  // An ad reward.
        Add(user, "receive", "from", kAds, amount, now_us, id, note);
        balances_[user] += amount;
      } else if (kind < 30 || users < 2) {  // A purchase, if affordable.
        if (balances_[user] < amount) continue;
        Add(user, "send", "to", kShop, amount, now_us, id, note);
        balances_[user] -= amount;
      } else {  // A transfer: both halves, the same id, time and note.
        size_t other = random_() % (users - 1);
        if (other >= user) ++other;
        if (balances_[user] < amount) continue;
        Add(user, "send", "to", AccountName(other), amount, now_us, id, note);
        Add(other, "receive", "from", AccountName(user), amount, now_us, id, note);
        balances_[user] -= amount;
        balances_[other] += amount;
        ++pairs_;
      }
    }
    std::string text;
    text.reserve(bytes_ + users * 160);
    for (size_t user = 0; user < users; ++user) {
      char oid[25];
      std::snprintf(oid, sizeof(oid), "%024zx", user);
      absl::StrAppend(&text, R"({"_id":{"$oid":")", oid, R"("},"username":")", AccountName(user),
                      R"(","email":")", AccountName(user), R"(@example.com","sbd_tokens":)");
      if (user % 2 == 0) {
        absl::StrAppend(&text, R"({"$numberLong":")", balances_[user], R"("})");
      } else {
        absl::StrAppend(&text, balances_[user]);
      }
      absl::StrAppend(&text, R"(,"sbd_tokens_transactions":[)", entries_[user], "]}\n");
    }
    if (stats != nullptr) *stats = {users, entry_count_, pairs_};
    return text;
  }

 private:
  std::string Uuid() {
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

  void Add(size_t user, const char* type, const char* party_key, const std::string& party,
           int64_t amount, int64_t at_us, const std::string& id, const std::string& note) {
    std::string& out = entries_[user];
    const size_t before = out.size();
    if (!out.empty()) out += ',';
    absl::StrAppend(&out, R"({"type":")", type, R"(",")", party_key, R"(":")", party,
                    R"(","amount":)");
    if (amount % 3 == 0) {
      absl::StrAppend(&out, R"({"$numberInt":")", amount, R"("})");
    } else {
      absl::StrAppend(&out, amount);
    }
    absl::StrAppend(&out, R"(,"timestamp":)");
    if (at_us % 10 == 0) {  // Now and then a BSON date, as some writers stored.
      absl::StrAppend(&out, R"({"$date":{"$numberLong":")", at_us / 1000, R"("}})");
    } else {
      out += IsoTimestamp(at_us);
    }
    absl::StrAppend(&out, R"(,"transaction_id":")", id, "\"");
    if (!note.empty()) absl::StrAppend(&out, R"(,"note":")", note, "\"");
    out += '}';
    bytes_ += out.size() - before;
    ++entry_count_;
  }

  std::mt19937_64 random_;
  std::vector<int64_t> balances_;
  std::vector<std::string> entries_;  // Each user's entries, comma-separated JSON.
  size_t entry_count_ = 0;
  size_t pairs_ = 0;
  size_t bytes_ = 0;
};

}  // namespace

std::string MakeSyntheticExport(size_t users, size_t entries, uint64_t seed,
                                SyntheticExportStats* stats) {
  assert(users >= 1 && "an export needs a user");
  return Generator(users, seed).Run(entries, stats);
}

}  // namespace sbd::bench

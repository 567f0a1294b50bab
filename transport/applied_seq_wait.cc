#include "transport/applied_seq_wait.h"

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <utility>

namespace sbd {
namespace {

constexpr std::chrono::milliseconds kPollInterval{1};

class SeqWait : public std::enable_shared_from_this<SeqWait> {
 public:
  SeqWait(const Ledger& ledger, int64_t seq, std::chrono::milliseconds wait_max,
          const SessionStrand& executor, absl::AnyInvocable<void(bool) &&> done)
      : ledger_(ledger),
        seq_(seq),
        until_(std::chrono::steady_clock::now() + wait_max),
        timer_(executor),
        done_(std::move(done)) {}

  void Look() {
    if (ledger_.LastSeq() >= seq_) return std::move(done_)(true);
    if (std::chrono::steady_clock::now() >= until_) return std::move(done_)(false);
    timer_.expires_after(kPollInterval);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->Look(); });
  }

 private:
  using Timer =
      boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                        boost::asio::wait_traits<std::chrono::steady_clock>,
                                        SessionStrand>;
  const Ledger& ledger_;
  const int64_t seq_;
  const std::chrono::steady_clock::time_point until_;
  Timer timer_;
  absl::AnyInvocable<void(bool) &&> done_;
};

}  // namespace

void WaitForAppliedSeq(const Ledger& ledger, int64_t seq, std::chrono::milliseconds wait_max,
                       const SessionStrand& executor, absl::AnyInvocable<void(bool) &&> done) {
  if (ledger.LastSeq() >= seq) return std::move(done)(true);
  std::make_shared<SeqWait>(ledger, seq, wait_max, executor, std::move(done))->Look();
}

}  // namespace sbd

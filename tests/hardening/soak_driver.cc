// sbd-soak: the soak of issue 6 (run by tools/soak.sh; not part of the
// default test run). Starts sbd-ledger on a fresh log (or targets a running
// one), opens one account per WebSocket client and then, for --duration
// seconds:
//  - keep-alive HTTP senders send transfers between random users at a steady
//    --rate (paced: a slow server is charged for the wait);
//  - every client holds a WebSocket for a random lifetime, drops it (TCP
//    close, no close frame, like a phone losing signal), waits a moment and
//    reconnects with since=<the last seq it saw>;
//  - every --sample seconds it prints the server's RSS and open fds
//    (/proc/PID), the clients connected, the transfers and the send latency
//    percentiles of that window.
// At the end it stops sending, lets every client reconnect and catch up, and
// checks each user's messages against the seqs the HTTP answers named:
// nothing lost, nothing twice, nothing for someone else. Exit 0 only if so,
// and if no send failed.
//
// Single-threaded: every socket runs on one io_context on the main thread.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <boost/program_options.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/http_load_client.h"
#include "bench/latency_recorder.h"
#include "bench/process_stats.h"
#include "bench/server_under_test.h"
#include "bench/websocket_receiver.h"

namespace sbd::soak {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace po = boost::program_options;
using bench::FillRequest;
using bench::HttpLoadClient;
using bench::LatencyRecorder;
using Clock = std::chrono::steady_clock;
using Request = HttpLoadClient::Request;
using Response = HttpLoadClient::Response;

constexpr int64_t kStartingBalance = 1'000'000'000;
// After the last send, how long every client may take to reconnect and
// catch up before what is missing counts as lost.
constexpr std::chrono::seconds kDrainTimeout{120};
constexpr std::chrono::seconds kSetupTimeout{300};

struct Options {
  size_t clients = 1000;
  size_t senders = 8;
  double rate = 200;
  double duration_s = 600;
  double sample_s = 10;
  double lifetime_min_s = 2;
  double lifetime_max_s = 30;
  double offline_max_s = 2;
  uint32_t seed = 1;
  bench::ServerOptions server;
};

std::optional<int64_t> IntegerField(std::string_view json, std::string_view key) {
  const std::string pattern = absl::StrCat("\"", std::string(key), "\":");
  const size_t at = json.find(pattern);
  if (at == std::string_view::npos) return std::nullopt;
  int64_t value = 0;
  const char* begin = json.data() + at + pattern.size();
  const auto [end, error] = std::from_chars(begin, json.data() + json.size(), value);
  if (error != std::errc() || end == begin) return std::nullopt;
  return value;
}

int64_t OpenFds(pid_t pid) {
  std::error_code error;
  int64_t count = 0;
  for (auto it = std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/fd"), error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return error ? -1 : count;
}

// One user: its WebSocket, what it was sent and what it got.
struct Client {
  std::string token;
  std::shared_ptr<bench::WebSocketReceiver> receiver;
  int generation = 0;  // Callbacks of an older receiver are ignored.
  bool connected = false;
  int64_t last_seq = 0;
  std::vector<int64_t> expected;  // Seqs of its transfers, from the HTTP answers.
  std::vector<int64_t> received;  // In arrival order (strictly increasing).
  int64_t duplicates = 0;
  std::unique_ptr<asio::steady_timer> timer;
};

class Soak {
 public:
  explicit Soak(const Options& options) : options_(options), random_(options.seed) {}

  int Run() {
    bench::RaiseOpenFileLimit();
    bench::ServerOptions server_options = options_.server;
    if (server_options.connections_max == 0) {
      server_options.connections_max = options_.clients + options_.senders + 256;
    }
    absl::StatusOr<std::unique_ptr<bench::ServerUnderTest>> server =
        bench::ServerUnderTest::Start(server_options);
    if (!server.ok()) return Fail(server.status().ToString());
    server_ = std::move(*server);
    if (!server_->pid().has_value()) return Fail("--target: no pid to sample; start the server");
    pid_ = *server_->pid();
    std::printf(
        "soak: %zu WebSocket clients (lifetime %.0f-%.0f s, offline up to %.1f s), "
        "%zu senders at %.0f transfers/s for %.0f s; server pid %d\n",
        options_.clients, options_.lifetime_min_s, options_.lifetime_max_s, options_.offline_max_s,
        options_.senders, options_.rate, options_.duration_s, static_cast<int>(pid_));
    if (!Setup()) return 1;
    Measure();
    return Report();
  }

 private:
  int Fail(const std::string& what) {
    std::fprintf(stderr, "sbd-soak: %s\n", what.c_str());
    return 2;
  }

  // Runs the io_context until `done` or the timeout.
  bool RunUntil(const std::function<bool()>& done, std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    io_.restart();
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      io_.run_one_for(std::chrono::milliseconds(100));
    }
    return true;
  }

  // Sends `requests` over `connections` keep-alive connections, closed loop.
  bool RunRequests(std::vector<Request> requests, size_t connections,
                   const std::function<bool(const Response&)>& check) {
    size_t next = 0;
    size_t running = connections;
    bool failed = false;
    for (size_t c = 0; c < connections; ++c) {
      HttpLoadClient::Callbacks callbacks;
      callbacks.next = [&](Request& request) {
        if (next >= requests.size() || failed) {
          --running;
          return false;
        }
        request = requests[next++];
        return true;
      };
      callbacks.on_answer = [&](const Response& response, Clock::time_point) {
        if (!check(response)) {
          std::fprintf(stderr, "sbd-soak: setup: HTTP %d %s\n", response.result_int(),
                       response.body().c_str());
          failed = true;
        }
      };
      callbacks.on_error = [&](const std::string& what) {
        std::fprintf(stderr, "sbd-soak: setup: %s\n", what.c_str());
        failed = true;
        --running;
      };
      std::make_shared<HttpLoadClient>(io_, std::move(callbacks), Clock::duration::zero())
          ->Start(server_->endpoint(), Clock::now());
    }
    return RunUntil([&] { return running == 0; }, kSetupTimeout) && !failed;
  }

  bool Setup() {
    absl::StatusOr<std::string> admin = server_->Token("soak-admin", /*admin=*/true);
    if (!admin.ok()) {
      Fail(admin.status().ToString());
      return false;
    }
    clients_.resize(options_.clients);
    std::vector<Request> opens;
    std::vector<Request> mints;
    for (size_t i = 0; i < clients_.size(); ++i) {
      absl::StatusOr<std::string> token = server_->Token(Name(i), false);
      if (!token.ok()) {
        Fail(token.status().ToString());
        return false;
      }
      clients_[i].token = *token;
      clients_[i].timer = std::make_unique<asio::steady_timer>(io_);
      FillRequest(opens.emplace_back(), http::verb::post, "/admin/accounts",
                  absl::StrCat(R"({"username":")", Name(i), R"("})"), "Bearer " + *admin,
                  server_->host());
      FillRequest(
          mints.emplace_back(), http::verb::post, "/admin/mint",
          absl::StrCat(R"({"username":")", Name(i), R"(","amount":)", kStartingBalance, "}"),
          "Bearer " + *admin, server_->host());
    }
    if (!RunRequests(std::move(opens), 16,
                     [](const Response& r) { return r.result_int() == 201; }) ||
        !RunRequests(std::move(mints), 16,
                     [](const Response& r) { return r.result_int() == 200; })) {
      {
        Fail("could not open and fund the accounts");
        return false;
      }
    }
    // Everyone starts after the mints: only transfers are tracked.
    std::vector<Request> health(1);
    FillRequest(health[0], http::verb::get, "/healthz", "", "", server_->host());
    int64_t base_seq = -1;
    RunRequests(std::move(health), 1, [&](const Response& r) {
      base_seq = IntegerField(r.body(), "seq").value_or(-1);
      return r.result_int() == 200;
    });
    if (base_seq < 0) {
      Fail("GET /healthz failed");
      return false;
    }
    for (Client& client : clients_) client.last_seq = base_seq;
    return true;
  }

  static std::string Name(size_t i) { return absl::StrCat("soak", i); }

  double Uniform(double low_s, double high_s) {
    return std::uniform_real_distribution<double>(low_s, high_s)(random_);
  }

  void After(Client& client, double seconds, std::function<void()> then) {
    client.timer->expires_after(
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
    client.timer->async_wait([then = std::move(then)](boost::system::error_code error) {
      if (!error) then();
    });
  }

  void Connect(size_t index) {
    Client& client = clients_[index];
    const int generation = ++client.generation;
    bench::WebSocketReceiver::Callbacks callbacks;
    callbacks.on_connected = [this, index, generation] {
      Client& client = clients_[index];
      if (client.generation != generation) return;
      client.connected = true;
      ++connects_;
      if (churn_) {
        After(client, Uniform(options_.lifetime_min_s, options_.lifetime_max_s),
              [this, index] { Disconnect(index); });
      }
    };
    callbacks.on_message = [this, index, generation](std::string_view message, Clock::time_point) {
      Client& client = clients_[index];
      if (client.generation != generation) return;
      const int64_t seq = IntegerField(message, "seq").value_or(-1);
      if (seq <= client.last_seq) {
        ++client.duplicates;
        return;
      }
      client.received.push_back(seq);
      client.last_seq = seq;
      ++window_messages_;
    };
    callbacks.on_error = [this, index, generation](const std::string& what) {
      Client& client = clients_[index];
      if (client.generation != generation) return;
      if (errors_logged_++ < 10)
        std::fprintf(stderr, "sbd-soak: %s: %s\n", Name(index).c_str(), what.c_str());
      ++socket_errors_;
      client.connected = false;
      After(client, 0.1, [this, index] { Connect(index); });
    };
    client.receiver = std::make_shared<bench::WebSocketReceiver>(io_, std::move(callbacks));
    client.receiver->Start(server_->endpoint(), server_->host(),
                           absl::StrCat("/ws?token=", client.token, "&since=", client.last_seq));
  }

  void Disconnect(size_t index) {
    Client& client = clients_[index];
    ++client.generation;
    client.receiver->Close();
    client.connected = false;
    ++disconnects_;
    After(client, Uniform(0.05, options_.offline_max_s), [this, index] { Connect(index); });
  }

  void Measure() {
    // Every client connects, spread over the first few seconds.
    for (size_t i = 0; i < clients_.size(); ++i) {
      After(clients_[i], Uniform(0, 3), [this, i] { Connect(i); });
    }
    const auto start = Clock::now();
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(static_cast<double>(options_.senders) / options_.rate));
    size_t senders_running = options_.senders;
    for (size_t s = 0; s < options_.senders; ++s) {
      auto current = std::make_shared<std::pair<size_t, size_t>>();
      HttpLoadClient::Callbacks callbacks;
      callbacks.next = [this, current, start, &senders_running](Request& request) {
        if (Clock::now() - start >= std::chrono::duration<double>(options_.duration_s)) {
          --senders_running;
          return false;
        }
        const size_t from = random_() % clients_.size();
        const size_t to = (from + 1 + random_() % (clients_.size() - 1)) % clients_.size();
        *current = {from, to};
        FillRequest(request, http::verb::post, "/sbd_tokens/send",
                    absl::StrCat(R"({"to_user":")", Name(to), R"(","amount":1})"),
                    "Bearer " + clients_[from].token, server_->host());
        return true;
      };
      callbacks.on_answer = [this, current](const Response& response, Clock::time_point due) {
        window_latency_.Record(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - due).count());
        total_latency_.Record(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - due).count());
        const std::optional<int64_t> seq = IntegerField(response.body(), "seq");
        if (response.result_int() != 200 || !seq.has_value()) {
          if (send_errors_++ < 10) {
            std::fprintf(stderr, "sbd-soak: send: HTTP %d %s\n", response.result_int(),
                         response.body().c_str());
          }
          return;
        }
        clients_[current->first].expected.push_back(*seq);
        clients_[current->second].expected.push_back(*seq);
        ++sends_;
        ++window_sends_;
      };
      callbacks.on_error = [this, &senders_running](const std::string& what) {
        std::fprintf(stderr, "sbd-soak: sender: %s\n", what.c_str());
        ++send_errors_;
        --senders_running;
      };
      std::make_shared<HttpLoadClient>(io_, std::move(callbacks), interval)
          ->Start(server_->endpoint(), start + interval * static_cast<int64_t>(s) /
                                                   static_cast<int64_t>(options_.senders));
    }
    std::printf("%8s %10s %6s %8s %10s %10s %10s %9s %9s %9s %9s\n", "t_s", "rss_kib", "fds",
                "fds-ws", "connected", "connects", "sent/s", "msgs/s", "p50_ms", "p99_ms",
                "max_ms");
    auto next_sample = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(options_.sample_s));
    auto last_sample = start;
    io_.restart();
    while (senders_running > 0 &&
           Clock::now() - start < std::chrono::duration<double>(options_.duration_s + 60)) {
      io_.run_one_for(std::chrono::milliseconds(50));
      if (Clock::now() >= next_sample) {
        Sample(start, last_sample);
        last_sample = Clock::now();
        next_sample += std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(options_.sample_s));
      }
    }
    // Drain: no more churn; every client (re)connects and catches up.
    churn_ = false;
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (clients_[i].connected) clients_[i].timer->cancel();
      if (!clients_[i].connected) {
        ++clients_[i].generation;
        if (clients_[i].receiver) clients_[i].receiver->Close();
        After(clients_[i], Uniform(0, 1), [this, i] { Connect(i); });
      }
    }
    const bool caught_up = RunUntil(
        [&] {
          for (const Client& client : clients_) {
            if (!client.connected) return false;
            if (!client.expected.empty() &&
                client.last_seq <
                    *std::max_element(client.expected.begin(), client.expected.end())) {
              return false;
            }
          }
          return true;
        },
        kDrainTimeout);
    if (!caught_up)
      std::printf("drain: not every client caught up within %lld s\n",
                  static_cast<long long>(kDrainTimeout.count()));
    Sample(start, last_sample);
  }

  void Sample(Clock::time_point start, Clock::time_point last_sample) {
    const double t_s = std::chrono::duration<double>(Clock::now() - start).count();
    const double window_s =
        std::max(1e-3, std::chrono::duration<double>(Clock::now() - last_sample).count());
    size_t connected = 0;
    for (const Client& client : clients_) connected += client.connected ? 1 : 0;
    const int64_t rss = bench::CurrentRssKib(pid_);
    const int64_t fds = OpenFds(pid_);
    // The server's own fds: what is left after one per open WebSocket (a
    // leak shows here as a rising floor, whatever the churn).
    const int64_t base_fds = fds - static_cast<int64_t>(connected);
    samples_.push_back({t_s, rss, fds, base_fds, sends_});
    std::printf("%8.1f %10lld %6lld %8lld %10zu %10lld %10.1f %9.1f %9.2f %9.2f %9.2f\n", t_s,
                static_cast<long long>(rss), static_cast<long long>(fds),
                static_cast<long long>(base_fds), connected, static_cast<long long>(connects_),
                window_sends_ / window_s, window_messages_ / window_s,
                window_latency_.PercentileMs(50), window_latency_.PercentileMs(99),
                window_latency_.MaxMs());
    std::fflush(stdout);
    window_sends_ = 0;
    window_messages_ = 0;
    window_latency_ = LatencyRecorder();
  }

  int Report() {
    int64_t expected = 0, received = 0, lost = 0, unexpected = 0, duplicates = 0;
    for (Client& client : clients_) {
      std::sort(client.expected.begin(), client.expected.end());
      expected += static_cast<int64_t>(client.expected.size());
      received += static_cast<int64_t>(client.received.size());
      duplicates += client.duplicates;
      // Both sorted: a merge counts what is missing on either side.
      size_t e = 0, r = 0;
      while (e < client.expected.size() || r < client.received.size()) {
        if (r == client.received.size() ||
            (e < client.expected.size() && client.expected[e] < client.received[r])) {
          ++lost, ++e;
        } else if (e == client.expected.size() || client.received[r] < client.expected[e]) {
          ++unexpected, ++r;
        } else {
          ++e, ++r;
        }
      }
    }
    // RSS and fds after warm-up (from the second sample) to the end.
    const Sample_& first = samples_.size() > 2 ? samples_[1] : samples_.front();
    const Sample_& last = samples_.back();
    std::printf(
        "result: %lld transfers acknowledged, %lld send errors; %lld WebSocket connects, %lld "
        "deliberate disconnects, %lld socket errors\n",
        static_cast<long long>(sends_), static_cast<long long>(send_errors_),
        static_cast<long long>(connects_), static_cast<long long>(disconnects_),
        static_cast<long long>(socket_errors_));
    std::printf(
        "result: messages expected %lld, received %lld, lost %lld, duplicated %lld, "
        "misdelivered %lld\n",
        static_cast<long long>(expected), static_cast<long long>(received),
        static_cast<long long>(lost), static_cast<long long>(duplicates),
        static_cast<long long>(unexpected));
    std::printf("result: send latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
                total_latency_.PercentileMs(50), total_latency_.PercentileMs(99),
                total_latency_.PercentileMs(99.9), total_latency_.MaxMs());
    std::printf(
        "result: server RSS %lld KiB at %.0f s -> %lld KiB at %.0f s (%+.1f%%); open fds "
        "%lld -> %lld\n",
        static_cast<long long>(first.rss_kib), first.t_s, static_cast<long long>(last.rss_kib),
        last.t_s, first.rss_kib > 0 ? 100.0 * (last.rss_kib - first.rss_kib) / first.rss_kib : 0.0,
        static_cast<long long>(first.fds), static_cast<long long>(last.fds));
    std::error_code ignored;
    const std::filesystem::path db = options_.server.directory / "server.db";
    const uintmax_t log_bytes = std::filesystem::file_size(db, ignored);
    const uintmax_t wal_bytes = std::filesystem::file_size(db.string() + "-wal", ignored);
    const int64_t sends_between = last.sends - first.sends;
    std::printf(
        "result: log file %.1f MiB, WAL %.1f MiB; RSS growth per transfer after warm-up %.0f B\n",
        static_cast<double>(log_bytes == static_cast<uintmax_t>(-1) ? 0 : log_bytes) / (1 << 20),
        static_cast<double>(wal_bytes == static_cast<uintmax_t>(-1) ? 0 : wal_bytes) / (1 << 20),
        sends_between > 0
            ? 1024.0 * static_cast<double>(last.rss_kib - first.rss_kib) / sends_between
            : 0.0);
    const bool ok =
        lost == 0 && duplicates == 0 && unexpected == 0 && send_errors_ == 0 && sends_ > 0;
    std::printf("result: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
  }

  struct Sample_ {
    double t_s;
    int64_t rss_kib;
    int64_t fds;
    int64_t base_fds;
    int64_t sends;  // Acknowledged so far.
  };

  const Options options_;
  std::mt19937 random_;
  asio::io_context io_;
  std::unique_ptr<bench::ServerUnderTest> server_;
  pid_t pid_ = 0;
  std::vector<Client> clients_;
  bool churn_ = true;
  int64_t sends_ = 0;
  int64_t send_errors_ = 0;
  int64_t connects_ = 0;
  int64_t disconnects_ = 0;
  int64_t socket_errors_ = 0;
  int64_t errors_logged_ = 0;
  int64_t window_sends_ = 0;
  int64_t window_messages_ = 0;
  LatencyRecorder window_latency_;
  LatencyRecorder total_latency_;
  std::vector<Sample_> samples_;
};

int Main(int argc, char** argv) {
  Options options;
  options.server.binary = SBD_LEDGER_BINARY;
  po::options_description flags("sbd-soak options");
  flags.add_options()              //
      ("help", "print this help")  //
      ("clients", po::value(&options.clients)->default_value(options.clients),
       "WebSocket clients, one user each, connecting and disconnecting")  //
      ("senders", po::value(&options.senders)->default_value(options.senders),
       "keep-alive HTTP connections sending transfers")  //
      ("rate", po::value(&options.rate)->default_value(options.rate),
       "transfers per second over all senders (paced)")  //
      ("duration", po::value(&options.duration_s)->default_value(options.duration_s),
       "seconds of sending")  //
      ("sample", po::value(&options.sample_s)->default_value(options.sample_s),
       "seconds between samples of the server's RSS and fds")  //
      ("lifetime-min", po::value(&options.lifetime_min_s)->default_value(options.lifetime_min_s),
       "shortest WebSocket connection, seconds")  //
      ("lifetime-max", po::value(&options.lifetime_max_s)->default_value(options.lifetime_max_s),
       "longest WebSocket connection, seconds")  //
      ("offline-max", po::value(&options.offline_max_s)->default_value(options.offline_max_s),
       "longest pause before reconnecting, seconds")                                  //
      ("seed", po::value(&options.seed)->default_value(options.seed), "random seed")  //
      ("server", po::value(&options.server.binary)->default_value(options.server.binary),
       "the sbd-ledger binary to start")  //
      ("server-threads", po::value(&options.server.threads)->default_value(0),
       "serve --threads (0: one per core)")  //
      ("server-sync", po::value(&options.server.durability)->default_value("full"),
       "serve --durability: full or normal")  //
      ("dir", po::value<std::string>(),
       "directory for the server's log (default: a fresh one in /tmp)");
  po::variables_map values;
  try {
    // A flag given twice: the later one wins (tools/soak.sh puts its
    // defaults first).
    po::parsed_options parsed = po::parse_command_line(argc, argv, flags);
    std::vector<po::option> last_of_each;
    std::set<std::string> seen;
    for (auto it = parsed.options.rbegin(); it != parsed.options.rend(); ++it) {
      if (seen.insert(it->string_key).second) last_of_each.push_back(*it);
    }
    parsed.options.assign(last_of_each.rbegin(), last_of_each.rend());
    po::store(parsed, values);
    po::notify(values);
  } catch (const std::exception& error) {
    std::cerr << "sbd-soak: " << error.what() << "\n" << flags << "\n";
    return 2;
  }
  if (values.count("help") != 0) {
    std::cout << "Usage: sbd-soak [options]\n" << flags << "\n";
    return 0;
  }
  if (options.clients < 2 || options.senders < 1 || options.rate <= 0 ||
      options.lifetime_min_s <= 0 || options.lifetime_max_s < options.lifetime_min_s) {
    std::cerr << "sbd-soak: need --clients >= 2, --senders >= 1, --rate > 0, "
                 "0 < --lifetime-min <= --lifetime-max\n";
    return 2;
  }
  std::string made_dir;
  if (values.count("dir") != 0) {
    options.server.directory = values["dir"].as<std::string>();
  } else {
    char pattern[] = "/tmp/sbd-soak-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return 2;
    made_dir = pattern;
    options.server.directory = made_dir;
  }
  int code = 0;
  {
    Soak soak(options);
    code = soak.Run();
  }  // Stops the server before its directory goes.
  if (!made_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(made_dir, ignored);
  }
  return code;
}

}  // namespace
}  // namespace sbd::soak

int main(int argc, char** argv) { return sbd::soak::Main(argc, argv); }

// AccessLog on real pipes and sockets: lines that do not fit while the pipe
// is full are dropped whole and counted, the "lines dropped" report follows
// once the pipe drains, a reader that never reads cannot hold up the
// destructor, and a reader that keeps up gets every line, whole and in order.
#include "transport/access_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "transport/metrics.h"

namespace sbd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr char kFiller[] = "filler";

// A pipe, both ends closed at the end.
struct Pipe {
  // `capacity_bytes` 0: the default (64 KiB).
  explicit Pipe(int capacity_bytes = 0) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    read_fd = fds[0];
    write_fd = fds[1];
    if (capacity_bytes > 0) {
      EXPECT_EQ(fcntl(write_fd, F_SETPIPE_SZ, capacity_bytes), capacity_bytes);
    }
  }
  ~Pipe() {
    if (read_fd >= 0) close(read_fd);
    close(write_fd);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  // Writes "filler" lines until the pipe takes no more, leaving the write
  // end blocking as stderr is.
  void Fill() {
    const int flags = fcntl(write_fd, F_GETFL);
    ASSERT_EQ(fcntl(write_fd, F_SETFL, flags | O_NONBLOCK), 0);
    const std::string line = absl::StrCat(kFiller, "\n");
    while (write(write_fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
    }
    ASSERT_EQ(errno, EAGAIN);
    ASSERT_EQ(fcntl(write_fd, F_SETFL, flags), 0);
  }

  int read_fd = -1;
  int write_fd = -1;
};

// Reads `fd` until `done(text so far)` holds or `timeout` passes.
template <typename Done>
std::string ReadUntil(int fd, Done done, milliseconds timeout) {
  std::string text;
  const auto deadline = Clock::now() + timeout;
  char buffer[4096];
  while (!done(text) && Clock::now() < deadline) {
    pollfd poll_fd{fd, POLLIN, 0};
    if (poll(&poll_fd, 1, 50) <= 0) continue;
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got <= 0) break;
    text.append(buffer, static_cast<size_t>(got));
  }
  return text;
}

// "line 000042 ........" : fixed width, so a cut or a mix would show.
std::string NumberedLine(int i) { return absl::StrFormat("line %06d %s", i, std::string(20, '.')); }

uint64_t DroppedMetric(const Metrics& metrics) {
  std::smatch match;
  const std::string text = metrics.RenderPrometheus();
  if (!std::regex_search(text, match, std::regex(R"(\nsbd_access_log_dropped_total (\d+)\n)"))) {
    ADD_FAILURE() << "no sbd_access_log_dropped_total in\n" << text;
    return 0;
  }
  uint64_t value = 0;
  EXPECT_TRUE(absl::SimpleAtoi(match[1].str(), &value));
  return value;
}

TEST(AccessLogTest, DropsWholeLinesWhileThePipeIsFullThenReportsThem) {
  Pipe pipe(4096);  // One page: quick to fill.
  pipe.Fill();
  Metrics metrics;
  constexpr int kLines = 1000;
  constexpr size_t kBufferBytes = 4096;
  auto log = std::make_unique<AccessLog>(AccessLog::Options{
      .fd = pipe.write_fd, .buffer_bytes_max = kBufferBytes, .metrics = &metrics});
  for (int i = 0; i < kLines; ++i) log->Append(NumberedLine(i));
  // Nothing can be written: at most the buffer and the batch the writer
  // took from it are held, the rest is dropped.
  const uint64_t dropped = log->dropped_total();
  const size_t line_bytes = NumberedLine(0).size() + 1;
  EXPECT_GE(dropped, kLines - 2 * kBufferBytes / line_bytes);
  EXPECT_EQ(DroppedMetric(metrics), dropped);

  // The pipe drains: the held lines, then the reports. A writer thread that
  // started late took a full buffer with the drops so far and blocked, so
  // there can be two reports, each right after the lines it followed.
  const auto reported_total = [](const std::string& text) {
    uint64_t total = 0;
    std::smatch match;
    const std::regex report(R"(access log: (\d+) lines dropped \(stderr not draining\)\n)");
    for (auto it = text.cbegin();
         std::regex_search(it, text.cend(), match, report); it = match.suffix().first) {
      uint64_t count = 0;
      EXPECT_TRUE(absl::SimpleAtoi(match[1].str(), &count));
      total += count;
    }
    return total;
  };
  std::string text = ReadUntil(
      pipe.read_fd, [&](const std::string& t) { return reported_total(t) >= dropped; },
      seconds(10));
  ASSERT_EQ(reported_total(text), dropped) << text;
  log.reset();
  text += ReadUntil(
      pipe.read_fd, [](const std::string&) { return false; }, milliseconds(100));

  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  ASSERT_EQ(lines.back(), "");  // Ends with a whole line.
  lines.pop_back();
  int last = -1;
  int kept = 0;
  int reports = 0;
  for (const std::string& line : lines) {
    if (line == kFiller) {
      EXPECT_EQ(last, -1) << "filler after the log's lines";
      continue;
    }
    if (line.starts_with("access log: ")) {
      EXPECT_TRUE(line.ends_with(" lines dropped (stderr not draining)")) << line;
      ++reports;
      continue;
    }
    int number = -1;
    ASSERT_TRUE(absl::SimpleAtoi(line.substr(5, 6), &number)) << line;
    EXPECT_EQ(line, NumberedLine(number));  // Whole, not cut or mixed.
    EXPECT_GT(number, last);
    last = number;
    ++kept;
  }
  // One report per buffer the writer took while lines were being dropped.
  EXPECT_GE(reports, 1);
  EXPECT_LE(reports, 2);
  EXPECT_TRUE(lines.back().starts_with("access log: ")) << "the last report ends the output";
  EXPECT_EQ(kept + dropped, static_cast<uint64_t>(kLines));
}

TEST(AccessLogTest, DestructorGivesUpOnAReaderThatNeverReads) {
  Pipe pipe(4096);
  pipe.Fill();
  Metrics metrics;
  constexpr int kLines = 1000;
  auto log = std::make_unique<AccessLog>(
      AccessLog::Options{.fd = pipe.write_fd, .buffer_bytes_max = 8192, .metrics = &metrics});
  for (int i = 0; i < kLines; ++i) log->Append(NumberedLine(i));
  auto destroyed = std::async(std::launch::async, [&log] { log.reset(); });
  const bool returned = destroyed.wait_for(seconds(10)) == std::future_status::ready;
  EXPECT_TRUE(returned) << "~AccessLog waits for a pipe nobody reads";
  if (!returned) {
    close(pipe.read_fd);  // POLLERR for the writer: lets the future finish.
    pipe.read_fd = -1;
    destroyed.wait();
  }
  // Not one line was written: every one is counted.
  EXPECT_EQ(DroppedMetric(metrics), static_cast<uint64_t>(kLines));
}

TEST(AccessLogTest, ReaderClosedCountsEveryLine) {
  Pipe pipe;
  close(pipe.read_fd);  // poll says POLLERR: nothing is written (no SIGPIPE).
  pipe.read_fd = -1;
  Metrics metrics;
  auto log =
      std::make_unique<AccessLog>(AccessLog::Options{.fd = pipe.write_fd, .metrics = &metrics});
  for (int i = 0; i < 100; ++i) log->Append(NumberedLine(i));
  log.reset();
  EXPECT_EQ(DroppedMetric(metrics), 100u);
}

TEST(AccessLogTest, AReaderThatKeepsUpGetsEveryLineWholeAndInOrder) {
  Pipe pipe;
  constexpr int kThreads = 4;
  constexpr int kLinesPerThread = 2500;  // 300 KB in all: fits the default buffer.
  auto log = std::make_unique<AccessLog>(AccessLog::Options{.fd = pipe.write_fd});
  std::string text;
  std::thread reader([&] {
    text = ReadUntil(
        pipe.read_fd,
        [&](const std::string& t) {
          return std::count(t.begin(), t.end(), '\n') == kThreads * kLinesPerThread;
        },
        seconds(30));
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&log, t] {
      for (int i = 0; i < kLinesPerThread; ++i) log->Append(NumberedLine(t * kLinesPerThread + i));
    });
  }
  for (std::thread& writer : writers) writer.join();
  log.reset();  // Flushes.
  reader.join();
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  ASSERT_EQ(lines.back(), "");
  lines.pop_back();
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLinesPerThread));
  std::vector<int> last(kThreads, -1);
  for (const std::string& line : lines) {
    int number = -1;
    ASSERT_TRUE(absl::SimpleAtoi(line.substr(5, 6), &number)) << line;
    ASSERT_EQ(line, NumberedLine(number));
    const int thread = number / kLinesPerThread;
    EXPECT_GT(number, last[thread]) << "thread " << thread << " out of order";
    last[thread] = number;
  }
}

TEST(AccessLogTest, LongLinesAreCutToOneWrite) {
  Pipe pipe;
  auto log = std::make_unique<AccessLog>(AccessLog::Options{.fd = pipe.write_fd});
  log->Append(std::string(3 * AccessLog::kLineBytesMax, 'a'));
  log->Append("next");
  log.reset();
  const std::string text = ReadUntil(
      pipe.read_fd, [](const std::string& t) { return t.ends_with("next\n"); }, seconds(10));
  EXPECT_EQ(text, absl::StrCat(std::string(AccessLog::kLineBytesMax - 1, 'a'), "\nnext\n"));
}

TEST(AccessLogTest, WritesToASocket) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto log = std::make_unique<AccessLog>(AccessLog::Options{.fd = fds[1]});
  for (int i = 0; i < 100; ++i) log->Append(NumberedLine(i));
  log.reset();
  std::string expected;
  for (int i = 0; i < 100; ++i) absl::StrAppend(&expected, NumberedLine(i), "\n");
  EXPECT_EQ(
      ReadUntil(
          fds[0], [&](const std::string& t) { return t.size() >= expected.size(); }, seconds(10)),
      expected);
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace sbd

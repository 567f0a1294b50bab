// The README's two commands, as a new user meets them: the first (install
// what is missing, build, serve the demo) is run here, word for word, on the
// built tree; the second (the whole test suite) must be what CI runs. Both
// are read from README.md itself, so the README, CI and this test cannot
// drift apart.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"

namespace sbd::testing {
namespace {

std::string ReadSourceFile(const std::string& relative_path) {
  std::ifstream in(std::string(SBD_SOURCE_DIR) + "/" + relative_path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// The README opens with one ```sh block: "# 1. ..." then command 1,
// "# 2. ..." then command 2. Returns the commands in order.
std::vector<std::string> ReadmeCommands() {
  const std::string readme = ReadSourceFile("README.md");
  const size_t block = readme.find("```sh\n");
  if (block == std::string::npos) return {};
  const size_t end = readme.find("```", block + 6);
  std::vector<std::string> commands;
  bool numbered_comment_seen = false;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(readme).substr(block + 6, end - block - 6), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (absl::StartsWith(line, "#")) {
      numbered_comment_seen = absl::StartsWith(line, absl::StrCat("# ", commands.size() + 1, "."));
      continue;
    }
    if (numbered_comment_seen) commands.emplace_back(line);
    numbered_comment_seen = false;
  }
  return commands;
}

TEST(ReadmeCommandsTest, TheReadmeOpensWithTwoCommands) {
  const std::vector<std::string> commands = ReadmeCommands();
  ASSERT_EQ(commands.size(), 2u) << "README.md must open with a ```sh block holding "
                                    "'# 1. ...' + command and '# 2. ...' + command";
}

// CI (.ci/run) runs exactly README command 2.
TEST(ReadmeCommandsTest, CiRunsTheSecondCommand) {
  const std::vector<std::string> commands = ReadmeCommands();
  ASSERT_EQ(commands.size(), 2u);
  const std::string ci = ReadSourceFile(".ci/run");
  bool runs_it = false;
  for (absl::string_view line : absl::StrSplit(ci, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumePrefix(&line, "exec ");
    if (line == commands[1]) runs_it = true;
  }
  EXPECT_TRUE(runs_it) << ".ci/run does not run README command 2 ('" << commands[1] << "'):\n"
                       << ci;
}

// README command 1 on this build tree, on a free port and a fresh database:
// it serves the demo, and a printed token and wallet link work.
TEST(ReadmeCommandsTest, FirstCommandServesTheDemo) {
  const std::vector<std::string> commands = ReadmeCommands();
  ASSERT_EQ(commands.size(), 2u);
  ServerProcessOptions options;
  options.shell_command = commands[0];
  options.working_dir = SBD_SOURCE_DIR;
  // The tree under test, not whatever build/ holds.
  options.env = {std::string("SBD_BUILD_DIR=") + SBD_BINARY_DIR};
  options.with_secret = false;  // As a new user runs it: the demo makes its own.
  // Installs nothing on a machine that has the packages; a no-op build.
  options.start_timeout = std::chrono::minutes(5);
  auto started = ServerProcess::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  ServerProcess& server = **started;

  const std::string out = server.Stdout();
  std::smatch wallet;
  ASSERT_TRUE(std::regex_search(out, wallet,
                                std::regex(R"(alice +wallet: (http://([0-9.]+):([0-9]+)/)#token=)"
                                           R"(([A-Za-z0-9_.-]+))")))
      << out;
  EXPECT_EQ(std::stoi(wallet[3]), server.port()) << out;
  const std::string token = wallet[4];
  HttpClient client(server.port());
  absl::StatusOr<HttpResponse> balance = client.Get("/sbd_tokens", token);
  ASSERT_TRUE(balance.ok()) << balance.status();
  ASSERT_EQ(balance->status, 200) << balance->body;
  EXPECT_EQ(balance->Json().at("username").as_string(), "alice");
  EXPECT_EQ(balance->Json().at("sbd_tokens").as_int64(), 1000);
  // The link's page: the wallet.
  absl::StatusOr<HttpResponse> page = client.Get("/");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<html"), std::string::npos);
  // The printed token line holds the same kind of token.
  std::smatch bob;
  ASSERT_TRUE(std::regex_search(out, bob, std::regex(R"(bob +token: ([A-Za-z0-9_.-]+))"))) << out;
  balance = client.Get("/sbd_tokens", std::string(bob[1]));
  ASSERT_TRUE(balance.ok()) << balance.status();
  EXPECT_EQ(balance->status, 200) << balance->body;

  absl::StatusOr<int> code = server.Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << server.Stderr();
}

}  // namespace
}  // namespace sbd::testing

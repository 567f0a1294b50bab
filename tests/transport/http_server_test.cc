// End-to-end: the sbd-ledger process itself (start, flags, signals, restart,
// connection handling), against the real binary on a free loopback port.
#include <gtest/gtest.h>

#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/tokens.h"

namespace sbd::testing {
namespace {

TEST(HttpServerTest, ServesHealthAndExitsZeroOnSigterm) {
  auto server = ServerProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClient client((*server)->port());
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"status":"ok","seq":0})");
  auto code = (*server)->Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace sbd::testing

// RevokedTokens: the revocation file's format, reloads, and that a broken
// reload never lifts a revocation.
#include "transport/revoked_tokens.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace sbd {
namespace {

using ::sbd::testing::TempDir;

class RevokedTokensTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_ + "/revoked.txt"; }

  void Write(const std::string& contents) {
    // A new file renamed into place, as editors and config tools do.
    const std::string temporary = path_ + ".new";
    std::ofstream(temporary, std::ios::binary | std::ios::trunc) << contents;
    std::filesystem::rename(temporary, path_);
  }

  const TempDir temp_dir_{"sbd-revoked"};
  const std::string dir_ = temp_dir_.path();
  std::string path_;
};

TEST_F(RevokedTokensTest, ReadsOneIdALineWithComments) {
  Write(
      "# revoked after the March incident\n  tok-1  \n\ntok-2 # laptop "
      "stolen\n#tok-3\n\ttok-4\r\n");
  auto revoked = RevokedTokens::Open(path_);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ((*revoked)->size(), 3u);
  EXPECT_TRUE((*revoked)->IsRevoked("tok-1"));
  EXPECT_TRUE((*revoked)->IsRevoked("tok-2"));
  EXPECT_FALSE((*revoked)->IsRevoked("tok-3"));  // Commented out.
  EXPECT_TRUE((*revoked)->IsRevoked("tok-4"));
  EXPECT_FALSE((*revoked)->IsRevoked(""));
  EXPECT_FALSE((*revoked)->IsRevoked("tok"));
}

TEST_F(RevokedTokensTest, AMissingOrBadFileIsAnError) {
  EXPECT_EQ(RevokedTokens::Open(path_).status().code(), absl::StatusCode::kNotFound);
  Write("good\nbad id with spaces\n");
  auto bad = RevokedTokens::Open(path_);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(":2:"), std::string::npos) << bad.status();
}

TEST_F(RevokedTokensTest, ReloadSeesChangesAndKeepsTheListOnAFailedRead) {
  Write("a\n");
  auto opened = RevokedTokens::Open(path_);
  ASSERT_TRUE(opened.ok());
  RevokedTokens& revoked = **opened;
  EXPECT_FALSE(revoked.FileChanged());
  auto same = revoked.Reload();
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(*same);

  Write("a\nb\n");
  EXPECT_TRUE(revoked.FileChanged());
  EXPECT_FALSE(revoked.IsRevoked("b"));
  auto changed = revoked.Reload();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(revoked.IsRevoked("b"));
  EXPECT_FALSE(revoked.FileChanged());

  // Deleted, then broken: both reloads fail and a and b stay revoked.
  std::filesystem::remove(path_);
  EXPECT_TRUE(revoked.FileChanged());
  EXPECT_FALSE(revoked.Reload().ok());
  EXPECT_FALSE(revoked.FileChanged());  // Not retried until it changes again.
  Write("a\n\x01\n");
  EXPECT_TRUE(revoked.FileChanged());
  EXPECT_FALSE(revoked.Reload().ok());
  EXPECT_TRUE(revoked.IsRevoked("a"));
  EXPECT_TRUE(revoked.IsRevoked("b"));

  // Un-revoking is an explicit edit of a readable file.
  Write("a\n");
  auto lifted = revoked.Reload();
  ASSERT_TRUE(lifted.ok());
  EXPECT_TRUE(*lifted);
  EXPECT_FALSE(revoked.IsRevoked("b"));
}

}  // namespace
}  // namespace sbd

#include "transport/token_authority.h"

#include "engine/error_code.h"
#include "gtest/gtest.h"

namespace sbd {
namespace {

constexpr int64_t kNow = 1795705445;

TEST(TokenAuthority, IssuedTokensVerifyWithTheirClaims) {
  TokenAuthority tokens("secret");
  absl::StatusOr<std::string> token = tokens.Issue("Alice", /*admin=*/true, 60, kNow);
  ASSERT_TRUE(token.ok());
  absl::StatusOr<Identity> identity = tokens.Verify(*token, kNow);
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->subject, "Alice");
  EXPECT_TRUE(identity->admin);
  EXPECT_EQ(identity->expires_at_s, kNow + 60);
}

TEST(TokenAuthority, TheRoleClaimIsAdminServiceOrNeither) {
  TokenAuthority tokens("secret");
  absl::StatusOr<Identity> service =
      tokens.Verify(*tokens.Issue("shop", Role::kService, 60, kNow), kNow);
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_TRUE(service->service);
  EXPECT_FALSE(service->admin);
  absl::StatusOr<Identity> admin =
      tokens.Verify(*tokens.Issue("root", Role::kAdmin, 60, kNow), kNow);
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin->admin);
  EXPECT_FALSE(admin->service);
  absl::StatusOr<Identity> user = tokens.Verify(*tokens.Issue("bob", Role::kUser, 60, kNow), kNow);
  ASSERT_TRUE(user.ok());
  EXPECT_FALSE(user->admin || user->service);
}

// The second Verify of a token is served from the cache: it must still
// enforce `exp` against the clock of that call.
TEST(TokenAuthority, ACachedTokenStillExpires) {
  TokenAuthority tokens("secret");
  const std::string token = *tokens.Issue("alice", false, 10, kNow);
  ASSERT_TRUE(tokens.Verify(token, kNow).ok());
  ASSERT_TRUE(tokens.Verify(token, kNow + 9).ok());
  EXPECT_EQ(ErrorCodeOf(tokens.Verify(token, kNow + 10).status()), ErrorCode::kUnauthorized);
  EXPECT_EQ(ErrorCodeOf(tokens.Verify(token, kNow + 1000).status()), ErrorCode::kUnauthorized);
}

TEST(TokenAuthority, RefusesForeignAndBrokenTokensEvenAfterCachingAGoodOne) {
  TokenAuthority tokens("secret");
  TokenAuthority other("other secret");
  const std::string good = *tokens.Issue("alice", false, 60, kNow);
  ASSERT_TRUE(tokens.Verify(good, kNow).ok());
  const std::string foreign = *other.Issue("alice", false, 60, kNow);
  EXPECT_EQ(ErrorCodeOf(tokens.Verify(foreign, kNow).status()), ErrorCode::kUnauthorized);
  std::string tampered = good;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(ErrorCodeOf(tokens.Verify(tampered, kNow).status()), ErrorCode::kUnauthorized);
  EXPECT_EQ(ErrorCodeOf(tokens.Verify("", kNow).status()), ErrorCode::kUnauthorized);
  EXPECT_EQ(ErrorCodeOf(tokens.Verify("a.b.c", kNow).status()), ErrorCode::kUnauthorized);
  // alg "none": {"alg":"none","typ":"JWT"} . {"sub":"alice","exp":9999999999} . (empty)
  EXPECT_EQ(ErrorCodeOf(tokens
                            .Verify("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
                                    "eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.",
                                    kNow)
                            .status()),
            ErrorCode::kUnauthorized);
}

TEST(TokenAuthority, RefusesToIssueForASubjectWithANul) {
  TokenAuthority tokens("secret");
  EXPECT_FALSE(tokens.Issue(std::string("alice\0admin", 11), true, 60, kNow).ok());
  EXPECT_FALSE(tokens.Issue("", false, 60, kNow).ok());
}

TEST(TokenAuthority, TheCacheStaysBounded) {
  TokenAuthority tokens("secret");
  // More distinct valid tokens than the cache holds: all keep verifying.
  std::vector<std::string> issued;
  for (size_t i = 0; i < kVerifiedTokensCachedMax + 10; ++i) {
    issued.push_back(*tokens.Issue("user" + std::to_string(i), false, 60, kNow));
    ASSERT_TRUE(tokens.Verify(issued.back(), kNow).ok());
  }
  EXPECT_TRUE(tokens.Verify(issued.front(), kNow).ok());
  EXPECT_EQ(tokens.Verify(issued.back(), kNow)->subject,
            "user" + std::to_string(kVerifiedTokensCachedMax + 9));
}

}  // namespace
}  // namespace sbd

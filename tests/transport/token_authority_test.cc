#include "transport/token_authority.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/error_code.h"
#include "gtest/gtest.h"
#include "tests/support/tokens.h"

namespace sbd {
namespace {

constexpr int64_t kNow = 1795705445;
constexpr char kSecret[] = "secret";
constexpr char kHs256Header[] = R"({"alg":"HS256","typ":"JWT"})";

// Claims for alice valid for an hour from kNow, plus `extra` (",\"k\":v").
std::string Claims(const std::string& extra = "") {
  return absl::StrCat(R"({"sub":"alice","exp":)", kNow + 3600, extra, "}");
}

// A token signed with kSecret whatever its header says.
std::string Signed(std::string_view header, std::string_view claims) {
  return testing::MakeRawToken(header, claims, kSecret);
}

bool Refused(const TokenAuthority& tokens, const std::string& token, int64_t now_s) {
  return ErrorCodeOf(tokens.Verify(token, now_s).status()) == ErrorCode::kUnauthorized;
}

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

// RFC 7515 §4.1.1: "alg" is a case-sensitive string. libjwt maps the name
// case-insensitively, so without a check of our own "hs256" passed.
TEST(TokenAuthority, TheAlgNameIsCaseSensitive) {
  TokenAuthority tokens(kSecret);
  ASSERT_TRUE(tokens.Verify(Signed(kHs256Header, Claims()), kNow).ok());
  ASSERT_TRUE(tokens.Verify(Signed(R"({"alg":"HS256"})", Claims()), kNow).ok());
  for (const char* header :
       {R"({"alg":"hs256","typ":"JWT"})", R"({"alg":"Hs256","typ":"JWT"})", R"({"alg":"hS256"})"}) {
    SCOPED_TRACE(header);
    absl::StatusOr<Identity> identity = tokens.Verify(Signed(header, Claims()), kNow);
    EXPECT_EQ(ErrorCodeOf(identity.status()), ErrorCode::kUnauthorized);
    EXPECT_EQ(identity.status().message(), "token algorithm must be HS256");
  }
}

// RFC 7515 §4.1.11: a `crit` naming an extension the recipient does not
// understand makes the token invalid. We understand none, so any `crit`,
// well-formed or not, is refused.
TEST(TokenAuthority, AnyCritHeaderIsRefused) {
  TokenAuthority tokens(kSecret);
  for (const char* header : {
           R"({"alg":"HS256","typ":"JWT","crit":["exp"]})",
           R"({"alg":"HS256","crit":["b64"],"b64":false})",
           R"({"alg":"HS256","crit":["x-unknown"],"x-unknown":1})",
           R"({"alg":"HS256","crit":[]})",
           R"({"alg":"HS256","crit":"exp"})",
           R"({"alg":"HS256","crit":null})",
           R"({"alg":"HS256","crit":{}})",
           R"({"alg":"HS256","crit":[1]})",
       }) {
    SCOPED_TRACE(header);
    absl::StatusOr<Identity> identity = tokens.Verify(Signed(header, Claims()), kNow);
    EXPECT_EQ(ErrorCodeOf(identity.status()), ErrorCode::kUnauthorized);
    EXPECT_EQ(identity.status().message(), "token header has crit: no extension is understood");
  }
}

// RFC 7519 §4.1.5, with kNotBeforeLeewayS for an issuer whose clock runs
// ahead of ours.
TEST(TokenAuthority, NotBeforeIsEnforcedWithTheLeeway) {
  TokenAuthority tokens(kSecret);
  const std::string in_ten_minutes =
      Signed(kHs256Header, Claims(absl::StrCat(",\"nbf\":", kNow + 600)));
  absl::StatusOr<Identity> early = tokens.Verify(in_ten_minutes, kNow);
  EXPECT_EQ(ErrorCodeOf(early.status()), ErrorCode::kUnauthorized);
  EXPECT_EQ(early.status().message(), "token not yet valid");
  EXPECT_TRUE(Refused(tokens, in_ten_minutes, kNow + 600 - kNotBeforeLeewayS - 1));
  EXPECT_TRUE(tokens.Verify(in_ten_minutes, kNow + 600 - kNotBeforeLeewayS).ok());
  EXPECT_TRUE(tokens.Verify(in_ten_minutes, kNow + 600).ok());

  // Inside the leeway: good now; one second past it: not yet.
  EXPECT_TRUE(
      tokens
          .Verify(Signed(kHs256Header, Claims(absl::StrCat(",\"nbf\":", kNow + kNotBeforeLeewayS))),
                  kNow)
          .ok());
  EXPECT_TRUE(Refused(
      tokens, Signed(kHs256Header, Claims(absl::StrCat(",\"nbf\":", kNow + kNotBeforeLeewayS + 1))),
      kNow));
  // In the past, and far in the past, is fine.
  EXPECT_TRUE(
      tokens.Verify(Signed(kHs256Header, Claims(absl::StrCat(",\"nbf\":", kNow - 60))), kNow).ok());
  EXPECT_TRUE(tokens.Verify(Signed(kHs256Header, Claims(",\"nbf\":-1e18")), kNow).ok());
  // A fractional nbf rounds up: kNow + leeway + 0.5 is not yet valid at kNow.
  const std::string fractional =
      Signed(kHs256Header, Claims(absl::StrCat(",\"nbf\":", kNow + kNotBeforeLeewayS, ".5")));
  EXPECT_TRUE(Refused(tokens, fractional, kNow));
  EXPECT_TRUE(tokens.Verify(fractional, kNow + 1).ok());
}

// The cache holds a token decoded at any time; nbf, like exp, is judged
// against the clock of each call, in both directions.
TEST(TokenAuthority, ACachedTokenBecomesValidAtNbfAndNotBefore) {
  TokenAuthority tokens(kSecret);
  const std::string token = Signed(kHs256Header, Claims(absl::StrCat(",\"nbf\":", kNow + 600)));
  const int64_t valid_from = kNow + 600 - kNotBeforeLeewayS;
  EXPECT_TRUE(Refused(tokens, token, kNow));            // Decoded and cached.
  EXPECT_TRUE(tokens.Verify(token, valid_from).ok());   // From the cache: valid now.
  EXPECT_TRUE(Refused(tokens, token, valid_from - 1));  // And earlier, not.
  // Decoded first while valid, then asked about an earlier time.
  TokenAuthority fresh(kSecret);
  EXPECT_TRUE(fresh.Verify(token, valid_from).ok());
  EXPECT_TRUE(Refused(fresh, token, kNow));
}

TEST(TokenAuthority, ANbfThatIsNotANumberInRangeIsRefused) {
  TokenAuthority tokens(kSecret);
  for (const char* nbf : {R"("soon")", R"("0")", "null", "true", "[0]", "{}", "1e300", "-1e300",
                          "18446744073709551615"}) {
    SCOPED_TRACE(nbf);
    EXPECT_TRUE(
        Refused(tokens, Signed(kHs256Header, Claims(absl::StrCat(",\"nbf\":", nbf))), kNow));
  }
}

// `exp` has no leeway: the token is refused from its exp second on, the
// second at which a WebSocket holding it is closed with 1008.
TEST(TokenAuthority, ExpHasNoLeeway) {
  TokenAuthority tokens(kSecret);
  const std::string token = Signed(kHs256Header, R"({"sub":"alice","exp":1000.9})");
  EXPECT_TRUE(tokens.Verify(token, 999).ok());
  EXPECT_TRUE(Refused(tokens, token, 1000));
}

// The origin app's tokens carry a `tenant_memberships` array and grow with
// it: there is no size cap here but the request header limit of the caller.
TEST(TokenAuthority, LargeTokensVerify) {
  TokenAuthority tokens(kSecret);
  for (size_t memberships : {60, 600}) {
    std::string list;
    for (size_t i = 0; i < memberships; ++i) {
      absl::StrAppend(&list, i == 0 ? "" : ",", R"({"tenant_id":"tenant-)", i,
                      R"(","role":"member","joined_at":"2026-01-01T00:00:00Z"})");
    }
    const std::string token =
        Signed(kHs256Header,
               Claims(absl::StrCat(R"(,"type":"access","tenant_memberships":[)", list, "]")));
    SCOPED_TRACE(token.size());
    EXPECT_GT(token.size(), 4096u);
    absl::StatusOr<Identity> identity = tokens.Verify(token, kNow);
    ASSERT_TRUE(identity.ok()) << identity.status();
    EXPECT_EQ(identity->subject, "alice");
  }
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

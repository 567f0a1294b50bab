// Fuzz target: JWT verification (TokenAuthority::Verify, libjwt underneath).
//
// The first byte picks the mode:
//   0  the rest is the token as the client sent it (raw bytes);
//   1  structured: parts (separated by 0xff) header JSON, payload JSON, and
//      signature bytes, plus a flags byte; the target base64url-encodes them
//      into header.payload.signature and signs it with the server's secret
//      (HMAC-SHA256), or uses the fuzzer's signature bytes, or none at all,
//      so the claim checks behind the signature are reachable;
//   2  round trip: the rest is a subject; a token Issue()d for it verifies to
//      the same subject and role.
// Properties: nothing crashes or trips a sanitizer; a token not signed with
// the secret never verifies; a verified token has a non-empty sub, an exp in
// the future, an nbf (if any) no later than now plus the leeway, alg exactly
// "HS256" and no crit header; an issued token always verifies.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "tests/fuzz/fuzz_input.h"
#include "transport/token_authority.h"

namespace sbd::fuzz {
namespace {

constexpr int64_t kNowS = 1'800'000'000;
constexpr std::string_view kSecret = "fuzz-secret";

[[noreturn]] void Fail(std::string_view what, std::string_view token) {
  fprintf(stderr, "jwt_verify_fuzzer: %.*s\ntoken: %.*s\n", static_cast<int>(what.size()),
          what.data(), static_cast<int>(token.size()), token.data());
  abort();
}

const TokenAuthority& Authority() {
  static const TokenAuthority* authority = new TokenAuthority(std::string(kSecret));
  return *authority;
}

std::string Encode(std::string_view bytes, bool standard_alphabet) {
  // JWTs use unpadded base64url; the standard alphabet with padding is what
  // a sloppy client would send and must be refused or decoded safely.
  return standard_alphabet ? absl::Base64Escape(std::string(bytes))
                           : absl::WebSafeBase64Escape(std::string(bytes));
}

std::string HmacSha256(std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
           &length) == nullptr) {
    abort();
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

// What every verified token must satisfy.
void CheckVerified(const Identity& identity, std::string_view token) {
  if (identity.subject.empty()) Fail("verified a token without sub", token);
  if (identity.expires_at_s <= kNowS) Fail("verified an expired token", token);
  if (identity.not_before_s > kNowS + kNotBeforeLeewayS) Fail("verified a token before nbf", token);
}

// A header the fuzzer wrote must name exactly "HS256" (the name is
// case-sensitive, RFC 7515) and carry no crit (RFC 7515 §4.1.11).
void CheckHeader(std::string_view header_json, std::string_view token) {
  boost::system::error_code ec;
  boost::json::value header = boost::json::parse(header_json, ec);
  if (ec || !header.is_object()) return;  // libjwt refuses it or reads it its own way.
  const boost::json::value* alg = header.as_object().if_contains("alg");
  if (alg != nullptr && alg->is_string() && alg->as_string() != "HS256") {
    Fail("verified a token whose header names another algorithm", token);
  }
  if (header.as_object().contains("crit")) Fail("verified a token with a crit header", token);
}

void VerifyRaw(std::string_view token) {
  absl::StatusOr<Identity> identity = Authority().Verify(token, kNowS);
  if (identity.ok()) CheckVerified(*identity, token);
}

void VerifyStructured(FuzzInput& input) {
  const uint8_t flags = input.Byte();
  const std::string_view header = input.Part();
  const std::string_view payload = input.Part();
  const std::string_view signature = input.Part();
  const bool standard_alphabet = (flags & 4) != 0;
  const std::string signing_input =
      Encode(header, standard_alphabet) + "." + Encode(payload, standard_alphabet);
  std::string token = signing_input;
  bool correctly_signed = false;
  switch (flags & 3) {
    case 0:
    case 1:
      token += "." + Encode(HmacSha256(signing_input), standard_alphabet);
      correctly_signed = true;
      break;
    case 2:
      token += "." + Encode(signature, standard_alphabet);
      correctly_signed = signature == HmacSha256(signing_input);
      break;
    case 3:
      token += ".";  // alg "none" style: no signature at all.
      break;
  }
  if ((flags & 8) != 0) token += std::string(input.Rest());  // Trailing junk.
  absl::StatusOr<Identity> identity = Authority().Verify(token, kNowS);
  if (!identity.ok()) return;
  CheckVerified(*identity, token);
  CheckHeader(header, token);
  if (!correctly_signed && (flags & 8) == 0) {
    Fail("verified a token not signed with the server's secret", token);
  }
}

void RoundTrip(std::string_view subject) {
  // libjwt takes C strings: Issue() cuts a subject at an embedded NUL and
  // signs the prefix (reported; only the CLI and tests call Issue, and
  // neither can pass a NUL). Verify's side of it is covered by mode 1.
  if (subject.find('\0') != std::string_view::npos) return;
  absl::StatusOr<std::string> token =
      Authority().Issue(subject, subject.size() % 2 == 1, 60, kNowS);
  if (!token.ok()) return;  // libjwt refuses some subjects (not UTF-8): fine.
  absl::StatusOr<Identity> identity = Authority().Verify(*token, kNowS);
  if (!identity.ok()) Fail("an issued token does not verify", *token);
  if (identity->subject != subject) Fail("round trip changed the subject", *token);
  if (identity->admin != (subject.size() % 2 == 1)) Fail("round trip changed the role", *token);
  if (identity->expires_at_s != kNowS + 60) Fail("round trip changed exp", *token);
}

}  // namespace
}  // namespace sbd::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sbd::fuzz;
  FuzzInput input(data, size);
  switch (input.Byte() % 3) {
    case 0:
      VerifyRaw(input.Rest());
      break;
    case 1:
      VerifyStructured(input);
      break;
    case 2:
      RoundTrip(input.Rest());
      break;
  }
  return 0;
}

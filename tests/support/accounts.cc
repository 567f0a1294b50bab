#include "tests/support/accounts.h"

#include <boost/json.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/support/tokens.h"

namespace sbd::testing {
namespace {

absl::Status Expect(absl::StatusOr<HttpResponse> response, int status, std::string_view what) {
  if (!response.ok()) return response.status();
  if (response->status != status) {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(what), ": HTTP ", response->status, " ", response->body));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status OpenFundedAccount(HttpClient& client, std::string_view name, int64_t amount) {
  namespace json = boost::json;
  const std::string admin = MakeToken("root", /*admin=*/true);
  absl::Status opened = Expect(
      client.Post("/admin/accounts", json::serialize(json::object{{"username", name}}), admin), 201,
      "open");
  if (!opened.ok() || amount == 0) return opened;
  return Expect(
      client.Post("/admin/mint",
                  json::serialize(json::object{{"username", name}, {"amount", amount}}), admin),
      200, "mint");
}

}  // namespace sbd::testing

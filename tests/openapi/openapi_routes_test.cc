// The OpenAPI document (transport/web/openapi.json) against the router and
// the engine: every route the router serves is documented and every
// documented route is served (but for tests/openapi/not_yet_served.txt), the
// documented error codes are the engine's with the engine's HTTP statuses,
// and GET /openapi.json on the real binary serves the source file unchanged.
//
// The answers' shapes are checked by openapi.test.mjs (ctest openapi_answers)
// with a maintained JSON Schema validator.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/error_code.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "transport/http_status.h"
#include "transport/openapi_document.h"
#include "transport/routes.h"

namespace sbd::testing {
namespace {

namespace json = boost::json;

// The HTTP methods a Path Item Object may hold (OpenAPI 3.1 "Path Item").
const std::set<std::string> kOperationKeys = {"get",     "put",  "post",  "delete",
                                              "options", "head", "patch", "trace"};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

json::object Document() {
  json::value document = json::parse(OpenApiDocumentJson());
  EXPECT_TRUE(document.is_object());
  return document.is_object() ? document.get_object() : json::object();
}

// "METHOD PATH" of every operation in the document.
std::set<std::string> DocumentedRoutes(const json::object& document) {
  std::set<std::string> routes;
  for (const auto& [path, item] : document.at("paths").as_object()) {
    for (const auto& [key, unused] : item.as_object()) {
      if (kOperationKeys.contains(std::string(key))) {
        routes.insert(absl::AsciiStrToUpper(std::string(key)) + " " + std::string(path));
      }
    }
  }
  return routes;
}

std::set<std::string> ServedRoutes() {
  std::set<std::string> routes;
  for (const Routes::ServedRoute& route : Routes::ServedRoutes()) {
    EXPECT_TRUE(routes.insert(std::string(route.method) + " " + std::string(route.path)).second)
        << "served twice: " << route.method << " " << route.path;
  }
  return routes;
}

// The "METHOD PATH" lines of not_yet_served.txt (its "METHOD PATH STATUS"
// lines are answers, openapi.test.mjs's business).
std::set<std::string> NotYetServedRoutes() {
  std::set<std::string> routes;
  for (absl::string_view line : absl::StrSplit(ReadFile(SBD_OPENAPI_NOT_YET_SERVED), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() == 2) routes.insert(absl::StrCat(fields[0], " ", fields[1]));
  }
  return routes;
}

std::vector<std::string> Difference(const std::set<std::string>& a,
                                    const std::set<std::string>& b) {
  std::vector<std::string> only_in_a;
  for (const std::string& item : a) {
    if (!b.contains(item)) only_in_a.push_back(item);
  }
  return only_in_a;
}

TEST(OpenApiRoutesTest, EveryServedRouteIsDocumentedAndEveryDocumentedRouteIsServed) {
  const std::set<std::string> documented = DocumentedRoutes(Document());
  const std::set<std::string> served = ServedRoutes();
  const std::set<std::string> not_yet = NotYetServedRoutes();
  ASSERT_FALSE(served.empty());

  EXPECT_EQ(Difference(served, documented), std::vector<std::string>{})
      << "served but not in transport/web/openapi.json";
  std::set<std::string> documented_not_served;
  for (const std::string& route : Difference(documented, served)) {
    documented_not_served.insert(route);
  }
  EXPECT_EQ(Difference(documented_not_served, not_yet), std::vector<std::string>{})
      << "documented but not served, and not in tests/openapi/not_yet_served.txt";
  EXPECT_EQ(Difference(not_yet, documented_not_served), std::vector<std::string>{})
      << "in tests/openapi/not_yet_served.txt but served already (remove the line) or not "
         "documented";
}

// Every ErrorCode, by wire name. kUnavailable is the enum's last value.
std::map<std::string, ErrorCode> EngineErrorCodes() {
  std::map<std::string, ErrorCode> codes;
  for (int value = 0; value <= static_cast<int>(ErrorCode::kUnavailable); ++value) {
    const ErrorCode code = static_cast<ErrorCode>(value);
    codes.emplace(std::string(ErrorCodeName(code)), code);
  }
  return codes;
}

// InternalErrorAnswer's code (Routes::RejectStatus of a failure without an
// ErrorCode).
constexpr std::string_view kInternalErrorCode = "internal_error";
// The header-limit answer: code payload_too_large, with its own status.
constexpr int kHeaderFieldsTooLargeStatus = 431;

TEST(OpenApiRoutesTest, ErrorCodeEnumIsTheEngines) {
  const json::object document = Document();
  std::set<std::string> documented;
  for (const json::value& code :
       document.at("components").at("schemas").at("ErrorCode").at("enum").as_array()) {
    documented.insert(std::string(code.as_string()));
  }
  std::set<std::string> engine{std::string(kInternalErrorCode)};
  for (const auto& [name, unused] : EngineErrorCodes()) engine.insert(name);
  EXPECT_EQ(documented, engine);
}

// The codes a Response Object's JSON schema allows (an error answer narrows
// Error's code with `properties.code.enum` or `.const`).
std::vector<std::string> ResponseCodes(const json::object& document, const json::value& response) {
  const json::object* object = &response.as_object();
  if (const json::value* ref = object->if_contains("$ref")) {
    const std::string prefix = "#/components/responses/";
    const std::string name(ref->as_string());
    EXPECT_TRUE(name.starts_with(prefix)) << name;
    object = &document.at("components").at("responses").at(name.substr(prefix.size())).as_object();
  }
  std::vector<std::string> codes;
  const json::value* content = object->if_contains("content");
  if (content == nullptr) return codes;
  const json::value* media = content->as_object().if_contains("application/json");
  if (media == nullptr) return codes;
  const json::value* properties = media->at("schema").as_object().if_contains("properties");
  if (properties == nullptr || !properties->as_object().contains("code")) return codes;
  const json::object& code = properties->at("code").as_object();
  if (const json::value* value = code.if_contains("const")) {
    codes.emplace_back(value->as_string());
  }
  if (const json::value* values = code.if_contains("enum")) {
    for (const json::value& value : values->as_array()) codes.emplace_back(value.as_string());
  }
  return codes;
}

TEST(OpenApiRoutesTest, EachAnswersCodesHaveTheEnginesHttpStatus) {
  const json::object document = Document();
  const std::map<std::string, ErrorCode> engine = EngineErrorCodes();
  int checked = 0;
  auto check = [&](const std::string& where, std::string_view status, const json::value& response) {
    for (const std::string& code : ResponseCodes(document, response)) {
      ++checked;
      const int http_status = std::stoi(std::string(status));
      if (code == kInternalErrorCode) {
        EXPECT_EQ(http_status, 500) << where;
        continue;
      }
      auto found = engine.find(code);
      ASSERT_NE(found, engine.end()) << where << " " << status << ": unknown code " << code;
      if (http_status == kHeaderFieldsTooLargeStatus && code == "payload_too_large") continue;
      EXPECT_EQ(static_cast<int>(HttpStatusOf(found->second)), http_status)
          << where << " " << status << " documents " << code;
    }
  };
  for (const auto& [path, item] : document.at("paths").as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      if (!kOperationKeys.contains(std::string(method))) continue;
      for (const auto& [status, response] : operation.at("responses").as_object()) {
        check(std::string(method) + " " + std::string(path), status, response);
      }
    }
  }
  // The path-independent answers (404 not_found, 405, 431) that no operation
  // references, with the status they stand for.
  const std::map<std::string, int> independent = {
      {"NotFound", 404}, {"MethodNotAllowed", 405}, {"HeaderFieldsTooLarge", 431}};
  for (const auto& [name, status] : independent) {
    const json::value* response =
        document.at("components").at("responses").as_object().if_contains(name);
    ASSERT_NE(response, nullptr) << name;
    check(name, std::to_string(status), *response);
  }
  EXPECT_GT(checked, 50);  // The walk found the error answers at all.
}

TEST(OpenApiRoutesTest, ServedUnauthenticatedAsTheSourceFile) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClient client((*server)->port());
  absl::StatusOr<HttpResponse> response = client.Get("/openapi.json");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->Header("content-type"), "application/json");
  // The binary serves the file of the source tree as it is (the build
  // re-embeds it on every change). Compared as booleans: the document is
  // too long to print.
  const std::string source = ReadFile(SBD_OPENAPI_SOURCE);
  EXPECT_TRUE(response->body == source)
      << "served " << response->body.size() << " bytes, the source file has " << source.size()
      << "; the answer begins " << response->body.substr(0, 200);
  EXPECT_TRUE(OpenApiDocumentJson() == source) << "the embedded document is not the source file";
}

}  // namespace
}  // namespace sbd::testing

// Must: the value of a StatusOr a test needs in order to go on, failing the
// test (EXPECT, so the rest of it still runs and reports) and giving a
// default-constructed T when there is none.
//
// Thread-safety: as GoogleTest's assertions (any thread).
#ifndef SBD_TESTS_SUPPORT_MUST_H_
#define SBD_TESTS_SUPPORT_MUST_H_

#include <utility>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace sbd::testing {

template <typename T>
T Must(absl::StatusOr<T> value) {
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *std::move(value) : T{};
}

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_MUST_H_

// Debian 12's abseil (20220623) is built with ABSL_OPTION_USE_STD_STRING_VIEW
// = 0: absl::string_view is a type of its own that std::string_view does not
// convert to. Our interfaces use std::string_view; these two functions cross
// the boundary wherever an abseil API (Status, StrCat, hash-map lookup) wants
// its own view. Thread-safe: pure functions.
#ifndef SBD_ENGINE_ABSL_COMPAT_H_
#define SBD_ENGINE_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace sbd {

inline absl::string_view ToAbsl(std::string_view view) { return {view.data(), view.size()}; }

inline std::string_view ToStd(absl::string_view view) { return {view.data(), view.size()}; }

}  // namespace sbd

#endif  // SBD_ENGINE_ABSL_COMPAT_H_

// Reading a file whole, as tests compare what a tool wrote or check that a
// file was left byte for byte as it was.
//
// Thread-safety: a pure function of the file system.
#ifndef SBD_TESTS_SUPPORT_FILES_H_
#define SBD_TESTS_SUPPORT_FILES_H_

#include <string>

namespace sbd::testing {

// The whole file, or "" if it cannot be read.
std::string ReadWholeFile(const std::string& path);

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_FILES_H_

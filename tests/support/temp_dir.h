// TempDir: a fresh, empty directory of one test's own (mkdtemp under the
// system's temporary directory), removed with everything in it when the
// TempDir is destroyed. Test fixtures hold one as a member, so a failed or
// crashed assertion still leaves nothing behind for the next test.
//
// Thread-safety: immutable after construction; path() may be read from any
// thread.
#ifndef SBD_TESTS_SUPPORT_TEMP_DIR_H_
#define SBD_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>
#include <string_view>

namespace sbd::testing {

class TempDir {
 public:
  // `prefix` starts the directory's name ("<prefix>-XXXXXX"), so that a
  // directory left by a killed test says which one made it. Aborts if no
  // directory can be made: no test could run without one.
  explicit TempDir(std::string_view prefix = "sbd-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace sbd::testing

#endif  // SBD_TESTS_SUPPORT_TEMP_DIR_H_

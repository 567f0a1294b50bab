#include "tests/support/files.h"

#include <fstream>
#include <iterator>

namespace sbd::testing {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace sbd::testing

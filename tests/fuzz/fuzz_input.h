// FuzzInput: reads a fuzzer's byte string as a few structured parts, so one
// input can pick a mode and carry several fields. Every read is total: past
// the end it yields zeros or empty parts, never an error, so every byte
// string is a valid input.
//
// Thread-safety: none; one per input.
#ifndef SBD_TESTS_FUZZ_FUZZ_INPUT_H_
#define SBD_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sbd::fuzz {

// Separates the parts of an input read with Part(). 0xff never occurs in
// UTF-8 or in a JWT, so a part can hold any text the target cares about.
inline constexpr char kPartSeparator = '\xff';

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  // The next byte, or 0 at the end.
  uint8_t Byte() {
    if (rest_.empty()) return 0;
    const uint8_t byte = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return byte;
  }

  // The next `bytes` bytes (at most 8) as a little-endian integer.
  uint64_t Integer(int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value |= uint64_t{Byte()} << (8 * i);
    return value;
  }

  // Everything up to the next kPartSeparator (consumed) or the end.
  std::string_view Part() {
    const size_t end = rest_.find(kPartSeparator);
    std::string_view part = rest_.substr(0, end);
    rest_.remove_prefix(end == std::string_view::npos ? rest_.size() : end + 1);
    return part;
  }

  // Everything not read yet.
  std::string_view Rest() {
    std::string_view rest = rest_;
    rest_ = {};
    return rest;
  }

  bool empty() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace sbd::fuzz

#endif  // SBD_TESTS_FUZZ_FUZZ_INPUT_H_

#include "store/event_hash.h"

#include <openssl/evp.h>

#include <cassert>
#include <memory>
#include <string_view>

namespace sbd {
namespace {

// Fixed-width little-endian, so the bytes (and every recorded hash) are the
// same on any host.
void AppendInt(int64_t value, std::string& out) {
  auto bits = static_cast<uint64_t>(value);
  char bytes[8];
  for (char& byte : bytes) {
    byte = static_cast<char>(bits & 0xff);
    bits >>= 8;
  }
  out.append(bytes, sizeof bytes);
}

// Length-prefixed, so no two different field splits give the same bytes.
void AppendString(std::string_view value, std::string& out) {
  AppendInt(static_cast<int64_t>(value.size()), out);
  out.append(value);
}

// Appends the canonical bytes of `event` to `out`.
void AppendCanonicalBytes(const Event& event, std::string& out) {
  out.reserve(out.size() + 8 * 12 + event.actor.size() + event.from_account.size() +
              event.to_account.size() + event.transaction_id.size() + event.note.size() +
              event.reason.size());
  AppendInt(event.seq, out);
  AppendInt(static_cast<int64_t>(event.type), out);
  AppendInt(event.timestamp_ms, out);
  AppendString(event.actor, out);
  AppendString(event.from_account, out);
  AppendString(event.to_account, out);
  AppendInt(event.amount, out);
  AppendInt(event.from_balance, out);
  AppendInt(event.to_balance, out);
  AppendString(event.transaction_id, out);
  AppendString(event.note, out);
  // Schema version 2 added `reason`. Only a non-empty one is hashed, so an
  // event without one (every event of a version 1 log) hashes exactly as it
  // did then and old chains stay valid. Still unambiguous: the event's bytes
  // end the hash input, so bytes after the note can only be the reason.
  if (!event.reason.empty()) AppendString(event.reason, out);
}

}  // namespace

std::string CanonicalEventBytes(const Event& event) {
  std::string out;
  AppendCanonicalBytes(event, out);
  return out;
}

EventHash ChainHash(const EventHash& previous, const Event& event) {
  // This runs for every appended and every read event, so it reuses per
  // thread what the one-shot SHA256() would make anew each call: the byte
  // buffer (its capacity), the digest context, and the SHA-256 algorithm,
  // which OpenSSL 3 otherwise looks up in its provider table every time.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local std::string input;
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  assert(sha256 != nullptr && context != nullptr);
  input.assign(reinterpret_cast<const char*>(previous.data()), previous.size());
  AppendCanonicalBytes(event, input);
  EventHash hash;
  unsigned int length = 0;
  const bool ok = EVP_DigestInit_ex2(context.get(), sha256, nullptr) == 1 &&
                  EVP_DigestUpdate(context.get(), input.data(), input.size()) == 1 &&
                  EVP_DigestFinal_ex(context.get(), hash.data(), &length) == 1;
  // SHA-256 over memory cannot fail short of a broken OpenSSL.
  assert(ok && length == hash.size());
  (void)ok;
  return hash;
}

std::string HashHex(const EventHash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(hash.size() * 2);
  for (uint8_t byte : hash) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

}  // namespace sbd

#include "store/event_hash.h"

#include <openssl/evp.h>

#include <cassert>
#include <string_view>

namespace sbd {
namespace {

// Fixed-width little-endian, so the bytes (and every recorded hash) are the
// same on any host.
void AppendInt(int64_t value, std::string& out) {
  auto bits = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>(bits & 0xff));
    bits >>= 8;
  }
}

// Length-prefixed, so no two different field splits give the same bytes.
void AppendString(std::string_view value, std::string& out) {
  AppendInt(static_cast<int64_t>(value.size()), out);
  out.append(value);
}

}  // namespace

std::string CanonicalEventBytes(const Event& event) {
  std::string out;
  out.reserve(8 * 11 + event.actor.size() + event.from_account.size() + event.to_account.size() +
              event.transaction_id.size() + event.note.size());
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
  return out;
}

EventHash ChainHash(const EventHash& previous, const Event& event) {
  const std::string bytes = CanonicalEventBytes(event);
  EventHash hash;
  unsigned int hash_size = 0;
  // EVP_Digest on a fresh context per call: no shared state, so thread-safe.
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  // OpenSSL fails these only on allocation failure or a missing SHA-256, which
  // no supported build has: a programmer/environment error, not an operating one.
  [[maybe_unused]] bool ok = context != nullptr &&
                             EVP_DigestInit_ex(context, EVP_sha256(), nullptr) == 1 &&
                             EVP_DigestUpdate(context, previous.data(), previous.size()) == 1 &&
                             EVP_DigestUpdate(context, bytes.data(), bytes.size()) == 1 &&
                             EVP_DigestFinal_ex(context, hash.data(), &hash_size) == 1;
  EVP_MD_CTX_free(context);
  assert(ok && hash_size == hash.size());
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

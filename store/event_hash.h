// The hash chain of the event log (docs/EVENT_LOG.md, "Hash chain"):
// hash(n) = SHA-256(hash(n-1) || canonical bytes of event n), hash(0) = 32 zero
// bytes. Thread-safe: pure functions.
#ifndef SBD_STORE_EVENT_HASH_H_
#define SBD_STORE_EVENT_HASH_H_

#include <array>
#include <cstdint>
#include <string>

#include "engine/event.h"

namespace sbd {

using EventHash = std::array<uint8_t, 32>;

// The chain's start: the "previous hash" of event 1.
inline constexpr EventHash kGenesisHash{};

// The canonical bytes of `event` that the chain hashes: every field of
// schema version 1 in row order, integers as 8 little-endian bytes, strings
// as an 8-byte length then the bytes; then the reason the same way, only if
// it is not empty.
std::string CanonicalEventBytes(const Event& event);

EventHash ChainHash(const EventHash& previous, const Event& event);

std::string HashHex(const EventHash& hash);

}  // namespace sbd

#endif  // SBD_STORE_EVENT_HASH_H_

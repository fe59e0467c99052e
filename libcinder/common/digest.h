// SHA-1 and HMAC-SHA1, for the volume transfers' auth keys (Cinder's hmac.new(salt, key, sha1));
// Curve25519 keys, for the transport's CURVE key pair; base64, for binary data in RPC messages.
// All on libcrypto.
#ifndef CINDER_COMMON_DIGEST_H_
#define CINDER_COMMON_DIGEST_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "cinder/status.h"

namespace cinder {

std::array<uint8_t, 20> Sha1(std::string_view data);
// Lower-case hex of HMAC-SHA1(key, message).
std::string HmacSha1Hex(std::string_view key, std::string_view message);
// `length` characters of [0-9a-f] from the system's random source.
std::string RandomHex(size_t length);
// `length` (>= 3) characters with a digit, an upper- and a lower-case letter, none of them
// easily confused (Cinder's volume_utils.generate_password): CHAP user names and secrets.
std::string RandomPassword(size_t length);

// Standard base64 (RFC 4648, with padding).
std::string ToBase64(std::string_view in);
// False for anything that is not canonical padded base64 (whitespace, a length that is not a
// multiple of 4, padding before the end).
bool FromBase64(std::string_view in, std::string* out);

// A Curve25519 (X25519, RFC 7748) key pair, as ZeroMQ's CURVE uses it: 32 random bytes of
// secret key and the public key derived from it.
using Curve25519Key = std::array<uint8_t, 32>;
struct Curve25519KeyPair {
  Curve25519Key public_key{};
  Curve25519Key secret_key{};
};
// A new key pair from libcrypto's generator; Internal when libcrypto fails.
Result<Curve25519KeyPair> NewCurve25519KeyPair();
// The public key of `secret_key`.
Result<Curve25519Key> Curve25519PublicKey(const Curve25519Key& secret_key);

}  // namespace cinder

#endif  // CINDER_COMMON_DIGEST_H_

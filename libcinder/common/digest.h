// SHA-1 and HMAC-SHA1, for the volume transfers' auth keys (Cinder's hmac.new(salt, key, sha1)).
#ifndef CINDER_COMMON_DIGEST_H_
#define CINDER_COMMON_DIGEST_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace cinder {

std::array<uint8_t, 20> Sha1(std::string_view data);
// Lower-case hex of HMAC-SHA1(key, message).
std::string HmacSha1Hex(std::string_view key, std::string_view message);
// `length` characters of [0-9a-f] from the system's random source.
std::string RandomHex(size_t length);

}  // namespace cinder

#endif  // CINDER_COMMON_DIGEST_H_

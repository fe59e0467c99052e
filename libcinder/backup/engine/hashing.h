// SHA-256 (the 32 KiB block hashes of _sha256file) and MD5 (each object's "md5") on libcrypto's
// EVP interface, which uses the CPU's SHA extensions. A Hasher is one thread's: it keeps its
// EVP contexts between calls.
#ifndef CINDER_BACKUP_ENGINE_HASHING_H_
#define CINDER_BACKUP_ENGINE_HASHING_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cinder::backup {

using Sha256Digest = std::array<uint8_t, 32>;

class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  Sha256Digest Sha256(const char* data, size_t n);
  // MD5 in pieces: Md5Begin, Md5Update..., Md5HexEnd (lower-case hex, as hexdigest()).
  void Md5Begin();
  void Md5Update(const char* data, size_t n);
  std::string Md5HexEnd();

 private:
  void* sha_ctx_;  // EVP_MD_CTX
  void* md5_ctx_;
};

// Lower-case hex of `n` bytes.
std::string ToHex(const uint8_t* data, size_t n);
// 64 hex digits (either case) to a digest; false when it is not that.
bool ParseSha256Hex(std::string_view hex, Sha256Digest* out);

// True when all `n` bytes are zero (fast: 64 bytes at a time).
bool IsAllZero(const char* data, size_t n);

}  // namespace cinder::backup

#endif  // CINDER_BACKUP_ENGINE_HASHING_H_

#include "backup/engine/hashing.h"

#include <openssl/evp.h>

#include <cstring>

namespace cinder::backup {

namespace {

// Fetched once: an implicit fetch per digest costs more than hashing a small block.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
const EVP_MD* Md5Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", "-fips");
  return md;
}

}  // namespace

Hasher::Hasher() : sha_ctx_(EVP_MD_CTX_new()), md5_ctx_(EVP_MD_CTX_new()) {}

Hasher::~Hasher() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(sha_ctx_));
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(md5_ctx_));
}

Sha256Digest Hasher::Sha256(const char* data, size_t n) {
  auto* ctx = static_cast<EVP_MD_CTX*>(sha_ctx_);
  Sha256Digest out{};
  unsigned int len = 0;
  EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr);
  EVP_DigestUpdate(ctx, data, n);
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  return out;
}

void Hasher::Md5Begin() { EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(md5_ctx_), Md5Md(), nullptr); }

void Hasher::Md5Update(const char* data, size_t n) { EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(md5_ctx_), data, n); }

std::string Hasher::Md5HexEnd() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(md5_ctx_), out, &len);
  return ToHex(out, len);
}

std::string ToHex(const uint8_t* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

bool ParseSha256Hex(std::string_view hex, Sha256Digest* out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool IsAllZero(const char* data, size_t n) {
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t w[8];
    std::memcpy(w, data + i, 64);
    if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0) return false;
  }
  for (; i < n; ++i) {
    if (data[i] != 0) return false;
  }
  return true;
}

}  // namespace cinder::backup

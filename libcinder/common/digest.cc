// OpenSSL's libcrypto (linked by cinder_common only).
#include "common/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>

namespace cinder {

std::array<uint8_t, 20> Sha1(std::string_view data) {
  std::array<uint8_t, 20> out{};
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha1(), nullptr) != 1 || n != out.size()) {
    throw std::runtime_error("libcrypto cannot compute SHA-1");  // only without memory
  }
  return out;
}

std::string HmacSha1Hex(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  // An empty key still needs a valid pointer.
  static const unsigned char kEmpty = 0;
  const void* k = key.empty() ? &kEmpty : static_cast<const void*>(key.data());
  if (!HMAC(EVP_sha1(), k, static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
            message.size(), mac, &n)) {
    throw std::runtime_error("libcrypto cannot compute HMAC-SHA1");
  }
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", mac[i]);
    hex += buf;
  }
  return hex;
}

// From libcrypto's generator (seeded by the system); the system's random device if it fails.
std::string ToBase64(std::string_view in) {
  std::string out((in.size() + 2) / 3 * 4, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n < 0 ? 0 : n);
  return out;
}

bool FromBase64(std::string_view in, std::string* out) {
  // libcrypto's decoder skips whitespace and takes '=' anywhere: only canonical text passes.
  if (in.size() % 4 != 0) return false;
  const size_t pad = in.size() - std::min(in.size(), in.find_last_not_of('=') + 1);
  if (pad > 2 || in.find('=') < in.size() - pad) return false;
  if (in.find_first_of(" \t\r\n\f\v") != std::string_view::npos) return false;
  out->assign(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return false;
  out->resize(n - pad);
  return true;
}

namespace {

// A random index below `n`, from libcrypto's generator (rejection sampling: no bias).
size_t RandomBelow(size_t n) {
  const uint32_t limit = UINT32_MAX - UINT32_MAX % static_cast<uint32_t>(n);
  for (;;) {
    uint32_t r = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&r), sizeof r) != 1) r = std::random_device()();
    if (r < limit) return r % n;
  }
}

}  // namespace

std::string RandomPassword(size_t length) {
  static const char* const kGroups[] = {"23456789", "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz"};
  std::string all;
  for (const char* g : kGroups) all += g;
  std::string out;
  for (const char* g : kGroups) {
    if (out.size() < length) out += g[RandomBelow(std::strlen(g))];
  }
  while (out.size() < length) out += all[RandomBelow(all.size())];
  for (size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[RandomBelow(i)]);  // Fisher-Yates
  return out;
}

std::string RandomHex(size_t length) {
  static const char kDigits[] = "0123456789abcdef";
  std::string bytes((length + 1) / 2, '\0');
  if (!bytes.empty() &&
      RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) != 1) {
    std::random_device rd;
    for (auto& b : bytes) b = static_cast<char>(rd());
  }
  std::string out;
  out.reserve(length);
  for (size_t i = 0; i < length; ++i) {
    const auto b = static_cast<uint8_t>(bytes[i / 2]);
    out += kDigits[i % 2 == 0 ? b >> 4 : b & 0xf];
  }
  return out;
}

Result<Curve25519Key> Curve25519PublicKey(const Curve25519Key& secret_key) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, secret_key.data(), secret_key.size());
  if (!key) return Internal("libcrypto cannot load an X25519 key");
  Curve25519Key out{};
  size_t n = out.size();
  const bool ok = EVP_PKEY_get_raw_public_key(key, out.data(), &n) == 1 && n == out.size();
  EVP_PKEY_free(key);
  if (!ok) return Internal("libcrypto cannot derive an X25519 public key");
  return out;
}

Result<Curve25519KeyPair> NewCurve25519KeyPair() {
  Curve25519KeyPair pair;
  if (RAND_bytes(pair.secret_key.data(), static_cast<int>(pair.secret_key.size())) != 1) {
    return Internal("libcrypto's random generator failed");
  }
  CINDER_ASSIGN_OR_RETURN(pair.public_key, Curve25519PublicKey(pair.secret_key));
  return pair;
}

}  // namespace cinder

#include "auth/password.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "common/digest.h"
#include "common/util.h"

namespace cinder::auth {

namespace {

constexpr size_t kBcryptMax = 72;
constexpr size_t kPbkdf2SaltBytes = 16;
constexpr size_t kPbkdf2HashBytes = 64;

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

// base64 without padding, in one of two alphabets: url-safe ("-_", tokens) or passlib's
// adapted base64 ("./" in place of "+/").
std::string B64NoPad(const std::string& bytes, char c62, char c63) {
  std::string b = ToBase64(bytes);
  while (!b.empty() && b.back() == '=') b.pop_back();
  for (char& c : b) {
    if (c == '+') c = c62;
    if (c == '/') c = c63;
  }
  return b;
}

bool FromAb64(std::string in, std::string* out) {
  for (char& c : in) {
    if (c == '.') c = '+';
  }
  while (in.size() % 4 != 0) in.push_back('=');
  return FromBase64(in, out);
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Pbkdf2(const std::string& password, const std::string& salt, int rounds) {
  std::string out(kPbkdf2HashBytes, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), rounds,
                        EVP_sha512(), static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  }
  return out;
}

// crypt_rn over `setting` (a bcrypt salt or a whole hash); "" when libcrypt refuses it.
std::string Crypt(const std::string& password, const std::string& setting) {
  crypt_data data;
  std::memset(&data, 0, sizeof data);
  std::string pw = password.substr(0, kBcryptMax);
  const char* out = crypt_rn(pw.c_str(), setting.c_str(), &data, sizeof data);
  if (!out || out[0] == '*') return "";
  return out;
}

}  // namespace

Result<std::string> HashPassword(const std::string& password, const std::string& algorithm, int rounds) {
  if (algorithm == "bcrypt") {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (rounds < 4 || rounds > 31) return InvalidArgument("password_hash_rounds must be 4-31 for bcrypt");
    if (!crypt_gensalt_rn("$2b$", static_cast<unsigned long>(rounds), nullptr, 0, setting, sizeof setting)) {
      return Internal("libcrypt cannot make a bcrypt salt");
    }
    std::string hash = Crypt(password, setting);
    if (hash.empty()) return Internal("libcrypt cannot hash with bcrypt");
    return hash;
  }
  if (algorithm == "pbkdf2_sha512") {
    std::string salt = RandomBytes(kPbkdf2SaltBytes);
    return "$pbkdf2-sha512$" + std::to_string(rounds) + "$" + B64NoPad(salt, '.', '/') + "$" +
           B64NoPad(Pbkdf2(password, salt, rounds), '.', '/');
  }
  return InvalidArgument("unknown password_hash_algorithm " + algorithm);
}

bool CheckPassword(const std::string& password, const std::string& hash) {
  if (hash.rfind("$2", 0) == 0) {
    std::string again = Crypt(password, hash);
    return !again.empty() && ConstantTimeEquals(again, hash);
  }
  if (hash.rfind("$pbkdf2-sha512$", 0) == 0) {
    auto parts = Split(hash, '$');  // "", "pbkdf2-sha512", rounds, salt, checksum
    if (parts.size() != 5) return false;
    auto rounds = ParseInt(parts[2]);
    std::string salt, checksum;
    if (!rounds || *rounds < 1 || *rounds > 100000000 || !FromAb64(parts[3], &salt) || !FromAb64(parts[4], &checksum)) {
      return false;
    }
    return ConstantTimeEquals(Pbkdf2(password, salt, static_cast<int>(*rounds)), checksum);
  }
  return false;
}

void CheckNoPassword(const std::string& password, const std::string& algorithm, int rounds) {
  // A hash made once per process and configuration, never matching anything a client sends.
  static const std::string* dummy = nullptr;
  static std::once_flag once;
  std::call_once(once, [&] {
    auto h = HashPassword(RandomBytes(24), algorithm, rounds);
    dummy = new std::string(h.ok() ? *h : "");
  });
  (void)CheckPassword(password, *dummy);
}

std::string NewToken() { return B64NoPad(RandomBytes(32), '-', '_'); }
std::string NewAuditId() { return B64NoPad(RandomBytes(16), '-', '_'); }

std::string Sha256Hex(const std::string& text) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char c : md) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

}  // namespace cinder::auth

// Password hashes, as Keystone stores them: bcrypt ("$2b$", through libcrypt) or PBKDF2-SHA512
// in passlib's format ("$pbkdf2-sha512$ROUNDS$SALT$CHECKSUM", through libcrypto).
#ifndef CINDER_AUTH_PASSWORD_H_
#define CINDER_AUTH_PASSWORD_H_

#include <string>

#include "cinder/status.h"

namespace cinder::auth {

// `algorithm`: "bcrypt" (`rounds` is its cost, 4-31) or "pbkdf2_sha512" (`rounds` iterations).
// bcrypt reads the first 72 bytes, as Keystone's truncation does.
Result<std::string> HashPassword(const std::string& password, const std::string& algorithm, int rounds);
// Whether `password` matches `hash`, compared in constant time; false for a malformed hash.
bool CheckPassword(const std::string& password, const std::string& hash);
// Spends about the time CheckPassword would on a real hash, for a user that does not exist
// (so that a login's time does not tell whether the user exists).
void CheckNoPassword(const std::string& password, const std::string& algorithm, int rounds);

// 256 random bits, base64url without padding (43 characters): a token.
std::string NewToken();
// 128 random bits, base64url without padding (22 characters): Keystone's audit ids.
std::string NewAuditId();
// Lower-case hex SHA-256 of `text`: what the database keeps of a token.
std::string Sha256Hex(const std::string& text);

}  // namespace cinder::auth

#endif  // CINDER_AUTH_PASSWORD_H_

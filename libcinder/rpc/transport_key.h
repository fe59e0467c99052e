// The deployment's transport key: one CURVE key pair (ZeroMQ's authenticated encryption) held
// by every service of a deployment, in a file made by `cinder-manage transport keygen`
// (standard library only; the keys are made and checked with libcrypto, so cinder-manage
// does not link ZeroMQ).
//
//   # libcinder transport key (ZeroMQ CURVE) ...
//   public_key = <40 characters of Z85>
//   secret_key = <40 characters of Z85>
#ifndef CINDER_RPC_TRANSPORT_KEY_H_
#define CINDER_RPC_TRANSPORT_KEY_H_

#include <optional>
#include <string>
#include <string_view>

#include "cinder/status.h"

namespace cinder::rpc {

struct TransportKey {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// A new random key pair.
Result<TransportKey> NewTransportKey();

// Writes `key` to a new file at `path`, mode 0600, and syncs it. AlreadyExists when the file
// exists: a deployment has one key, and replacing it on one host would cut that host off.
Status WriteTransportKey(const std::string& path, const TransportKey& key);

// Reads the key file at `path`. FailedPrecondition when it cannot be read or other users may
// read it; InvalidArgument when it is not a key file or its keys do not belong together. The
// messages name the file and never a key.
Result<TransportKey> ReadTransportKey(const std::string& path);

// Z85 (ZeroMQ RFC 32) of `data`, whose size must be a multiple of 4.
std::string Z85Encode(std::string_view data);
// The bytes of Z85 `text`; nullopt when its size is not a multiple of 5 or it holds a
// character outside Z85's alphabet.
std::optional<std::string> Z85Decode(std::string_view text);

}  // namespace cinder::rpc

#endif  // CINDER_RPC_TRANSPORT_KEY_H_

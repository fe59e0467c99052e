#include "rpc/transport_key.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "common/digest.h"
#include "common/util.h"

namespace cinder::rpc {

namespace {

constexpr char kZ85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

std::string Errno(int e) { return std::strerror(e); }

std::string Z85(const Curve25519Key& key) {
  return Z85Encode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

// The 32 bytes of a Z85 key, or nullopt.
std::optional<Curve25519Key> Key32(std::string_view z85) {
  auto bytes = Z85Decode(z85);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  Curve25519Key key{};
  std::memcpy(key.data(), bytes->data(), key.size());
  return key;
}

}  // namespace

std::string Z85Encode(std::string_view data) {
  std::string out;
  out.reserve(data.size() / 4 * 5);
  for (size_t i = 0; i + 4 <= data.size(); i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) v = v << 8 | static_cast<uint8_t>(data[i + j]);
    char group[5];
    for (int j = 4; j >= 0; --j) {
      group[j] = kZ85[v % 85];
      v /= 85;
    }
    out.append(group, 5);
  }
  return out;
}

std::optional<std::string> Z85Decode(std::string_view text) {
  if (text.size() % 5 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (size_t i = 0; i < text.size(); i += 5) {
    uint64_t v = 0;
    for (size_t j = 0; j < 5; ++j) {
      const char* at = text[i + j] ? std::strchr(kZ85, text[i + j]) : nullptr;
      if (!at) return std::nullopt;
      v = v * 85 + static_cast<uint64_t>(at - kZ85);
    }
    if (v > 0xFFFFFFFFull) return std::nullopt;
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>(v >> shift & 0xFF);
  }
  return out;
}

Result<TransportKey> NewTransportKey() {
  CINDER_ASSIGN_OR_RETURN(Curve25519KeyPair pair, NewCurve25519KeyPair());
  return TransportKey{Z85(pair.public_key), Z85(pair.secret_key)};
}

Status WriteTransportKey(const std::string& path, const TransportKey& key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return AlreadyExists(path +
                           " exists: a deployment has one transport key (to replace it, remove the file, make a new "
                           "one, copy it to every host and restart every service)");
    }
    return FailedPrecondition(path + ": cannot create the transport key file: " + Errno(errno));
  }
  const std::string text =
      "# libcinder transport key (ZeroMQ CURVE), made by `cinder-manage transport keygen`.\n"
      "# Every service of the deployment reads this file (cinder.conf: transport_key_file); copy it\n"
      "# to each host as it is, readable only by the user the services run as (mode 0600).\n"
      "public_key = " +
      key.public_key + "\nsecret_key = " + key.secret_key + "\n";
  Status st;
  if (::fchmod(fd, 0600) != 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd) != 0) {
    st = FailedPrecondition(path + ": cannot write the transport key file: " + Errno(errno));
  }
  if (::close(fd) != 0 && st.ok()) st = FailedPrecondition(path + ": cannot write the transport key file");
  if (!st.ok()) ::unlink(path.c_str());
  return st;
}

Result<TransportKey> ReadTransportKey(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FailedPrecondition(path + ": cannot read the transport key: " + Errno(errno));
  struct stat st {};
  std::string text;
  bool read_ok = ::fstat(fd, &st) == 0;
  if (read_ok && (st.st_mode & 0007) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return FailedPrecondition(path + ": the transport key is open to other users (mode " + mode + "); chmod 600 " +
                              path);
  }
  char buf[4096];
  for (ssize_t n; read_ok && (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      read_ok = false;
    } else if (text.size() + static_cast<size_t>(n) > 65536) {
      read_ok = false;  // not a key file
    } else {
      text.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (!read_ok) return FailedPrecondition(path + ": cannot read the transport key");
  std::optional<Curve25519Key> pub, sec;
  for (const auto& raw : Split(text, '\n')) {
    const std::string line = Trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');  // the first '=': Z85 has '=' in its alphabet too
    const std::string name = eq == std::string::npos ? line : Trim(line.substr(0, eq));
    const std::string value = eq == std::string::npos ? "" : Trim(line.substr(eq + 1));
    if (name == "public_key") {
      pub = Key32(value);
      if (!pub) return InvalidArgument(path + ": public_key is not 40 characters of Z85");
    } else if (name == "secret_key") {
      sec = Key32(value);
      if (!sec) return InvalidArgument(path + ": secret_key is not 40 characters of Z85");
    } else {
      return InvalidArgument(path + ": not a transport key file (expected public_key = ... and secret_key = ...)");
    }
  }
  if (!pub || !sec) return InvalidArgument(path + ": not a transport key file (public_key or secret_key missing)");
  CINDER_ASSIGN_OR_RETURN(Curve25519Key derived, Curve25519PublicKey(*sec));
  if (derived != *pub) return InvalidArgument(path + ": its public_key is not the public key of its secret_key");
  return TransportKey{Z85(*pub), Z85(*sec)};
}

}  // namespace cinder::rpc

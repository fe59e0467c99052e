// Microversions: parsing OpenStack-API-Version as Cinder does.
#ifndef CINDER_API_API_VERSION_H_
#define CINDER_API_API_VERSION_H_

#include <optional>
#include <string>

namespace cinder::api {

struct ApiVersion {
  int major = 3;
  int minor = 0;
  bool AtLeast(int maj, int min) const { return major > maj || (major == maj && minor >= min); }
  std::string ToString() const { return std::to_string(major) + "." + std::to_string(minor); }
};

// The range this server implements. The maximum is the highest version whose changes to the
// resources served here are implemented (see docs/api.md).
inline constexpr ApiVersion kMinVersion{3, 0};
inline constexpr ApiVersion kMaxVersion{3, 70};

struct VersionParse {
  ApiVersion version;   // also set, to the version asked for, with a 406
  int http_status = 0;  // 0 when OK, else 400 or 406
  std::string error;
};

// `header` is the OpenStack-API-Version value, nullopt when the header is absent (3.0).
VersionParse ParseVersionHeader(const std::optional<std::string>& header);

}  // namespace cinder::api

#endif  // CINDER_API_API_VERSION_H_

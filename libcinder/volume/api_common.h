// What the API-side classes of this folder share: Cinder's checks of names and metadata.
#ifndef CINDER_VOLUME_API_COMMON_H_
#define CINDER_VOLUME_API_COMMON_H_

#include <string>

#include "cinder/context.h"
#include "cinder/status.h"
#include "cinder/volume.h"

namespace cinder {

inline Status CheckLength(const std::string& what, const std::string& value, size_t max) {
  if (value.size() > max) {
    return InvalidArgument("Invalid input received: " + what + " has " + std::to_string(value.size()) +
                           " characters, more than " + std::to_string(max) + ".");
  }
  return Status::OK();
}

inline Status CheckMetadata(const Metadata& md) {
  for (const auto& [k, v] : md) {
    if (k.empty()) return InvalidArgument("Invalid input received: Metadata property key blank.");
    if (k.size() > 255) {
      return InvalidArgument("Invalid input received: Metadata property key greater than 255 characters.");
    }
    if (v.size() > 255) {
      return InvalidArgument("Invalid input received: Metadata property value greater than 255 characters.");
    }
  }
  return Status::OK();
}

}  // namespace cinder

#endif  // CINDER_VOLUME_API_COMMON_H_

// What the API-side classes of this folder share: the volume host topic of a volume, RPC
// requests, how long they wait, and Cinder's checks of names and metadata.
#ifndef CINDER_VOLUME_API_COMMON_H_
#define CINDER_VOLUME_API_COMMON_H_

#include <chrono>
#include <string>

#include "cinder/context.h"
#include "cinder/status.h"
#include "cinder/transport.h"
#include "cinder/volume.h"
#include "rpc/args.h"
#include "volume/volume_service.h"

namespace cinder {

// How long the API waits on the other services.
inline constexpr std::chrono::milliseconds kCallTimeout(30000);
inline constexpr std::chrono::milliseconds kCastTimeout(3000);

// The volume host's topic of a host@backend#pool.
inline std::string TopicOfHost(const std::string& host) { return VolumeTopic(host.substr(0, host.find('#'))); }
inline std::string TopicOf(const Volume& v) { return TopicOfHost(v.host); }

inline RpcRequest Request(const RequestContext& ctx, const std::string& method, const rpc::Args& args) {
  RpcRequest r;
  r.method = method;
  r.args = args.Encode();
  r.ctx = ctx;
  return r;
}

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

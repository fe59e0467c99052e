#include "api/api_version.h"

#include <regex>

#include "common/util.h"

namespace cinder::api {

VersionParse ParseVersionHeader(const std::optional<std::string>& header) {
  VersionParse out;
  out.version = kMinVersion;
  if (!header) return out;
  std::optional<std::string> value;
  for (const auto& part : Split(*header, ',')) {
    std::string p = Trim(part);
    auto space = p.find(' ');
    if (space != std::string::npos && ToLower(p.substr(0, space)) == "volume") {
      value = Trim(p.substr(space + 1));
    }
  }
  if (!value) {
    out.http_status = 400;
    out.error = "API version request is missing the 'volume' service type: '" + *header +
                "'. Send 'OpenStack-API-Version: volume 3.x'.";
    return out;
  }
  if (ToLower(*value) == "latest") {
    out.version = kMaxVersion;
    return out;
  }
  static const std::regex kPattern("^([1-9]\\d*)\\.([1-9]\\d*|0)$");
  std::smatch m;
  if (!std::regex_match(*value, m, kPattern)) {
    out.http_status = 400;
    out.error = "API Version String " + *value + " is of invalid format. Must be of format MajorNum.MinorNum.";
    return out;
  }
  ApiVersion v;
  try {
    v.major = std::stoi(m[1].str());
    v.minor = std::stoi(m[2].str());
  } catch (...) {
    out.http_status = 400;
    out.error = "API Version String " + *value + " is of invalid format. Must be of format MajorNum.MinorNum.";
    return out;
  }
  if (!v.AtLeast(kMinVersion.major, kMinVersion.minor) || !kMaxVersion.AtLeast(v.major, v.minor)) {
    out.http_status = 406;
    out.version = v;  // echoed in the 406 answer, as Cinder does
    out.error = "Version " + v.ToString() + " is not supported by the API. Minimum is " + kMinVersion.ToString() +
                " and maximum is " + kMaxVersion.ToString() + ".";
    return out;
  }
  out.version = v;
  return out;
}

}  // namespace cinder::api

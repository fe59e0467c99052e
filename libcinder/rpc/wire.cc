#include "rpc/wire.h"

#include <algorithm>

#include "common/util.h"

namespace cinder::rpc {

namespace {
constexpr char kSep = '\x1f';  // unit separator: cannot appear in ids, names or roles
}

std::string EncodeContext(const RequestContext& ctx) {
  // A separator inside a field would shift the others (is_admin among them): drop it.
  auto clean = [](std::string s) {
    s.erase(std::remove(s.begin(), s.end(), kSep), s.end());
    return s;
  };
  std::string roles;
  for (const auto& r : ctx.roles) roles += (roles.empty() ? "" : ",") + clean(r);
  return clean(ctx.user_id) + kSep + clean(ctx.project_id) + kSep + roles + kSep + (ctx.is_admin ? "1" : "0") + kSep +
         clean(ctx.request_id);
}

RequestContext DecodeContext(const std::string& text) {
  auto parts = Split(text, kSep);
  parts.resize(5);
  RequestContext ctx;
  ctx.user_id = parts[0];
  ctx.project_id = parts[1];
  for (auto& r : Split(parts[2], ',')) {
    if (!r.empty()) ctx.roles.push_back(r);
  }
  ctx.is_admin = parts[3] == "1";
  ctx.request_id = parts[4];
  return ctx;
}

Code CodeFromName(const std::string& name) {
  for (int c = static_cast<int>(Code::kOk); c <= static_cast<int>(Code::kInternal); ++c) {
    if (name == CodeName(static_cast<Code>(c))) return static_cast<Code>(c);
  }
  return Code::kInternal;
}

Status CheckVersion(const RpcRequest& request) {
  if (request.version == kRpcVersion) return Status::OK();
  return Unimplemented("RPC version " + std::to_string(request.version) + " of " + request.method +
                       " is not this service's version " + std::to_string(kRpcVersion) +
                       ": every service of a deployment must run the same release");
}

}  // namespace cinder::rpc

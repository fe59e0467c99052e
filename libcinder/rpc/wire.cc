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
         clean(ctx.request_id) + kSep + clean(ctx.user_name) + kSep + clean(ctx.user_domain_id) + kSep +
         clean(ctx.project_name) + kSep + clean(ctx.project_domain_id) + kSep + clean(ctx.domain_id) + kSep +
         clean(ctx.system_scope) + kSep + (ctx.is_admin_project ? "1" : "0");
}

RequestContext DecodeContext(const std::string& text) {
  auto parts = Split(text, kSep);
  // An older peer sends the first five fields only.
  const bool full = parts.size() >= 12;
  parts.resize(12);
  RequestContext ctx;
  ctx.user_id = parts[0];
  ctx.project_id = parts[1];
  for (auto& r : Split(parts[2], ',')) {
    if (!r.empty()) ctx.roles.push_back(r);
  }
  ctx.is_admin = parts[3] == "1";
  ctx.request_id = parts[4];
  ctx.user_name = parts[5];
  ctx.user_domain_id = parts[6];
  ctx.project_name = parts[7];
  ctx.project_domain_id = parts[8];
  ctx.domain_id = parts[9];
  ctx.system_scope = parts[10];
  ctx.is_admin_project = !full || parts[11] == "1";
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

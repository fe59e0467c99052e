#include "cinder/status.h"

#include "cinder/context.h"

namespace cinder {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kFailedPrecondition: return "FailedPrecondition";
    case Code::kAborted: return "Aborted";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kUnauthenticated: return "Unauthenticated";
    case Code::kResourceExhausted: return "ResourceExhausted";
    case Code::kUnimplemented: return "Unimplemented";
    case Code::kDeadlineExceeded: return "DeadlineExceeded";
    case Code::kUnavailable: return "Unavailable";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

RequestContext RequestContext::Admin(std::string user, std::string project) {
  RequestContext ctx;
  ctx.user_id = std::move(user);
  ctx.project_id = std::move(project);
  ctx.roles = {"admin"};
  ctx.is_admin = true;
  return ctx;
}

}  // namespace cinder

// RequestContext: who is asking. Every manager call takes one.
#ifndef CINDER_CONTEXT_H_
#define CINDER_CONTEXT_H_

#include <string>
#include <vector>

namespace cinder {

struct RequestContext {
  std::string user_id;
  std::string project_id;
  std::vector<std::string> roles;
  bool is_admin = false;
  std::string request_id;  // "req-<uuid>", echoed in x-openstack-request-id

  // An admin context for `project`, as Cinder's noauth middleware gives.
  static RequestContext Admin(std::string user, std::string project);
};

}  // namespace cinder

#endif  // CINDER_CONTEXT_H_

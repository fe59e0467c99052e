// RequestContext: who is asking. Every manager call takes one.
#ifndef CINDER_CONTEXT_H_
#define CINDER_CONTEXT_H_

#include <string>
#include <vector>

namespace cinder {

struct RequestContext {
  std::string user_id;
  std::string project_id;          // the token's project scope ("" for a domain or system scope)
  std::vector<std::string> roles;  // role names, implied roles included (admin => member => reader)
  // Cinder's context.is_admin: the policy rule context_is_admin (role:admin) passes; noauth: always.
  bool is_admin = false;
  std::string request_id;  // "req-<uuid>", echoed in x-openstack-request-id
  // Who, by name, and where (Keystone's token fields; empty under noauth).
  std::string user_name;
  std::string user_domain_id;
  std::string project_name;
  std::string project_domain_id;
  std::string domain_id;         // a domain-scoped token's domain
  std::string system_scope;      // "all" for a system-scoped token
  bool is_admin_project = true;  // Keystone's is_admin_project (true unless [resource] admin_project_* says no)

  // An admin context for `project`, as Cinder's noauth middleware gives.
  static RequestContext Admin(std::string user, std::string project);
};

}  // namespace cinder

#endif  // CINDER_CONTEXT_H_

// The AuthManager's administration: domains, projects, users, groups, roles and assignments,
// each checked against Keystone's identity policy, and the bootstrap.
#include <algorithm>
#include <set>

#include "auth/auth_manager_impl.h"
#include "auth/password.h"
#include "common/log.h"
#include "common/util.h"

namespace cinder::auth {

namespace {

std::string NewId() {
  std::string id = NewUuid();
  id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
  return id;
}

Result<bool> ParseEnabled(const std::string& v) {
  if (v == "true" || v == "True" || v == "1") return true;
  if (v == "false" || v == "False" || v == "0") return false;
  return InvalidArgument("Invalid input for field 'enabled': '" + v + "' is not of type 'boolean'");
}

Status CheckName(const std::string& kind, const std::string& name) {
  if (Trim(name).empty()) return InvalidArgument("Invalid input for field 'name': '" + name + "' is too short");
  if (name.size() > 255) return InvalidArgument("Invalid input for field 'name': the " + kind + " name is too long");
  return Status::OK();
}

PolicyTarget UserTarget(const User& u) {
  return {{"target.user.id", u.id}, {"target.user.domain_id", u.domain_id}, {"user_id", u.id}};
}

PolicyTarget ProjectTarget(const Project& p) {
  return {{"target.project.id", p.id}, {"target.project.domain_id", p.domain_id}, {"project_id", p.id}};
}

constexpr char kLdapReadOnly[] = "LDAP does not support write operations";

}  // namespace

// ---- Domains ----------------------------------------------------------------------------------

Result<std::vector<Domain>> AuthManagerImpl::ListDomains(const RequestContext& ctx, const IdentityFilter& filter) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:list_domains", {}));
  return ids_.ListDomains(filter);
}

Result<Domain> AuthManagerImpl::GetDomain(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(auto d, ids_.GetDomain(id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:get_domain", {{"target.domain.id", d.id}}));
  return d;
}

Result<Domain> AuthManagerImpl::CreateDomain(const RequestContext& ctx, const Domain& domain) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:create_domain", {}));
  CINDER_RETURN_IF_ERROR(CheckName("domain", domain.name));
  Domain d = domain;
  if (d.id.empty()) d.id = NewId();
  CINDER_RETURN_IF_ERROR(ids_.InsertDomain(d));
  return d;
}

Result<Domain> AuthManagerImpl::UpdateDomain(const RequestContext& ctx, const std::string& id,
                                             const std::map<std::string, std::string>& fields) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:update_domain", {{"target.domain.id", id}}));
  CINDER_ASSIGN_OR_RETURN(auto d, ids_.GetDomain(id));
  for (const auto& [k, v] : fields) {
    if (k == "name") {
      CINDER_RETURN_IF_ERROR(CheckName("domain", v));
      d.name = v;
    } else if (k == "description") {
      d.description = v;
    } else if (k == "enabled") {
      CINDER_ASSIGN_OR_RETURN(d.enabled, ParseEnabled(v));
    }
  }
  if (d.id == options_.auth.default_domain_id && !d.enabled) {
    return PermissionDenied("The default domain cannot be disabled.");
  }
  CINDER_RETURN_IF_ERROR(ids_.UpdateDomain(d));
  return d;
}

Status AuthManagerImpl::DeleteDomain(const RequestContext& ctx, const std::string& id) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:delete_domain", {{"target.domain.id", id}}));
  CINDER_ASSIGN_OR_RETURN(auto d, ids_.GetDomain(id));
  if (d.enabled) {
    return PermissionDenied("Cannot delete a domain that is enabled, please disable it first.");
  }
  return ids_.DeleteDomain(id);
}

// ---- Projects ---------------------------------------------------------------------------------

Result<std::vector<Project>> AuthManagerImpl::ListProjects(const RequestContext& ctx, const IdentityFilter& filter) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:list_projects", {{"target.domain_id", filter.domain_id}}));
  return ids_.ListProjects(filter);
}

Result<std::vector<Project>> AuthManagerImpl::ListUserProjects(const RequestContext& ctx, const std::string& user_id) {
  CINDER_ASSIGN_OR_RETURN(auto user, FindUser(user_id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:list_user_projects", UserTarget(user)));
  CINDER_ASSIGN_OR_RETURN(auto rows, UserAssignments(user, "project", ""));
  std::set<std::string> ids;
  for (const auto& row : rows) ids.insert(row.target_id);
  std::vector<Project> out;
  for (const auto& id : ids) {
    auto p = ids_.GetProject(id);
    if (p.ok()) out.push_back(std::move(*p));
  }
  return out;
}

Result<Project> AuthManagerImpl::GetProject(const RequestContext& ctx, const std::string& id) {
  auto p = ids_.GetProject(id);
  if (!p.ok()) {
    // Whether it exists is for those who may list projects.
    if (p.status().code() == Code::kNotFound && !policy_->Allowed(ctx, "identity:list_projects", {})) {
      return PermissionDenied("You are not authorized to perform the requested action: identity:get_project.");
    }
    return p.status();
  }
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:get_project", ProjectTarget(*p)));
  return p;
}

Result<Project> AuthManagerImpl::CreateProject(const RequestContext& ctx, const Project& project) {
  Project p = project;
  if (p.domain_id.empty()) p.domain_id = options_.auth.default_domain_id;
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:create_project", ProjectTarget(p)));
  CINDER_RETURN_IF_ERROR(CheckName("project", p.name));
  CINDER_ASSIGN_OR_RETURN(auto d, ids_.GetDomain(p.domain_id));
  (void)d;
  if (p.id.empty()) p.id = NewId();
  CINDER_RETURN_IF_ERROR(ids_.InsertProject(p));
  CINDER_LOG(kInfo, "cinder-auth") << "project " << p.id << " (" << p.name << ") created by user " << ctx.user_id;
  return p;
}

Result<Project> AuthManagerImpl::UpdateProject(const RequestContext& ctx, const std::string& id,
                                               const std::map<std::string, std::string>& fields) {
  CINDER_ASSIGN_OR_RETURN(auto p, ids_.GetProject(id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:update_project", ProjectTarget(p)));
  for (const auto& [k, v] : fields) {
    if (k == "name") {
      CINDER_RETURN_IF_ERROR(CheckName("project", v));
      p.name = v;
    } else if (k == "description") {
      p.description = v;
    } else if (k == "enabled") {
      CINDER_ASSIGN_OR_RETURN(p.enabled, ParseEnabled(v));
    }
  }
  CINDER_RETURN_IF_ERROR(ids_.UpdateProject(p));
  cache_.Clear();
  return p;
}

Status AuthManagerImpl::DeleteProject(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(auto p, ids_.GetProject(id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:delete_project", ProjectTarget(p)));
  CINDER_RETURN_IF_ERROR(ids_.DeleteProject(id));
  cache_.Clear();
  CINDER_LOG(kInfo, "cinder-auth") << "project " << id << " deleted by user " << ctx.user_id;
  return Status::OK();
}

// ---- Users ------------------------------------------------------------------------------------

Result<std::vector<User>> AuthManagerImpl::ListUsers(const RequestContext& ctx, const IdentityFilter& filter) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:list_users", {{"target.domain_id", filter.domain_id}}));
  CINDER_ASSIGN_OR_RETURN(auto out, ids_.ListUsers(filter));
  if (ldap_ && (filter.domain_id.empty() || filter.domain_id == options_.auth.default_domain_id)) {
    CINDER_ASSIGN_OR_RETURN(auto more, ldap_->ListUsers(filter));
    std::set<std::string> seen;
    for (const auto& u : out) seen.insert(u.id);
    for (auto& u : more) {
      if (!seen.count(u.id)) out.push_back(std::move(u));
    }
  }
  return out;
}

Result<User> AuthManagerImpl::GetUser(const RequestContext& ctx, const std::string& id) {
  auto u = FindUser(id);
  if (!u.ok()) {
    if (u.status().code() == Code::kNotFound && !policy_->Allowed(ctx, "identity:list_users", {})) {
      return PermissionDenied("You are not authorized to perform the requested action: identity:get_user.");
    }
    return u.status();
  }
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:get_user", UserTarget(*u)));
  return u;
}

Result<std::string> AuthManagerImpl::HashFor(const std::string& password) {
  const auto& a = options_.auth;
  if (password.size() > static_cast<size_t>(a.max_password_length)) {
    return InvalidArgument("Invalid input for field 'password': the password is longer than " +
                           std::to_string(a.max_password_length) + " characters.");
  }
  return HashPassword(password, a.password_hash_algorithm, a.password_hash_rounds);
}

Result<User> AuthManagerImpl::CreateUser(const RequestContext& ctx, const User& user, const std::string& password) {
  User u = user;
  if (u.domain_id.empty()) u.domain_id = options_.auth.default_domain_id;
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:create_user", UserTarget(u)));
  CINDER_RETURN_IF_ERROR(CheckName("user", u.name));
  CINDER_ASSIGN_OR_RETURN(auto d, ids_.GetDomain(u.domain_id));
  (void)d;
  if (ldap_ && u.domain_id == options_.auth.default_domain_id) {
    auto existing = ldap_->GetUserByName(u.name);
    if (existing.ok()) {
      return AlreadyExists("Conflict occurred attempting to store user - Duplicate entry found with name " + u.name +
                           " at domain ID " + u.domain_id + ".");
    }
  }
  std::string hash;
  if (!password.empty()) {
    CINDER_ASSIGN_OR_RETURN(hash, HashFor(password));
  }
  if (u.id.empty()) u.id = NewId();
  u.from_ldap = false;
  CINDER_RETURN_IF_ERROR(ids_.InsertUser(u, hash));
  CINDER_LOG(kInfo, "cinder-auth") << "user " << u.id << " (" << u.name << ") created by user " << ctx.user_id;
  return u;
}

Result<User> AuthManagerImpl::UpdateUser(const RequestContext& ctx, const std::string& id,
                                         const std::map<std::string, std::string>& fields) {
  CINDER_ASSIGN_OR_RETURN(auto found, FindUser(id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:update_user", UserTarget(found)));
  if (found.from_ldap) return PermissionDenied(kLdapReadOnly);
  User u = found;
  std::string hash;
  for (const auto& [k, v] : fields) {
    if (k == "name") {
      CINDER_RETURN_IF_ERROR(CheckName("user", v));
      u.name = v;
    } else if (k == "email") {
      u.email = v;
    } else if (k == "description") {
      u.description = v;
    } else if (k == "default_project_id") {
      u.default_project_id = v;
    } else if (k == "enabled") {
      CINDER_ASSIGN_OR_RETURN(u.enabled, ParseEnabled(v));
    } else if (k == "password" && !v.empty()) {  // null or "": the password stays
      CINDER_ASSIGN_OR_RETURN(hash, HashFor(v));
    }
  }
  CINDER_RETURN_IF_ERROR(ids_.UpdateUser(u, hash));
  cache_.Clear();
  if (!hash.empty() || !u.enabled) {
    CINDER_LOG(kInfo, "cinder-auth") << "user " << u.id << "'s tokens revoked ("
                                     << (hash.empty() ? "disabled" : "password changed") << ")";
  }
  return u;
}

Status AuthManagerImpl::ChangePassword(const std::string& user_id, const std::string& original_password,
                                       const std::string& password) {
  CINDER_ASSIGN_OR_RETURN(auto user, FindUser(user_id));
  if (user.from_ldap) return PermissionDenied(kLdapReadOnly);
  CINDER_RETURN_IF_ERROR(CheckUserPassword(user, original_password));
  if (!user.enabled) return Unauthenticated("The request you have made requires authentication.");
  CINDER_ASSIGN_OR_RETURN(auto hash, HashFor(password));
  CINDER_RETURN_IF_ERROR(ids_.UpdateUser(user, hash));
  cache_.Clear();
  return Status::OK();
}

Status AuthManagerImpl::DeleteUser(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(auto u, FindUser(id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:delete_user", UserTarget(u)));
  if (u.from_ldap) return PermissionDenied(kLdapReadOnly);
  CINDER_RETURN_IF_ERROR(ids_.DeleteUser(id));
  cache_.Clear();
  CINDER_LOG(kInfo, "cinder-auth") << "user " << id << " deleted by user " << ctx.user_id;
  return Status::OK();
}

// ---- Groups -----------------------------------------------------------------------------------

Result<std::vector<Group>> AuthManagerImpl::ListGroups(const RequestContext& ctx, const IdentityFilter& filter) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:list_groups", {{"target.domain_id", filter.domain_id}}));
  if (!ldap_) return std::vector<Group>{};
  return ldap_->ListGroups(filter);
}

Result<std::vector<Group>> AuthManagerImpl::ListUserGroups(const RequestContext& ctx, const std::string& user_id) {
  CINDER_ASSIGN_OR_RETURN(auto u, FindUser(user_id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:list_groups_for_user", UserTarget(u)));
  if (!u.from_ldap) return std::vector<Group>{};
  return ldap_->GroupsOfUser(user_id);
}

// ---- Roles and assignments ----------------------------------------------------------------------

Result<std::vector<Role>> AuthManagerImpl::ListRoles(const RequestContext& ctx, const IdentityFilter& filter) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:list_roles", {}));
  return ids_.ListRoles(filter.name);
}

Result<Role> AuthManagerImpl::GetRole(const RequestContext& ctx, const std::string& id) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:get_role", {}));
  return ids_.GetRole(id);
}

Result<Role> AuthManagerImpl::CreateRole(const RequestContext& ctx, const Role& role) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:create_role", {}));
  CINDER_RETURN_IF_ERROR(CheckName("role", role.name));
  Role r = role;
  if (r.id.empty()) r.id = NewId();
  CINDER_RETURN_IF_ERROR(ids_.InsertRole(r));
  return r;
}

Status AuthManagerImpl::DeleteRole(const RequestContext& ctx, const std::string& id) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:delete_role", {}));
  CINDER_RETURN_IF_ERROR(ids_.DeleteRole(id));
  cache_.Clear();
  return Status::OK();
}

// A grant's row, every id in it checked to exist.
Result<AssignmentRow> AuthManagerImpl::ToRow(const RoleAssignment& a) {
  AssignmentRow row;
  CINDER_ASSIGN_OR_RETURN(auto role, ids_.GetRole(a.role_id));
  row.role_id = role.id;
  if (!a.user_id.empty()) {
    CINDER_ASSIGN_OR_RETURN(auto u, FindUser(a.user_id));
    row.actor_type = "user";
    row.actor_id = u.id;
  } else {
    if (!ldap_) return NotFound("Could not find group: " + a.group_id + ".");
    CINDER_ASSIGN_OR_RETURN(auto g, ldap_->GetGroup(a.group_id));
    row.actor_type = "group";
    row.actor_id = g.id;
  }
  if (!a.project_id.empty()) {
    CINDER_ASSIGN_OR_RETURN(auto p, ids_.GetProject(a.project_id));
    row.target_type = "project";
    row.target_id = p.id;
  } else if (!a.domain_id.empty()) {
    CINDER_ASSIGN_OR_RETURN(auto d, ids_.GetDomain(a.domain_id));
    row.target_type = "domain";
    row.target_id = d.id;
  } else {
    row.target_type = "system";
    row.target_id = "all";
  }
  return row;
}

namespace {

PolicyTarget GrantTarget(const AssignmentRow& r) {
  PolicyTarget t{{"target.role.id", r.role_id}};
  t[r.actor_type == "user" ? "target.user.id" : "target.group.id"] = r.actor_id;
  if (r.target_type == "project") t["target.project.id"] = r.target_id;
  if (r.target_type == "domain") t["target.domain.id"] = r.target_id;
  return t;
}

}  // namespace

Status AuthManagerImpl::Grant(const RequestContext& ctx, const RoleAssignment& a) {
  CINDER_ASSIGN_OR_RETURN(auto row, ToRow(a));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:create_grant", GrantTarget(row)));
  CINDER_RETURN_IF_ERROR(ids_.InsertAssignment(row));
  cache_.Clear();
  CINDER_LOG(kInfo, "cinder-auth") << "role " << row.role_id << " granted to " << row.actor_type << " " << row.actor_id
                                   << " on " << row.target_type << " " << row.target_id;
  return Status::OK();
}

Status AuthManagerImpl::Revoke(const RequestContext& ctx, const RoleAssignment& a) {
  CINDER_ASSIGN_OR_RETURN(auto row, ToRow(a));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:revoke_grant", GrantTarget(row)));
  CINDER_ASSIGN_OR_RETURN(bool gone, ids_.DeleteAssignment(row));
  if (!gone) {
    return NotFound("Could not find role assignment with role: " + row.role_id + ", user or group: " + row.actor_id +
                    ", project, domain, or system: " + row.target_id + ".");
  }
  cache_.Clear();
  CINDER_LOG(kInfo, "cinder-auth") << "role " << row.role_id << " revoked from " << row.actor_type << " "
                                   << row.actor_id << " on " << row.target_type << " " << row.target_id;
  return Status::OK();
}

Status AuthManagerImpl::CheckGrant(const RequestContext& ctx, const RoleAssignment& a) {
  CINDER_ASSIGN_OR_RETURN(auto row, ToRow(a));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:check_grant", GrantTarget(row)));
  CINDER_ASSIGN_OR_RETURN(auto rows, ids_.ListAssignments(row));
  if (rows.empty()) {
    return NotFound("Could not find role assignment with role: " + row.role_id + ", user or group: " + row.actor_id +
                    ", project, domain, or system: " + row.target_id + ".");
  }
  return Status::OK();
}

Result<std::vector<RoleAssignment>> AuthManagerImpl::ListRoleAssignments(const RequestContext& ctx,
                                                                         const RoleAssignmentFilter& filter) {
  PolicyTarget target;
  if (!filter.user_id.empty()) target["target.user.id"] = filter.user_id;
  if (!filter.project_id.empty()) target["target.project.id"] = filter.project_id;
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:list_role_assignments", target));
  AssignmentRow f;
  f.role_id = filter.role_id;
  if (!filter.project_id.empty()) f.target_type = "project", f.target_id = filter.project_id;
  if (!filter.domain_id.empty()) f.target_type = "domain", f.target_id = filter.domain_id;
  std::vector<std::string> actors;
  if (!filter.user_id.empty()) {
    actors.push_back(filter.user_id);
    if (filter.effective && ldap_) {
      auto groups = ldap_->GroupsOfUser(filter.user_id);
      if (groups.ok()) {
        for (const auto& g : *groups) actors.push_back(g.id);
      }
    }
  } else if (!filter.group_id.empty()) {
    f.actor_type = "group";
    f.actor_id = filter.group_id;
  }
  CINDER_ASSIGN_OR_RETURN(auto rows, ids_.ListAssignments(f, actors));
  CINDER_ASSIGN_OR_RETURN(auto implied, ids_.ImpliedRoles());
  std::vector<RoleAssignment> out;
  std::set<std::tuple<std::string, std::string, std::string, std::string>> seen;
  auto add = [&](const AssignmentRow& r, const std::string& role_id) {
    RoleAssignment a;
    a.role_id = role_id;
    if (r.actor_type == "user" || (filter.effective && !filter.user_id.empty())) {
      a.user_id = r.actor_type == "user" ? r.actor_id : filter.user_id;
    } else {
      a.group_id = r.actor_id;
    }
    if (r.target_type == "project") a.project_id = r.target_id;
    if (r.target_type == "domain") a.domain_id = r.target_id;
    if (r.target_type == "system") a.system = "all";
    if (seen.insert({a.user_id + a.group_id, r.target_type, r.target_id, role_id}).second) out.push_back(a);
  };
  for (const auto& r : rows) {
    add(r, r.role_id);
    if (!filter.effective) continue;
    std::vector<std::string> todo{r.role_id};
    std::set<std::string> done{r.role_id};
    while (!todo.empty()) {
      std::string id = todo.back();
      todo.pop_back();
      auto [b, e] = implied.equal_range(id);
      for (auto it = b; it != e; ++it) {
        if (!done.insert(it->second).second) continue;
        if (filter.role_id.empty()) add(r, it->second);
        todo.push_back(it->second);
      }
    }
  }
  return out;
}

// ---- Bootstrap --------------------------------------------------------------------------------

Status AuthManagerImpl::EnsureRole(const std::string& name, Role* out) {
  auto r = ids_.GetRoleByName(name);
  if (r.ok()) {
    *out = *r;
    return Status::OK();
  }
  if (r.status().code() != Code::kNotFound) return r.status();
  Role role{NewId(), name, ""};
  Status st = ids_.InsertRole(role);
  if (st.code() == Code::kAlreadyExists) return EnsureRole(name, out);
  CINDER_RETURN_IF_ERROR(st);
  *out = role;
  return Status::OK();
}

Status AuthManagerImpl::RunBootstrap(const Bootstrap& b) {
  if (b.admin_password.empty()) return InvalidArgument("bootstrap needs an admin password (--admin-password)");
  const std::string& domain_id = options_.auth.default_domain_id;
  if (ids_.GetDomain(domain_id).status().code() == Code::kNotFound) {
    Status st = ids_.InsertDomain(Domain{domain_id, "Default", "The default domain", true});
    if (!st.ok() && st.code() != Code::kAlreadyExists) return st;
  }
  Role admin, member, reader, named;
  CINDER_RETURN_IF_ERROR(EnsureRole("reader", &reader));
  CINDER_RETURN_IF_ERROR(EnsureRole("member", &member));
  CINDER_RETURN_IF_ERROR(EnsureRole("admin", &admin));
  CINDER_RETURN_IF_ERROR(ids_.AddImpliedRole(admin.id, member.id));
  CINDER_RETURN_IF_ERROR(ids_.AddImpliedRole(member.id, reader.id));
  CINDER_RETURN_IF_ERROR(EnsureRole(b.role_name, &named));
  auto project = ids_.GetProjectByName(b.project_name, domain_id);
  if (!project.ok()) {
    if (project.status().code() != Code::kNotFound) return project.status();
    Project p;
    p.id = NewId();
    p.name = b.project_name;
    p.domain_id = domain_id;
    p.description = "Bootstrap project for initializing the cloud.";
    CINDER_RETURN_IF_ERROR(ids_.InsertProject(p));
    project = p;
  }
  auto user = ids_.GetUserByName(b.admin_username, domain_id);
  std::string user_id;
  if (!user.ok()) {
    if (user.status().code() != Code::kNotFound) return user.status();
    User u;
    u.id = NewId();
    u.name = b.admin_username;
    u.domain_id = domain_id;
    u.default_project_id = project->id;
    CINDER_ASSIGN_OR_RETURN(auto hash, HashFor(b.admin_password));
    CINDER_RETURN_IF_ERROR(ids_.InsertUser(u, hash));
    user_id = u.id;
    CINDER_LOG(kInfo, "cinder-auth") << "bootstrap: user " << u.name << " created";
  } else {
    user_id = user->user.id;
    if (b.reset_password) {
      CINDER_ASSIGN_OR_RETURN(auto hash, HashFor(b.admin_password));
      User u = user->user;
      u.enabled = true;
      CINDER_RETURN_IF_ERROR(ids_.UpdateUser(u, hash));
      CINDER_LOG(kInfo, "cinder-auth") << "bootstrap: user " << u.name << "'s password reset";
    }
  }
  CINDER_RETURN_IF_ERROR(ids_.InsertAssignment(AssignmentRow{"user", user_id, "project", project->id, named.id}));
  CINDER_RETURN_IF_ERROR(ids_.InsertAssignment(AssignmentRow{"user", user_id, "system", "all", named.id}));
  return Status::OK();
}

}  // namespace cinder::auth

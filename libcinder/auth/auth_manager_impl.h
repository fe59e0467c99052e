// AuthManagerImpl: the AuthManager over the database, the policy and, for driver = ldap, an
// LDAP directory holding users. Internal to libcinder/auth.
#ifndef CINDER_AUTH_AUTH_MANAGER_IMPL_H_
#define CINDER_AUTH_AUTH_MANAGER_IMPL_H_

#include <memory>
#include <string>
#include <vector>

#include "auth/identity_driver.h"
#include "auth/policy.h"
#include "auth/token_cache.h"
#include "cinder/auth_manager.h"
#include "db/identity_store.h"
#include "db/store.h"

namespace cinder::auth {

class AuthManagerImpl : public AuthManager {
 public:
  AuthManagerImpl(const Options& options, std::unique_ptr<Store> store, std::shared_ptr<Policy> policy,
                  std::unique_ptr<IdentityDriver> ldap);

  Result<IssuedToken> Authenticate(const AuthRequest& request) override;
  Result<TokenInfo> ValidateToken(const std::string& token, bool allow_expired) override;
  Result<RequestContext> ContextForToken(const std::string& token) override;
  Status RevokeToken(const RequestContext& ctx, const std::string& token) override;
  Status Enforce(const RequestContext& ctx, const std::string& rule,
                 const std::map<std::string, std::string>& target) const override;

  Result<std::vector<Domain>> ListDomains(const RequestContext& ctx, const IdentityFilter& filter) override;
  Result<Domain> GetDomain(const RequestContext& ctx, const std::string& id) override;
  Result<Domain> CreateDomain(const RequestContext& ctx, const Domain& domain) override;
  Result<Domain> UpdateDomain(const RequestContext& ctx, const std::string& id,
                              const std::map<std::string, std::string>& fields) override;
  Status DeleteDomain(const RequestContext& ctx, const std::string& id) override;

  Result<std::vector<Project>> ListProjects(const RequestContext& ctx, const IdentityFilter& filter) override;
  Result<std::vector<Project>> ListUserProjects(const RequestContext& ctx, const std::string& user_id) override;
  Result<Project> GetProject(const RequestContext& ctx, const std::string& id) override;
  Result<Project> CreateProject(const RequestContext& ctx, const Project& project) override;
  Result<Project> UpdateProject(const RequestContext& ctx, const std::string& id,
                                const std::map<std::string, std::string>& fields) override;
  Status DeleteProject(const RequestContext& ctx, const std::string& id) override;

  Result<std::vector<User>> ListUsers(const RequestContext& ctx, const IdentityFilter& filter) override;
  Result<User> GetUser(const RequestContext& ctx, const std::string& id) override;
  Result<User> CreateUser(const RequestContext& ctx, const User& user, const std::string& password) override;
  Result<User> UpdateUser(const RequestContext& ctx, const std::string& id,
                          const std::map<std::string, std::string>& fields) override;
  Status ChangePassword(const std::string& user_id, const std::string& original_password,
                        const std::string& password) override;
  Status DeleteUser(const RequestContext& ctx, const std::string& id) override;

  Result<std::vector<Group>> ListGroups(const RequestContext& ctx, const IdentityFilter& filter) override;
  Result<std::vector<Group>> ListUserGroups(const RequestContext& ctx, const std::string& user_id) override;

  Result<std::vector<Role>> ListRoles(const RequestContext& ctx, const IdentityFilter& filter) override;
  Result<Role> GetRole(const RequestContext& ctx, const std::string& id) override;
  Result<Role> CreateRole(const RequestContext& ctx, const Role& role) override;
  Status DeleteRole(const RequestContext& ctx, const std::string& id) override;
  Status Grant(const RequestContext& ctx, const RoleAssignment& assignment) override;
  Status Revoke(const RequestContext& ctx, const RoleAssignment& assignment) override;
  Status CheckGrant(const RequestContext& ctx, const RoleAssignment& assignment) override;
  Result<std::vector<RoleAssignment>> ListRoleAssignments(const RequestContext& ctx,
                                                          const RoleAssignmentFilter& filter) override;
  Status RunBootstrap(const Bootstrap& request) override;

 private:
  struct Validated {
    TokenInfo info;
    RequestContext ctx;
  };
  Result<Validated> Validate(const std::string& token, bool allow_expired);
  RequestContext MakeContext(const TokenInfo& info) const;
  Result<User> FindUser(const std::string& id);
  Result<Domain> ResolveDomain(const std::string& id, const std::string& name);
  Status CheckUserPassword(const User& user, const std::string& password);
  Result<User> PasswordUser(const AuthRequest& r);
  // The assignments of `user` and of its (LDAP) groups on a target (target_id "": every one of
  // that type).
  Result<std::vector<AssignmentRow>> UserAssignments(const User& user, const std::string& target_type,
                                                     const std::string& target_id);
  Result<std::vector<Role>> EffectiveRoles(const User& user, const std::string& target_type,
                                           const std::string& target_id);
  Status ApplyScope(const AuthRequest& r, const User& user, TokenRecord* rec, TokenInfo* info);
  Status FillScope(const TokenRecord& rec, const User& user, TokenInfo* info);
  // Administration helpers (auth_admin.cc).
  Result<std::string> HashFor(const std::string& password);
  Result<AssignmentRow> ToRow(const RoleAssignment& a);
  Status EnsureRole(const std::string& name, Role* out);

  Options options_;
  std::unique_ptr<Store> store_;
  IdentityStore ids_;
  std::shared_ptr<Policy> policy_;
  std::unique_ptr<IdentityDriver> ldap_;
  TokenCache cache_;
};

}  // namespace cinder::auth

#endif  // CINDER_AUTH_AUTH_MANAGER_IMPL_H_

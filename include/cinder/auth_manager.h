// AuthManager: who may do what. Users, projects, domains, roles and role assignments (the
// built-in identity service, a Keystone v3 subset), tokens, and Cinder's policy.
//
// Users live in the database ([identity] driver = sql) or are read from an LDAP directory
// (driver = ldap; the users made by `cinder-manage bootstrap` stay in the database). Projects,
// roles, assignments and tokens always live in the database. A token is 256 random bits, kept
// only as its SHA-256, and names its scope; its roles are computed again whenever it is
// validated, so a role removed, a user or project disabled, or a password changed takes effect
// on every API process within a second (see ValidateToken).
#ifndef CINDER_AUTH_MANAGER_H_
#define CINDER_AUTH_MANAGER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cinder/context.h"
#include "cinder/options.h"
#include "cinder/status.h"

namespace cinder {

struct Domain {
  std::string id;
  std::string name;
  std::string description;
  bool enabled = true;
};

struct Project {
  std::string id;  // 32 hex digits, as Keystone's
  std::string name;
  std::string domain_id;
  std::string description;
  bool enabled = true;
  std::vector<std::string> tags;
};

struct User {
  std::string id;
  std::string name;
  std::string domain_id;
  std::string email;
  std::string description;
  std::string default_project_id;
  bool enabled = true;
  bool from_ldap = false;  // read from the directory: read-only here
};

struct Group {
  std::string id;
  std::string name;
  std::string domain_id;
  std::string description;
};

struct Role {
  std::string id;
  std::string name;
  std::string description;
};

// One role given to a user or group on a project, a domain or the system.
struct RoleAssignment {
  std::string role_id;
  std::string user_id;  // one of user_id and group_id
  std::string group_id;
  std::string project_id;  // one of project_id, domain_id and system ("all")
  std::string domain_id;
  std::string system;
};

// What a token says: its owner, its scope and the roles it carries now.
struct TokenInfo {
  std::string audit_id;
  std::string audit_chain_id;        // a rescoped token: the first token's audit id
  std::vector<std::string> methods;  // "password", "token"
  std::string issued_at;             // Keystone's format: 2023-05-01T12:00:00.000000Z
  std::string expires_at;
  User user;
  std::optional<Project> project;        // project scope
  std::optional<Domain> project_domain;  // the project's domain
  std::optional<Domain> domain;          // domain scope
  bool system = false;                   // system scope ("all")
  std::vector<Role> roles;               // implied roles included; empty when unscoped
  bool is_admin_project = true;
};

// POST /v3/auth/tokens, parsed: password (user by id, or name and domain) or an existing token;
// the scope by id or by name and domain; none for an unscoped token.
struct AuthRequest {
  std::vector<std::string> methods;
  std::string user_id;
  std::string user_name;
  std::string user_domain_id;
  std::string user_domain_name;
  std::string password;
  std::string token;  // methods: ["token"]
  std::string project_id;
  std::string project_name;
  std::string project_domain_id;
  std::string project_domain_name;
  std::string domain_id;  // domain scope
  std::string domain_name;
  bool system = false;    // system scope
  bool unscoped = false;  // "scope": "unscoped", or no scope and no default project
};

struct IssuedToken {
  std::string token;  // the secret: shown once, in X-Subject-Token
  TokenInfo info;
};

// Filters of the list calls (exact match; "" = any).
struct IdentityFilter {
  std::string name;
  std::string domain_id;
  std::optional<bool> enabled;
};

struct RoleAssignmentFilter {
  std::string user_id;
  std::string group_id;
  std::string project_id;
  std::string domain_id;
  std::string role_id;
  bool effective = false;  // expand groups and implied roles, as ?effective
};

// Thread-safe. Every administration call checks the caller's rights (Keystone's identity
// policy: admin for changes; a user may read itself and its own projects) and answers
// PermissionDenied otherwise.
class AuthManager {
 public:
  // Opens the database (its schema must be current: see DbSync) and, for driver = ldap, the
  // directory's connection settings (the directory is reached when first needed).
  static Result<std::unique_ptr<AuthManager>> Open(const Options& options);
  virtual ~AuthManager() = default;

  // --- Tokens.
  // Unauthenticated (Keystone's one message, whatever was wrong) for a bad user, password,
  // token, a disabled or locked-out user; PermissionDenied for a scope the user has no role on
  // or a disabled project; InvalidArgument for a request that names nothing usable.
  virtual Result<IssuedToken> Authenticate(const AuthRequest& request) = 0;
  // NotFound for an unknown, expired (unless allow_expired) or revoked token.
  virtual Result<TokenInfo> ValidateToken(const std::string& token, bool allow_expired = false) = 0;
  // A token's RequestContext (is_admin from the policy's context_is_admin).
  virtual Result<RequestContext> ContextForToken(const std::string& token) = 0;
  // Revokes `token`: its owner or an admin may. NotFound when unknown.
  virtual Status RevokeToken(const RequestContext& ctx, const std::string& token) = 0;

  // --- Policy: OK or PermissionDenied "Policy doesn't allow <rule> to be performed.".
  // `target` holds the resource's fields (project_id, user_id, ...); the caller's
  // project_id and user_id fill what it lacks.
  virtual Status Enforce(const RequestContext& ctx, const std::string& rule,
                         const std::map<std::string, std::string>& target) const = 0;

  // --- Domains (the Default domain always exists).
  virtual Result<std::vector<Domain>> ListDomains(const RequestContext& ctx, const IdentityFilter& filter) = 0;
  virtual Result<Domain> GetDomain(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<Domain> CreateDomain(const RequestContext& ctx, const Domain& domain) = 0;
  virtual Result<Domain> UpdateDomain(const RequestContext& ctx, const std::string& id,
                                      const std::map<std::string, std::string>& fields) = 0;
  virtual Status DeleteDomain(const RequestContext& ctx, const std::string& id) = 0;

  // --- Projects.
  virtual Result<std::vector<Project>> ListProjects(const RequestContext& ctx, const IdentityFilter& filter) = 0;
  virtual Result<std::vector<Project>> ListUserProjects(const RequestContext& ctx, const std::string& user_id) = 0;
  virtual Result<Project> GetProject(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<Project> CreateProject(const RequestContext& ctx, const Project& project) = 0;
  // `fields`: name, description, enabled ("true"/"false"). Disabling revokes its tokens.
  virtual Result<Project> UpdateProject(const RequestContext& ctx, const std::string& id,
                                        const std::map<std::string, std::string>& fields) = 0;
  virtual Status DeleteProject(const RequestContext& ctx, const std::string& id) = 0;

  // --- Users.
  virtual Result<std::vector<User>> ListUsers(const RequestContext& ctx, const IdentityFilter& filter) = 0;
  virtual Result<User> GetUser(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<User> CreateUser(const RequestContext& ctx, const User& user, const std::string& password) = 0;
  // `fields`: name, email, description, enabled, default_project_id, password. A new password
  // or disabling revokes the user's tokens.
  virtual Result<User> UpdateUser(const RequestContext& ctx, const std::string& id,
                                  const std::map<std::string, std::string>& fields) = 0;
  // The user's own password change (POST /v3/users/{id}/password): needs the old one.
  virtual Status ChangePassword(const std::string& user_id, const std::string& original_password,
                                const std::string& password) = 0;
  virtual Status DeleteUser(const RequestContext& ctx, const std::string& id) = 0;

  // --- Groups (read from LDAP with driver = ldap; none with sql).
  virtual Result<std::vector<Group>> ListGroups(const RequestContext& ctx, const IdentityFilter& filter) = 0;
  virtual Result<std::vector<Group>> ListUserGroups(const RequestContext& ctx, const std::string& user_id) = 0;

  // --- Roles and assignments.
  virtual Result<std::vector<Role>> ListRoles(const RequestContext& ctx, const IdentityFilter& filter) = 0;
  virtual Result<Role> GetRole(const RequestContext& ctx, const std::string& id) = 0;
  virtual Result<Role> CreateRole(const RequestContext& ctx, const Role& role) = 0;
  virtual Status DeleteRole(const RequestContext& ctx, const std::string& id) = 0;
  // Grant is idempotent; Revoke revokes the tokens that carried the role; NotFound when absent.
  virtual Status Grant(const RequestContext& ctx, const RoleAssignment& assignment) = 0;
  virtual Status Revoke(const RequestContext& ctx, const RoleAssignment& assignment) = 0;
  virtual Status CheckGrant(const RequestContext& ctx, const RoleAssignment& assignment) = 0;
  virtual Result<std::vector<RoleAssignment>> ListRoleAssignments(const RequestContext& ctx,
                                                                  const RoleAssignmentFilter& filter) = 0;

  // --- Bootstrap (cinder-manage bootstrap, keystone-manage bootstrap's work): the Default
  // domain, the roles admin, member and reader (admin implies member implies reader), the
  // project and the user, with admin on the project and on the system. Idempotent: an
  // existing user keeps its password unless `reset_password`.
  struct Bootstrap {
    std::string admin_username = "admin";
    std::string admin_password;
    std::string project_name = "admin";
    std::string role_name = "admin";
    bool reset_password = false;
  };
  virtual Status RunBootstrap(const Bootstrap& request) = 0;
};

}  // namespace cinder

#endif  // CINDER_AUTH_MANAGER_H_

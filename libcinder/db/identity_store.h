// IdentityStore: the built-in identity service's tables (schema 11): domains, projects, users
// kept in SQL, roles and implied roles, role assignments, tokens (as their SHA-256) and the
// revocation counter. What the rows mean, and who may change them, is the AuthManager's.
#ifndef CINDER_DB_IDENTITY_STORE_H_
#define CINDER_DB_IDENTITY_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cinder/auth_manager.h"
#include "cinder/status.h"

namespace cinder {

class Store;

// A SQL user with what only the store sees.
struct UserRecord {
  User user;
  std::string password_hash;
  int failed_auth_count = 0;
  std::string failed_auth_at;  // ISO time of the last failure ("" none)
};

// One row of identity_assignments: actor_type "user" or "group"; target_type "project",
// "domain" or "system" (target_id "all").
struct AssignmentRow {
  std::string actor_type;
  std::string actor_id;
  std::string target_type;
  std::string target_id;
  std::string role_id;
};

struct TokenRecord {
  std::string user_id;
  std::string project_id;
  std::string domain_id;
  std::string system_scope;
  std::string methods;  // comma-separated
  std::string audit_id;
  std::string issued_at;
  std::string expires_at;
  bool revoked = false;
};

class IdentityStore {
 public:
  explicit IdentityStore(Store* store) : store_(store) {}

  // Domains. AlreadyExists when the name is taken; NotFound with Keystone's message.
  Result<std::vector<Domain>> ListDomains(const IdentityFilter& f);
  Result<Domain> GetDomain(const std::string& id);
  Result<Domain> GetDomainByName(const std::string& name);
  Status InsertDomain(const Domain& d);
  Status UpdateDomain(const Domain& d);
  // FailedPrecondition while it holds projects or users.
  Status DeleteDomain(const std::string& id);

  // Projects.
  Result<std::vector<Project>> ListProjects(const IdentityFilter& f);
  Result<Project> GetProject(const std::string& id);
  Result<Project> GetProjectByName(const std::string& name, const std::string& domain_id);
  Status InsertProject(const Project& p);
  Status UpdateProject(const Project& p);
  // Removes the project with its assignments and tokens.
  Status DeleteProject(const std::string& id);

  // SQL users.
  Result<std::vector<User>> ListUsers(const IdentityFilter& f);
  Result<UserRecord> GetUser(const std::string& id);
  Result<UserRecord> GetUserByName(const std::string& name, const std::string& domain_id);
  Status InsertUser(const User& u, const std::string& password_hash);
  // Writes the user's fields; a non-empty `password_hash` replaces the password (and resets
  // the failure count).
  Status UpdateUser(const User& u, const std::string& password_hash);
  Status DeleteUser(const std::string& id);
  // A failed password: the count goes up and its time is `now`; Reset sets it back to 0.
  Status RecordFailedAuth(const std::string& id, const std::string& now);
  Status ResetFailedAuth(const std::string& id);

  // Roles (names unique without regard to case, as Keystone matches them).
  Result<std::vector<Role>> ListRoles(const std::string& name_filter);
  Result<Role> GetRole(const std::string& id);
  Result<Role> GetRoleByName(const std::string& name);
  Status InsertRole(const Role& r);
  Status DeleteRole(const std::string& id);
  Status AddImpliedRole(const std::string& prior_id, const std::string& implied_id);
  // prior role id -> the role ids it implies directly.
  Result<std::multimap<std::string, std::string>> ImpliedRoles();

  // Assignments. Insert is idempotent; Delete answers whether a row went.
  Status InsertAssignment(const AssignmentRow& a);
  Result<bool> DeleteAssignment(const AssignmentRow& a);
  // Rows matching every non-empty field of `f`; `actor_ids` (when not empty) narrows the
  // actors to those ids (a user and its groups).
  Result<std::vector<AssignmentRow>> ListAssignments(const AssignmentRow& f,
                                                     const std::vector<std::string>& actor_ids = {});

  // Tokens, by the SHA-256 of the secret.
  Status InsertToken(const std::string& id_hash, const TokenRecord& t);
  Result<TokenRecord> GetToken(const std::string& id_hash);
  // Marks tokens revoked (one, or every token of a user or of a project) and bumps the
  // revocation counter in the same transaction.
  Status RevokeToken(const std::string& id_hash);
  Status RevokeUserTokens(const std::string& user_id);
  Status RevokeProjectTokens(const std::string& project_id);
  // Bumps the counter alone: a change that alters what tokens carry (a role removed).
  Status BumpRevocations();
  Result<int64_t> RevocationGeneration();
  // Removes tokens that expired before `before`.
  Result<int64_t> PurgeTokens(const std::string& before);

 private:
  Status RevokeWhere(const std::string& column, const std::string& value);
  Store* store_;
};

}  // namespace cinder

#endif  // CINDER_DB_IDENTITY_STORE_H_

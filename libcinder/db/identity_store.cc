// The identity service's tables (db/identity_store.h).
#include "db/identity_store.h"

#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

const char kDomainColumns[] = "id, name, description, enabled";
const char kProjectColumns[] = "id, name, domain_id, description, enabled, tags";
const char kUserColumns[] =
    "id, name, domain_id, email, description, default_project_id, enabled, password_hash, failed_auth_count, "
    "failed_auth_at";
const char kTokenColumns[] =
    "user_id, project_id, domain_id, system_scope, methods, audit_id, issued_at, expires_at, revoked";

Domain ToDomain(const Row& r) {
  return Domain{r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), ToInt(r[3]) != 0};
}

Project ToProject(const Row& r) {
  Project p;
  p.id = r[0].value_or("");
  p.name = r[1].value_or("");
  p.domain_id = r[2].value_or("");
  p.description = r[3].value_or("");
  p.enabled = ToInt(r[4]) != 0;
  for (auto& t : Split(r[5].value_or(""), '\n')) {
    if (!t.empty()) p.tags.push_back(t);
  }
  return p;
}

UserRecord ToUser(const Row& r) {
  UserRecord u;
  u.user.id = r[0].value_or("");
  u.user.name = r[1].value_or("");
  u.user.domain_id = r[2].value_or("");
  u.user.email = r[3].value_or("");
  u.user.description = r[4].value_or("");
  u.user.default_project_id = r[5].value_or("");
  u.user.enabled = ToInt(r[6]) != 0;
  u.password_hash = r[7].value_or("");
  u.failed_auth_count = static_cast<int>(ToInt(r[8]));
  u.failed_auth_at = r[9].value_or("");
  return u;
}

std::string Tags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags) out += (out.empty() ? "" : "\n") + t;
  return out;
}

Status NotFoundAs(const std::string& kind, const std::string& id) {
  return NotFound("Could not find " + kind + ": " + id + ".");
}

// A unique index refused the row: Keystone's 409.
Status Duplicate(const Status& st, const std::string& kind, const std::string& detail) {
  if (st.code() != Code::kAlreadyExists) return st;
  return AlreadyExists("Conflict occurred attempting to store " + kind + " - Duplicate entry found with " + detail +
                       ".");
}

// Appends "AND column = value" for each non-empty filter field.
void Narrow(Query* q, const char* column, const std::string& value) {
  if (!value.empty()) q->sql += std::string(" AND ") + column + " = " + q->P(value);
}

void Bump(soci::session& s) { Exec(s, "UPDATE identity_revocations SET generation = generation + 1 WHERE id = 1"); }

}  // namespace

// ---- Domains ----------------------------------------------------------------------------------

Result<std::vector<Domain>> IdentityStore::ListDomains(const IdentityFilter& f) {
  return store_->impl_->Run<std::vector<Domain>>([&](soci::session& s) -> Result<std::vector<Domain>> {
    Query q;
    q.sql = std::string("SELECT ") + kDomainColumns + " FROM identity_domains WHERE 1 = 1";
    Narrow(&q, "name", f.name);
    if (f.enabled) q.sql += *f.enabled ? " AND enabled = 1" : " AND enabled = 0";
    q.sql += " ORDER BY name";
    std::vector<Domain> out;
    for (const auto& r : Select(s, q)) out.push_back(ToDomain(r));
    return out;
  });
}

Result<Domain> IdentityStore::GetDomain(const std::string& id) {
  return store_->impl_->Run<Domain>([&](soci::session& s) -> Result<Domain> {
    Query q;
    q.sql = std::string("SELECT ") + kDomainColumns + " FROM identity_domains WHERE id = " + q.P(id);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFoundAs("domain", id);
    return ToDomain(rows[0]);
  });
}

Result<Domain> IdentityStore::GetDomainByName(const std::string& name) {
  IdentityFilter f;
  f.name = name;
  CINDER_ASSIGN_OR_RETURN(auto all, ListDomains(f));
  if (all.empty()) return NotFoundAs("domain", name);
  return all[0];
}

Status IdentityStore::InsertDomain(const Domain& d) {
  Status st = store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "INSERT INTO identity_domains (id, name, description, enabled, created_at) VALUES (" + q.P(d.id) + ", " +
            q.P(d.name) + ", " + q.P(d.description) + ", " + (d.enabled ? "1" : "0") + ", " + q.P(NowIso()) + ")";
    Exec(s, q);
    return Status::OK();
  });
  return Duplicate(st, "domain", "name " + d.name);
}

Status IdentityStore::UpdateDomain(const Domain& d) {
  Status st = store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE identity_domains SET name = " + q.P(d.name) + ", description = " + q.P(d.description) +
            ", enabled = " + (d.enabled ? "1" : "0") + " WHERE id = " + q.P(d.id);
    if (Exec(s, q) == 0) return NotFoundAs("domain", d.id);
    Bump(s);
    return Status::OK();
  });
  return Duplicate(st, "domain", "name " + d.name);
}

Status IdentityStore::DeleteDomain(const std::string& id) {
  return store_->impl_->Tx([&](soci::session& s) -> Status {
    for (const char* table : {"identity_projects", "identity_users"}) {
      Query c;
      c.sql = std::string("SELECT COUNT(*) FROM ") + table + " WHERE domain_id = " + c.P(id);
      if (ToInt(Select(s, c)[0][0]) > 0) {
        return FailedPrecondition("Domain " + id + " still holds projects or users; delete them first.");
      }
    }
    Query a;
    a.sql = "DELETE FROM identity_assignments WHERE target_type = 'domain' AND target_id = " + a.P(id);
    Exec(s, a);
    Query q;
    q.sql = "DELETE FROM identity_domains WHERE id = " + q.P(id);
    if (Exec(s, q) == 0) return NotFoundAs("domain", id);
    Bump(s);
    return Status::OK();
  });
}

// ---- Projects ---------------------------------------------------------------------------------

Result<std::vector<Project>> IdentityStore::ListProjects(const IdentityFilter& f) {
  return store_->impl_->Run<std::vector<Project>>([&](soci::session& s) -> Result<std::vector<Project>> {
    Query q;
    q.sql = std::string("SELECT ") + kProjectColumns + " FROM identity_projects WHERE 1 = 1";
    Narrow(&q, "name", f.name);
    Narrow(&q, "domain_id", f.domain_id);
    if (f.enabled) q.sql += *f.enabled ? " AND enabled = 1" : " AND enabled = 0";
    q.sql += " ORDER BY name, id";
    std::vector<Project> out;
    for (const auto& r : Select(s, q)) out.push_back(ToProject(r));
    return out;
  });
}

Result<Project> IdentityStore::GetProject(const std::string& id) {
  return store_->impl_->Run<Project>([&](soci::session& s) -> Result<Project> {
    Query q;
    q.sql = std::string("SELECT ") + kProjectColumns + " FROM identity_projects WHERE id = " + q.P(id);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFoundAs("project", id);
    return ToProject(rows[0]);
  });
}

Result<Project> IdentityStore::GetProjectByName(const std::string& name, const std::string& domain_id) {
  IdentityFilter f;
  f.name = name;
  f.domain_id = domain_id;
  CINDER_ASSIGN_OR_RETURN(auto all, ListProjects(f));
  if (all.empty()) return NotFoundAs("project", name);
  return all[0];
}

Status IdentityStore::InsertProject(const Project& p) {
  Status st = store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "INSERT INTO identity_projects (id, name, domain_id, description, enabled, tags, created_at) VALUES (" +
            q.P(p.id) + ", " + q.P(p.name) + ", " + q.P(p.domain_id) + ", " + q.P(p.description) + ", " +
            (p.enabled ? "1" : "0") + ", " + q.P(Tags(p.tags)) + ", " + q.P(NowIso()) + ")";
    Exec(s, q);
    return Status::OK();
  });
  return Duplicate(st, "project", "name " + p.name + " at domain ID " + p.domain_id);
}

Status IdentityStore::UpdateProject(const Project& p) {
  Status st = store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE identity_projects SET name = " + q.P(p.name) + ", description = " + q.P(p.description) +
            ", enabled = " + (p.enabled ? "1" : "0") + ", tags = " + q.P(Tags(p.tags)) + " WHERE id = " + q.P(p.id);
    if (Exec(s, q) == 0) return NotFoundAs("project", p.id);
    if (!p.enabled) {
      Query t;
      t.sql = "UPDATE identity_tokens SET revoked = 1 WHERE project_id = " + t.P(p.id);
      Exec(s, t);
    }
    Bump(s);
    return Status::OK();
  });
  return Duplicate(st, "project", "name " + p.name + " at domain ID " + p.domain_id);
}

Status IdentityStore::DeleteProject(const std::string& id) {
  return store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "DELETE FROM identity_projects WHERE id = " + q.P(id);
    if (Exec(s, q) == 0) return NotFoundAs("project", id);
    Query a;
    a.sql = "DELETE FROM identity_assignments WHERE target_type = 'project' AND target_id = " + a.P(id);
    Exec(s, a);
    Query t;
    t.sql = "UPDATE identity_tokens SET revoked = 1 WHERE project_id = " + t.P(id);
    Exec(s, t);
    Bump(s);
    return Status::OK();
  });
}

// ---- Users ------------------------------------------------------------------------------------

Result<std::vector<User>> IdentityStore::ListUsers(const IdentityFilter& f) {
  return store_->impl_->Run<std::vector<User>>([&](soci::session& s) -> Result<std::vector<User>> {
    Query q;
    q.sql = std::string("SELECT ") + kUserColumns + " FROM identity_users WHERE 1 = 1";
    Narrow(&q, "name", f.name);
    Narrow(&q, "domain_id", f.domain_id);
    if (f.enabled) q.sql += *f.enabled ? " AND enabled = 1" : " AND enabled = 0";
    q.sql += " ORDER BY name, id";
    std::vector<User> out;
    for (const auto& r : Select(s, q)) out.push_back(ToUser(r).user);
    return out;
  });
}

Result<UserRecord> IdentityStore::GetUser(const std::string& id) {
  return store_->impl_->Run<UserRecord>([&](soci::session& s) -> Result<UserRecord> {
    Query q;
    q.sql = std::string("SELECT ") + kUserColumns + " FROM identity_users WHERE id = " + q.P(id);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFoundAs("user", id);
    return ToUser(rows[0]);
  });
}

Result<UserRecord> IdentityStore::GetUserByName(const std::string& name, const std::string& domain_id) {
  return store_->impl_->Run<UserRecord>([&](soci::session& s) -> Result<UserRecord> {
    Query q;
    q.sql = std::string("SELECT ") + kUserColumns + " FROM identity_users WHERE name = " + q.P(name) +
            " AND domain_id = " + q.P(domain_id);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFoundAs("user", name);
    return ToUser(rows[0]);
  });
}

Status IdentityStore::InsertUser(const User& u, const std::string& password_hash) {
  Status st = store_->impl_->Tx([&](soci::session& s) -> Status {
    const std::string now = NowIso();
    Query q;
    q.sql = std::string("INSERT INTO identity_users (id, name, domain_id, email, description, default_project_id, ") +
            "enabled, password_hash, password_created_at, created_at) VALUES (" + q.P(u.id) + ", " + q.P(u.name) +
            ", " + q.P(u.domain_id) + ", " + q.P(u.email) + ", " + q.P(u.description) + ", " +
            q.P(u.default_project_id) + ", " + (u.enabled ? "1" : "0") + ", " +
            (password_hash.empty() ? std::string("NULL") : q.P(password_hash)) + ", " + q.P(now) + ", " + q.P(now) +
            ")";
    Exec(s, q);
    return Status::OK();
  });
  return Duplicate(st, "user", "name " + u.name + " at domain ID " + u.domain_id);
}

Status IdentityStore::UpdateUser(const User& u, const std::string& password_hash) {
  Status st = store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE identity_users SET name = " + q.P(u.name) + ", email = " + q.P(u.email) +
            ", description = " + q.P(u.description) + ", default_project_id = " + q.P(u.default_project_id) +
            ", enabled = " + (u.enabled ? "1" : "0");
    if (!password_hash.empty()) {
      q.sql += ", password_hash = " + q.P(password_hash) + ", password_created_at = " + q.P(NowIso()) +
               ", failed_auth_count = 0, failed_auth_at = NULL";
    }
    q.sql += " WHERE id = " + q.P(u.id);
    if (Exec(s, q) == 0) return NotFoundAs("user", u.id);
    if (!password_hash.empty() || !u.enabled) {
      Query t;
      t.sql = "UPDATE identity_tokens SET revoked = 1 WHERE user_id = " + t.P(u.id);
      Exec(s, t);
    }
    Bump(s);
    return Status::OK();
  });
  return Duplicate(st, "user", "name " + u.name + " at domain ID " + u.domain_id);
}

Status IdentityStore::DeleteUser(const std::string& id) {
  return store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "DELETE FROM identity_users WHERE id = " + q.P(id);
    if (Exec(s, q) == 0) return NotFoundAs("user", id);
    Query a;
    a.sql = "DELETE FROM identity_assignments WHERE actor_type = 'user' AND actor_id = " + a.P(id);
    Exec(s, a);
    Query t;
    t.sql = "UPDATE identity_tokens SET revoked = 1 WHERE user_id = " + t.P(id);
    Exec(s, t);
    Bump(s);
    return Status::OK();
  });
}

Status IdentityStore::RecordFailedAuth(const std::string& id, const std::string& now) {
  return store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE identity_users SET failed_auth_count = failed_auth_count + 1, failed_auth_at = " + q.P(now) +
            " WHERE id = " + q.P(id);
    Exec(s, q);
    return Status::OK();
  });
}

Status IdentityStore::ResetFailedAuth(const std::string& id) {
  return store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql =
        "UPDATE identity_users SET failed_auth_count = 0, failed_auth_at = NULL WHERE failed_auth_count <> 0 "
        "AND id = " +
        q.P(id);
    Exec(s, q);
    return Status::OK();
  });
}

// ---- Roles ------------------------------------------------------------------------------------

Result<std::vector<Role>> IdentityStore::ListRoles(const std::string& name_filter) {
  return store_->impl_->Run<std::vector<Role>>([&](soci::session& s) -> Result<std::vector<Role>> {
    Query q;
    q.sql = "SELECT id, name, description FROM identity_roles";
    if (!name_filter.empty()) q.sql += " WHERE name_key = " + q.P(ToLower(name_filter));
    q.sql += " ORDER BY name_key";
    std::vector<Role> out;
    for (const auto& r : Select(s, q)) out.push_back(Role{r[0].value_or(""), r[1].value_or(""), r[2].value_or("")});
    return out;
  });
}

Result<Role> IdentityStore::GetRole(const std::string& id) {
  return store_->impl_->Run<Role>([&](soci::session& s) -> Result<Role> {
    Query q;
    q.sql = "SELECT id, name, description FROM identity_roles WHERE id = " + q.P(id);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFoundAs("role", id);
    return Role{rows[0][0].value_or(""), rows[0][1].value_or(""), rows[0][2].value_or("")};
  });
}

Result<Role> IdentityStore::GetRoleByName(const std::string& name) {
  CINDER_ASSIGN_OR_RETURN(auto all, ListRoles(name));
  if (all.empty()) return NotFoundAs("role", name);
  return all[0];
}

Status IdentityStore::InsertRole(const Role& r) {
  Status st = store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "INSERT INTO identity_roles (id, name, name_key, description, created_at) VALUES (" + q.P(r.id) + ", " +
            q.P(r.name) + ", " + q.P(ToLower(r.name)) + ", " + q.P(r.description) + ", " + q.P(NowIso()) + ")";
    Exec(s, q);
    return Status::OK();
  });
  return Duplicate(st, "role", "name " + r.name);
}

Status IdentityStore::DeleteRole(const std::string& id) {
  return store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "DELETE FROM identity_roles WHERE id = " + q.P(id);
    if (Exec(s, q) == 0) return NotFoundAs("role", id);
    Query a;
    a.sql = "DELETE FROM identity_assignments WHERE role_id = " + a.P(id);
    Exec(s, a);
    Query i;
    i.sql = "DELETE FROM identity_implied_roles WHERE prior_role_id = " + i.P(id) + " OR implied_role_id = " + i.P(id);
    Exec(s, i);
    Bump(s);
    return Status::OK();
  });
}

Status IdentityStore::AddImpliedRole(const std::string& prior_id, const std::string& implied_id) {
  return store_->impl_->Tx([&](soci::session& s) -> Status {
    Query c;
    c.sql = "SELECT COUNT(*) FROM identity_implied_roles WHERE prior_role_id = " + c.P(prior_id) +
            " AND implied_role_id = " + c.P(implied_id);
    if (ToInt(Select(s, c)[0][0]) > 0) return Status::OK();
    Query q;
    q.sql = "INSERT INTO identity_implied_roles (prior_role_id, implied_role_id) VALUES (" + q.P(prior_id) + ", " +
            q.P(implied_id) + ")";
    Exec(s, q);
    Bump(s);
    return Status::OK();
  });
}

Result<std::multimap<std::string, std::string>> IdentityStore::ImpliedRoles() {
  using Out = std::multimap<std::string, std::string>;
  return store_->impl_->Run<Out>([&](soci::session& s) -> Result<Out> {
    Out out;
    for (const auto& r : Select(s, Query{"SELECT prior_role_id, implied_role_id FROM identity_implied_roles", {}})) {
      out.emplace(r[0].value_or(""), r[1].value_or(""));
    }
    return out;
  });
}

// ---- Assignments ------------------------------------------------------------------------------

Status IdentityStore::InsertAssignment(const AssignmentRow& a) {
  Status st = store_->impl_->Tx([&](soci::session& s) -> Status {
    Query c;
    c.sql = "SELECT COUNT(*) FROM identity_assignments WHERE actor_type = " + c.P(a.actor_type) +
            " AND actor_id = " + c.P(a.actor_id) + " AND target_type = " + c.P(a.target_type) +
            " AND target_id = " + c.P(a.target_id) + " AND role_id = " + c.P(a.role_id);
    if (ToInt(Select(s, c)[0][0]) > 0) return Status::OK();
    Query q;
    q.sql = "INSERT INTO identity_assignments (actor_type, actor_id, target_type, target_id, role_id) VALUES (" +
            q.P(a.actor_type) + ", " + q.P(a.actor_id) + ", " + q.P(a.target_type) + ", " + q.P(a.target_id) + ", " +
            q.P(a.role_id) + ")";
    Exec(s, q);
    Bump(s);
    return Status::OK();
  });
  // Two grants of the same role at once: the second found nothing and lost the insert.
  return st.code() == Code::kAlreadyExists ? Status::OK() : st;
}

Result<bool> IdentityStore::DeleteAssignment(const AssignmentRow& a) {
  bool gone = false;
  Status st = store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "DELETE FROM identity_assignments WHERE actor_type = " + q.P(a.actor_type) +
            " AND actor_id = " + q.P(a.actor_id) + " AND target_type = " + q.P(a.target_type) +
            " AND target_id = " + q.P(a.target_id) + " AND role_id = " + q.P(a.role_id);
    gone = Exec(s, q) > 0;
    if (gone) Bump(s);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return gone;
}

Result<std::vector<AssignmentRow>> IdentityStore::ListAssignments(const AssignmentRow& f,
                                                                  const std::vector<std::string>& actor_ids) {
  using Out = std::vector<AssignmentRow>;
  return store_->impl_->Run<Out>([&](soci::session& s) -> Result<Out> {
    Query q;
    q.sql = "SELECT actor_type, actor_id, target_type, target_id, role_id FROM identity_assignments WHERE 1 = 1";
    Narrow(&q, "actor_type", f.actor_type);
    Narrow(&q, "actor_id", f.actor_id);
    Narrow(&q, "target_type", f.target_type);
    Narrow(&q, "target_id", f.target_id);
    Narrow(&q, "role_id", f.role_id);
    if (!actor_ids.empty()) q.sql += " AND actor_id IN " + q.In(actor_ids);
    q.sql += " ORDER BY actor_type, actor_id, target_type, target_id, role_id";
    Out out;
    for (const auto& r : Select(s, q)) {
      out.push_back(
          AssignmentRow{r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or(""), r[4].value_or("")});
    }
    return out;
  });
}

// ---- Tokens -----------------------------------------------------------------------------------

Status IdentityStore::InsertToken(const std::string& id_hash, const TokenRecord& t) {
  return store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = std::string("INSERT INTO identity_tokens (id_hash, ") + kTokenColumns + ") VALUES (" + q.P(id_hash) + ", " +
            q.P(t.user_id) + ", " + q.P(t.project_id) + ", " + q.P(t.domain_id) + ", " + q.P(t.system_scope) + ", " +
            q.P(t.methods) + ", " + q.P(t.audit_id) + ", " + q.P(t.issued_at) + ", " + q.P(t.expires_at) + ", 0)";
    Exec(s, q);
    return Status::OK();
  });
}

Result<TokenRecord> IdentityStore::GetToken(const std::string& id_hash) {
  return store_->impl_->Run<TokenRecord>([&](soci::session& s) -> Result<TokenRecord> {
    Query q;
    q.sql = std::string("SELECT ") + kTokenColumns + " FROM identity_tokens WHERE id_hash = " + q.P(id_hash);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFound("no such token");
    const Row& r = rows[0];
    return TokenRecord{r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or(""), r[4].value_or(""),
                       r[5].value_or(""), r[6].value_or(""), r[7].value_or(""), ToInt(r[8]) != 0};
  });
}

Status IdentityStore::RevokeWhere(const std::string& column, const std::string& value) {
  return store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE identity_tokens SET revoked = 1 WHERE revoked = 0 AND " + column + " = " + q.P(value);
    Exec(s, q);
    Bump(s);
    return Status::OK();
  });
}

Status IdentityStore::RevokeToken(const std::string& id_hash) { return RevokeWhere("id_hash", id_hash); }
Status IdentityStore::RevokeUserTokens(const std::string& user_id) { return RevokeWhere("user_id", user_id); }
Status IdentityStore::RevokeProjectTokens(const std::string& project_id) {
  return RevokeWhere("project_id", project_id);
}

Status IdentityStore::BumpRevocations() {
  return store_->impl_->Tx([&](soci::session& s) -> Status {
    Bump(s);
    return Status::OK();
  });
}

Result<int64_t> IdentityStore::RevocationGeneration() {
  return store_->impl_->Run<int64_t>([&](soci::session& s) -> Result<int64_t> {
    auto rows = Select(s, Query{"SELECT generation FROM identity_revocations WHERE id = 1", {}});
    return rows.empty() ? int64_t{0} : ToInt(rows[0][0]);
  });
}

Result<int64_t> IdentityStore::PurgeTokens(const std::string& before) {
  int64_t n = 0;
  Status st = store_->impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "DELETE FROM identity_tokens WHERE expires_at < " + q.P(before);
    n = Exec(s, q);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return n;
}

}  // namespace cinder

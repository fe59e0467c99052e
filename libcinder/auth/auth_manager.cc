// The AuthManager over the database (and an LDAP directory for users): authentication,
// tokens and their validation. Administration is in auth_admin.cc.
#include "auth/auth_manager_impl.h"

#include <algorithm>
#include <set>

#include "auth/password.h"
#include "common/log.h"
#include "common/util.h"

namespace cinder {

namespace auth {

namespace {

constexpr char kAuthFailed[] = "The request you have made requires authentication.";

// Keystone's time format: microseconds always 000000 (keystone.common.utils.isotime).
std::string KeystoneTime(double epoch) {
  auto tp = std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<int64_t>(epoch)));
  std::string iso = FormatIso(tp);  // 2024-01-02T03:04:05.000000
  return iso + "Z";
}

double NowEpoch() { return EpochSeconds(std::chrono::system_clock::now()); }

}  // namespace

AuthManagerImpl::AuthManagerImpl(const Options& options, std::unique_ptr<Store> store, std::shared_ptr<Policy> policy,
                                 std::unique_ptr<IdentityDriver> ldap)
    : options_(options),
      store_(std::move(store)),
      ids_(store_.get()),
      policy_(std::move(policy)),
      ldap_(std::move(ldap)),
      cache_(options.auth.token_cache_time, [this]() -> std::optional<int64_t> {
        auto g = ids_.RevocationGeneration();
        if (!g.ok()) return std::nullopt;
        return *g;
      }) {}

// ---- Users, wherever they live ------------------------------------------------------------------

Result<User> AuthManagerImpl::FindUser(const std::string& id) {
  auto sql = ids_.GetUser(id);
  if (sql.ok()) return sql->user;
  if (sql.status().code() != Code::kNotFound || !ldap_) return sql.status();
  return ldap_->GetUser(id);
}

Result<Domain> AuthManagerImpl::ResolveDomain(const std::string& id, const std::string& name) {
  if (!id.empty()) return ids_.GetDomain(id);
  if (!name.empty()) return ids_.GetDomainByName(name);
  return InvalidArgument(
      "Expecting to find domain in user - the server could not comply with the request "
      "since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
}

Status AuthManagerImpl::CheckUserPassword(const User& user, const std::string& password) {
  if (user.from_ldap) return ldap_->CheckPassword(user.id, password);
  CINDER_ASSIGN_OR_RETURN(auto rec, ids_.GetUser(user.id));
  const auto& a = options_.auth;
  if (a.lockout_failure_attempts > 0 && rec.failed_auth_count >= a.lockout_failure_attempts) {
    auto at = ParseIso(rec.failed_auth_at);
    if (at && NowEpoch() < *at + a.lockout_duration) {
      CINDER_LOG(kWarning, "cinder-auth") << "login refused: user " << user.id << " is locked out";
      return Unauthenticated(kAuthFailed);
    }
  }
  if (rec.password_hash.empty() || !CheckPassword(password, rec.password_hash)) {
    (void)ids_.RecordFailedAuth(user.id, NowIso());
    return Unauthenticated(kAuthFailed);
  }
  if (rec.failed_auth_count > 0) (void)ids_.ResetFailedAuth(user.id);
  return Status::OK();
}

// The user a password request names, with its password checked. Every failure is the same
// 401; a user that does not exist costs a hash too.
Result<User> AuthManagerImpl::PasswordUser(const AuthRequest& r) {
  const auto& a = options_.auth;
  if (r.password.empty() || r.password.size() > static_cast<size_t>(a.max_password_length)) {
    return Unauthenticated(kAuthFailed);
  }
  Result<User> user = NotFound("");
  if (!r.user_id.empty()) {
    user = FindUser(r.user_id);
  } else {
    auto domain = ResolveDomain(r.user_domain_id, r.user_domain_name);
    if (!domain.ok()) {
      if (domain.status().code() == Code::kInvalidArgument) return domain.status();
      user = domain.status();
    } else if (!domain->enabled) {
      user = NotFound("");
    } else {
      auto sql = ids_.GetUserByName(r.user_name, domain->id);
      if (sql.ok()) {
        user = sql->user;
      } else if (sql.status().code() == Code::kNotFound && ldap_ && domain->id == a.default_domain_id) {
        user = ldap_->GetUserByName(r.user_name);
      } else {
        user = sql.status();
      }
    }
  }
  if (!user.ok()) {
    if (user.status().code() == Code::kUnavailable) return user.status();
    CheckNoPassword(r.password, a.password_hash_algorithm, a.password_hash_rounds);
    return Unauthenticated(kAuthFailed);
  }
  CINDER_RETURN_IF_ERROR(CheckUserPassword(*user, r.password));
  if (!user->enabled) return Unauthenticated(kAuthFailed);
  auto domain = ids_.GetDomain(user->domain_id);
  if (!domain.ok() || !domain->enabled) return Unauthenticated(kAuthFailed);
  return user;
}

// ---- Roles ------------------------------------------------------------------------------------

// The role ids `user` holds on a target, directly or through its groups, with the roles they
// imply (admin => member => reader), and their names.
Result<std::vector<AssignmentRow>> AuthManagerImpl::UserAssignments(const User& user, const std::string& target_type,
                                                                    const std::string& target_id) {
  std::vector<std::string> actors{user.id};
  std::set<std::string> group_ids;
  if (user.from_ldap) {
    CINDER_ASSIGN_OR_RETURN(auto groups, ldap_->GroupsOfUser(user.id));
    for (const auto& g : groups) {
      actors.push_back(g.id);
      group_ids.insert(g.id);
    }
  }
  AssignmentRow f;
  f.target_type = target_type;
  f.target_id = target_id;
  CINDER_ASSIGN_OR_RETURN(auto rows, ids_.ListAssignments(f, actors));
  std::vector<AssignmentRow> out;
  for (auto& row : rows) {
    if ((row.actor_type == "user" && row.actor_id == user.id) ||
        (row.actor_type == "group" && group_ids.count(row.actor_id))) {
      out.push_back(std::move(row));
    }
  }
  return out;
}

Result<std::vector<Role>> AuthManagerImpl::EffectiveRoles(const User& user, const std::string& target_type,
                                                          const std::string& target_id) {
  CINDER_ASSIGN_OR_RETURN(auto rows, UserAssignments(user, target_type, target_id));
  std::set<std::string> ids;
  for (const auto& row : rows) ids.insert(row.role_id);
  if (ids.empty()) return std::vector<Role>{};
  CINDER_ASSIGN_OR_RETURN(auto implied, ids_.ImpliedRoles());
  std::vector<std::string> todo(ids.begin(), ids.end());
  while (!todo.empty()) {
    std::string id = todo.back();
    todo.pop_back();
    auto [b, e] = implied.equal_range(id);
    for (auto it = b; it != e; ++it) {
      if (ids.insert(it->second).second) todo.push_back(it->second);
    }
  }
  CINDER_ASSIGN_OR_RETURN(auto all, ids_.ListRoles(""));
  std::vector<Role> out;
  for (const auto& role : all) {
    if (ids.count(role.id)) out.push_back(role);
  }
  return out;
}

// ---- Scope ------------------------------------------------------------------------------------

Status AuthManagerImpl::ApplyScope(const AuthRequest& r, const User& user, TokenRecord* rec, TokenInfo* info) {
  const bool named_project = !r.project_id.empty() || !r.project_name.empty();
  const bool named_domain = !r.domain_id.empty() || !r.domain_name.empty();
  if (named_project) {
    Result<Project> p = NotFound("");
    if (!r.project_id.empty()) {
      p = ids_.GetProject(r.project_id);
    } else {
      auto d = ResolveDomain(r.project_domain_id, r.project_domain_name);
      if (!d.ok()) return Unauthenticated(kAuthFailed);
      p = ids_.GetProjectByName(r.project_name, d->id);
    }
    if (!p.ok()) return p.status().code() == Code::kNotFound ? Unauthenticated(kAuthFailed) : p.status();
    rec->project_id = p->id;
  } else if (named_domain) {
    auto d = ResolveDomain(r.domain_id, r.domain_name);
    if (!d.ok()) return d.status().code() == Code::kNotFound ? Unauthenticated(kAuthFailed) : d.status();
    rec->domain_id = d->id;
  } else if (r.system) {
    rec->system_scope = "all";
  } else if (!r.unscoped && !user.default_project_id.empty()) {
    // No scope: the user's default project, when it still may (Keystone's rule).
    auto p = ids_.GetProject(user.default_project_id);
    if (p.ok() && p->enabled) {
      auto roles = EffectiveRoles(user, "project", p->id);
      if (roles.ok() && !roles->empty()) rec->project_id = p->id;
    }
  }
  return FillScope(*rec, user, info);
}

// The scope's objects and the roles held on it now; NotFound when the token no longer may
// carry that scope (no role left, the project or domain disabled or gone).
Status AuthManagerImpl::FillScope(const TokenRecord& rec, const User& user, TokenInfo* info) {
  info->roles.clear();
  if (!rec.project_id.empty()) {
    auto p = ids_.GetProject(rec.project_id);
    if (!p.ok()) return p.status().code() == Code::kNotFound ? NotFound("project gone") : p.status();
    auto d = ids_.GetDomain(p->domain_id);
    if (!p->enabled || !d.ok() || !d->enabled) return NotFound("project disabled");
    CINDER_ASSIGN_OR_RETURN(info->roles, EffectiveRoles(user, "project", p->id));
    info->project = *p;
    info->project_domain = *d;
    const auto& a = options_.auth;
    if (!a.admin_project_name.empty()) {
      info->is_admin_project = p->name == a.admin_project_name && d->name == a.admin_project_domain_name;
    }
  } else if (!rec.domain_id.empty()) {
    auto d = ids_.GetDomain(rec.domain_id);
    if (!d.ok() || !d->enabled) return NotFound("domain gone");
    CINDER_ASSIGN_OR_RETURN(info->roles, EffectiveRoles(user, "domain", d->id));
    info->domain = *d;
  } else if (rec.system_scope == "all") {
    CINDER_ASSIGN_OR_RETURN(info->roles, EffectiveRoles(user, "system", "all"));
    info->system = true;
  } else {
    return Status::OK();  // unscoped: no roles
  }
  if (info->roles.empty()) return NotFound("no role on the scope");
  return Status::OK();
}

// ---- Tokens -----------------------------------------------------------------------------------

Result<IssuedToken> AuthManagerImpl::Authenticate(const AuthRequest& r) {
  bool password = false, token = false;
  for (const auto& m : r.methods) {
    if (m == "password") {
      password = true;
    } else if (m == "token") {
      token = true;
    } else {
      return Unauthenticated("Attempted to authenticate with an unsupported method.");
    }
  }
  if (password == token) return Unauthenticated(kAuthFailed);
  User user;
  TokenRecord rec;
  double expires = NowEpoch() + static_cast<double>(options_.auth.token_expiration);
  if (password) {
    CINDER_ASSIGN_OR_RETURN(user, PasswordUser(r));
    rec.methods = "password";
  } else {
    auto old = ValidateToken(r.token, false);
    if (!old.ok()) return old.status().code() == Code::kNotFound ? Unauthenticated(kAuthFailed) : old.status();
    user = old->user;
    rec.methods = "token";
    // Keystone: a rescoped token's audit_ids end with its chain's first audit id.
    rec.audit_id = old->audit_chain_id.empty() ? old->audit_id : old->audit_chain_id;
    expires = std::min(expires, ParseIso(old->expires_at.substr(0, old->expires_at.size() - 1)).value_or(expires));
  }
  rec.user_id = user.id;
  IssuedToken out;
  out.info.user = user;
  Status scoped = ApplyScope(r, user, &rec, &out.info);
  if (!scoped.ok()) {
    if (scoped.code() == Code::kNotFound) return Unauthenticated(kAuthFailed);
    return scoped;
  }
  const double now = NowEpoch();
  std::string first_audit = rec.audit_id;
  rec.audit_id = NewAuditId();
  rec.issued_at = FormatIso(std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<int64_t>(now))));
  rec.expires_at =
      FormatIso(std::chrono::system_clock::time_point(std::chrono::seconds(static_cast<int64_t>(expires))));
  out.token = NewToken();
  CINDER_RETURN_IF_ERROR(ids_.InsertToken(Sha256Hex(out.token), rec));
  out.info.methods = Split(rec.methods, ',');
  out.info.audit_id = rec.audit_id;
  if (!first_audit.empty()) out.info.audit_chain_id = first_audit;
  out.info.issued_at = KeystoneTime(now);
  out.info.expires_at = KeystoneTime(expires);
  CINDER_LOG(kInfo, "cinder-auth") << "token issued to user " << user.id << " (audit id " << rec.audit_id << ")";
  return out;
}

Result<AuthManagerImpl::Validated> AuthManagerImpl::Validate(const std::string& token, bool allow_expired) {
  if (token.empty() || token.size() > 512) return NotFound("no such token");
  const std::string hash = Sha256Hex(token);
  const double now = NowEpoch();
  if (!allow_expired) {
    if (auto hit = cache_.Get(hash, now)) return Validated{hit->info, hit->ctx};
  }
  auto gen = cache_.Generation();
  CINDER_ASSIGN_OR_RETURN(auto rec, ids_.GetToken(hash));
  auto expires = ParseIso(rec.expires_at);
  if (rec.revoked || !expires) return NotFound("token revoked");
  const double window = allow_expired ? static_cast<double>(options_.auth.allow_expired_window) : 0;
  if (now >= *expires + window) return NotFound("token expired");
  Validated v;
  auto user = FindUser(rec.user_id);
  if (!user.ok()) return user.status().code() == Code::kNotFound ? NotFound("user gone") : user.status();
  if (!user->enabled) return NotFound("user disabled");
  v.info.user = *user;
  CINDER_RETURN_IF_ERROR(FillScope(rec, *user, &v.info));
  v.info.methods = Split(rec.methods, ',');
  v.info.audit_id = rec.audit_id;
  v.info.issued_at = KeystoneTime(ParseIso(rec.issued_at).value_or(now));
  v.info.expires_at = KeystoneTime(*expires);
  v.ctx = MakeContext(v.info);
  if (gen && !allow_expired) cache_.Put(hash, TokenCache::Entry{v.info, v.ctx, *expires}, *gen);
  return v;
}

RequestContext AuthManagerImpl::MakeContext(const TokenInfo& info) const {
  RequestContext ctx;
  ctx.user_id = info.user.id;
  ctx.user_name = info.user.name;
  ctx.user_domain_id = info.user.domain_id;
  if (info.project) {
    ctx.project_id = info.project->id;
    ctx.project_name = info.project->name;
    ctx.project_domain_id = info.project->domain_id;
  }
  if (info.domain) ctx.domain_id = info.domain->id;
  if (info.system) ctx.system_scope = "all";
  for (const auto& r : info.roles) ctx.roles.push_back(r.name);
  ctx.is_admin_project = info.is_admin_project;
  ctx.is_admin = policy_->Allowed(ctx, "context_is_admin", {});
  return ctx;
}

Result<TokenInfo> AuthManagerImpl::ValidateToken(const std::string& token, bool allow_expired) {
  CINDER_ASSIGN_OR_RETURN(auto v, Validate(token, allow_expired));
  return v.info;
}

Result<RequestContext> AuthManagerImpl::ContextForToken(const std::string& token) {
  CINDER_ASSIGN_OR_RETURN(auto v, Validate(token, false));
  return v.ctx;
}

Status AuthManagerImpl::RevokeToken(const RequestContext& ctx, const std::string& token) {
  const std::string hash = Sha256Hex(token);
  auto rec = ids_.GetToken(hash);
  if (!rec.ok() || rec->revoked) return NotFound("Could not find token: " + token + ".");
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "identity:revoke_token", {{"target.token.user_id", rec->user_id}}));
  CINDER_RETURN_IF_ERROR(ids_.RevokeToken(hash));
  cache_.Clear();  // this process at once; the others within a second
  CINDER_LOG(kInfo, "cinder-auth") << "token revoked (audit id " << rec->audit_id << ")";
  return Status::OK();
}

Status AuthManagerImpl::Enforce(const RequestContext& ctx, const std::string& rule,
                                const std::map<std::string, std::string>& target) const {
  return policy_->Enforce(ctx, rule, target);
}

}  // namespace auth

Result<std::unique_ptr<AuthManager>> AuthManager::Open(const Options& options) {
  CINDER_ASSIGN_OR_RETURN(auto store, Store::Open(options.DatabaseUrl()));
  CINDER_RETURN_IF_ERROR(store->CheckSchema());
  CINDER_ASSIGN_OR_RETURN(auto policy, auth::Policy::Open(options));
  std::unique_ptr<auth::IdentityDriver> ldap;
  if (options.auth.identity_driver == "ldap") {
    CINDER_ASSIGN_OR_RETURN(ldap, auth::OpenLdapIdentity(options.auth.ldap, options.auth.default_domain_id));
  }
  return std::unique_ptr<AuthManager>(
      std::make_unique<auth::AuthManagerImpl>(options, std::move(store), std::move(policy), std::move(ldap)));
}

}  // namespace cinder

// [keystone_authtoken]: tokens validated by an external Keystone, as keystonemiddleware does
// (GET /v3/auth/tokens with the service user's token and the user's as X-Subject-Token), with
// Cinder's policy applied here. Poco's HTTP client (plain http).
#include "api/authtoken.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>

#include <chrono>
#include <mutex>
#include <unordered_map>

#include "auth/password.h"
#include "auth/policy.h"
#include "common/json.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/util.h"

namespace cinder::api {

namespace {

struct HttpAnswer {
  int status = 0;
  std::string body;
  std::string subject_token;
};

constexpr char kExternal[] = "This service validates tokens with an external Keystone; administer identity there.";

class ExternalKeystone : public AuthManager {
 public:
  ExternalKeystone(const Options& options, std::shared_ptr<auth::Policy> policy)
      : options_(options), ks_(options.auth.keystone_authtoken), policy_(std::move(policy)) {
    base_ = ks_.auth_url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
    if (base_.size() < 3 || base_.compare(base_.size() - 3, 3, "/v3") != 0) base_ += "/v3";
  }

  Result<RequestContext> ContextForToken(const std::string& token) override {
    if (token.empty() || token.size() > 8192) return Unauthenticated("no token");
    const std::string key = auth::Sha256Hex(token);
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end() && now < it->second.until) return it->second.ctx;
    }
    CINDER_ASSIGN_OR_RETURN(auto ctx, Validate(token, false));
    if (ks_.token_cache_time > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      if (cache_.size() > 100000) cache_.clear();
      cache_[key] = Cached{ctx, now + std::chrono::seconds(ks_.token_cache_time)};
    }
    return ctx;
  }

  Status Enforce(const RequestContext& ctx, const std::string& rule,
                 const std::map<std::string, std::string>& target) const override {
    return policy_->Enforce(ctx, rule, target);
  }

  // Identity administration belongs to the external Keystone.
  Result<IssuedToken> Authenticate(const AuthRequest&) override { return Unimplemented(kExternal); }
  Result<TokenInfo> ValidateToken(const std::string&, bool) override { return Unimplemented(kExternal); }
  Status RevokeToken(const RequestContext&, const std::string&) override { return Unimplemented(kExternal); }
  Result<std::vector<Domain>> ListDomains(const RequestContext&, const IdentityFilter&) override {
    return Unimplemented(kExternal);
  }
  Result<Domain> GetDomain(const RequestContext&, const std::string&) override { return Unimplemented(kExternal); }
  Result<Domain> CreateDomain(const RequestContext&, const Domain&) override { return Unimplemented(kExternal); }
  Result<Domain> UpdateDomain(const RequestContext&, const std::string&,
                              const std::map<std::string, std::string>&) override {
    return Unimplemented(kExternal);
  }
  Status DeleteDomain(const RequestContext&, const std::string&) override { return Unimplemented(kExternal); }
  Result<std::vector<Project>> ListProjects(const RequestContext&, const IdentityFilter&) override {
    return Unimplemented(kExternal);
  }
  Result<std::vector<Project>> ListUserProjects(const RequestContext&, const std::string&) override {
    return Unimplemented(kExternal);
  }
  Result<Project> GetProject(const RequestContext&, const std::string&) override { return Unimplemented(kExternal); }
  Result<Project> CreateProject(const RequestContext&, const Project&) override { return Unimplemented(kExternal); }
  Result<Project> UpdateProject(const RequestContext&, const std::string&,
                                const std::map<std::string, std::string>&) override {
    return Unimplemented(kExternal);
  }
  Status DeleteProject(const RequestContext&, const std::string&) override { return Unimplemented(kExternal); }
  Result<std::vector<User>> ListUsers(const RequestContext&, const IdentityFilter&) override {
    return Unimplemented(kExternal);
  }
  Result<User> GetUser(const RequestContext&, const std::string&) override { return Unimplemented(kExternal); }
  Result<User> CreateUser(const RequestContext&, const User&, const std::string&) override {
    return Unimplemented(kExternal);
  }
  Result<User> UpdateUser(const RequestContext&, const std::string&,
                          const std::map<std::string, std::string>&) override {
    return Unimplemented(kExternal);
  }
  Status ChangePassword(const std::string&, const std::string&, const std::string&) override {
    return Unimplemented(kExternal);
  }
  Status DeleteUser(const RequestContext&, const std::string&) override { return Unimplemented(kExternal); }
  Result<std::vector<Group>> ListGroups(const RequestContext&, const IdentityFilter&) override {
    return Unimplemented(kExternal);
  }
  Result<std::vector<Group>> ListUserGroups(const RequestContext&, const std::string&) override {
    return Unimplemented(kExternal);
  }
  Result<std::vector<Role>> ListRoles(const RequestContext&, const IdentityFilter&) override {
    return Unimplemented(kExternal);
  }
  Result<Role> GetRole(const RequestContext&, const std::string&) override { return Unimplemented(kExternal); }
  Result<Role> CreateRole(const RequestContext&, const Role&) override { return Unimplemented(kExternal); }
  Status DeleteRole(const RequestContext&, const std::string&) override { return Unimplemented(kExternal); }
  Status Grant(const RequestContext&, const RoleAssignment&) override { return Unimplemented(kExternal); }
  Status Revoke(const RequestContext&, const RoleAssignment&) override { return Unimplemented(kExternal); }
  Status CheckGrant(const RequestContext&, const RoleAssignment&) override { return Unimplemented(kExternal); }
  Result<std::vector<RoleAssignment>> ListRoleAssignments(const RequestContext&, const RoleAssignmentFilter&) override {
    return Unimplemented(kExternal);
  }
  Status RunBootstrap(const Bootstrap&) override { return Unimplemented(kExternal); }

 private:
  struct Cached {
    RequestContext ctx;
    std::chrono::steady_clock::time_point until;
  };

  Result<HttpAnswer> Http(const std::string& method, const std::string& path, const std::string& body,
                          const std::vector<std::pair<std::string, std::string>>& headers) {
    Poco::URI uri(base_ + path);
    for (int attempt = 0;; ++attempt) {
      try {
        Poco::Net::HTTPClientSession s(uri.getHost(), uri.getPort());
        s.setTimeout(Poco::Timespan(ks_.http_connect_timeout, 0));
        Poco::Net::HTTPRequest req(method, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
        for (const auto& [k, v] : headers) req.set(k, v);
        if (!body.empty()) {
          req.setContentType("application/json");
          req.setContentLength(static_cast<std::streamsize>(body.size()));
        }
        s.sendRequest(req) << body;
        Poco::Net::HTTPResponse resp;
        std::istream& in = s.receiveResponse(resp);
        HttpAnswer a;
        a.status = static_cast<int>(resp.getStatus());
        a.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (resp.has("X-Subject-Token")) a.subject_token = resp.get("X-Subject-Token");
        return a;
      } catch (const std::exception& e) {
        if (attempt >= ks_.http_request_max_retries) {
          CINDER_LOG(kWarning, "cinder-api") << "Keystone at " << base_ << " unreachable: " << e.what();
          return Unavailable("The Keystone service is temporarily unavailable.");
        }
      }
    }
  }

  // The service user's token, made again when Keystone refuses it.
  Result<std::string> ServiceToken(bool renew) {
    std::lock_guard<std::mutex> lock(service_mu_);
    if (!service_token_.empty() && !renew) return service_token_;
    JsonWriter w;
    w.BeginObject().Key("auth").BeginObject().Key("identity").BeginObject();
    w.Key("methods").BeginArray().String("password").EndArray();
    w.Key("password").BeginObject().Key("user").BeginObject().Key("name").String(ks_.username);
    w.Key("domain").BeginObject().Key("name").String(ks_.user_domain_name).EndObject();
    w.Key("password").String(ks_.password).EndObject().EndObject().EndObject();
    w.Key("scope").BeginObject().Key("project").BeginObject().Key("name").String(ks_.project_name);
    w.Key("domain").BeginObject().Key("name").String(ks_.project_domain_name).EndObject();
    w.EndObject().EndObject().EndObject().EndObject();
    CINDER_ASSIGN_OR_RETURN(auto a, Http("POST", "/auth/tokens?nocatalog", w.Take(), {}));
    if (a.status != 201 || a.subject_token.empty()) {
      CINDER_LOG(kError, "cinder-api") << "[keystone_authtoken] the service user " << ks_.username
                                       << " cannot log in to " << base_ << " (HTTP " << a.status << ")";
      return Unavailable("The Keystone service is temporarily unavailable.");
    }
    service_token_ = a.subject_token;
    return service_token_;
  }

  Result<RequestContext> Validate(const std::string& token, bool renewed) {
    CINDER_ASSIGN_OR_RETURN(auto service, ServiceToken(renewed));
    CINDER_ASSIGN_OR_RETURN(
        auto a,
        Http("GET", "/auth/tokens?nocatalog", "",
             {{"X-Auth-Token", service}, {"X-Subject-Token", token}, {"OpenStack-Identity-Access-Rules", "1"}}));
    if (a.status == 401 && !renewed) return Validate(token, true);
    if (a.status == 404 || a.status == 401) return Unauthenticated("token refused by Keystone");
    if (a.status != 200) return Unavailable("The Keystone service is temporarily unavailable.");
    auto doc = json::Parse(a.body);
    if (!doc.ok()) return Unavailable("The Keystone service is temporarily unavailable.");
    const json::Value* t = doc->Find("token");
    if (!t || !t->is_object()) return Unavailable("The Keystone service is temporarily unavailable.");
    return ContextOf(*t);
  }

  RequestContext ContextOf(const json::Value& t) const {
    auto str = [](const json::Value* o, const char* k) -> std::string {
      const json::Value* v = o && o->is_object() ? o->Find(k) : nullptr;
      return v && v->is_string() ? v->as_string() : "";
    };
    RequestContext ctx;
    const json::Value* user = t.Find("user");
    ctx.user_id = str(user, "id");
    ctx.user_name = str(user, "name");
    ctx.user_domain_id = str(user ? user->Find("domain") : nullptr, "id");
    const json::Value* project = t.Find("project");
    ctx.project_id = str(project, "id");
    ctx.project_name = str(project, "name");
    ctx.project_domain_id = str(project ? project->Find("domain") : nullptr, "id");
    ctx.domain_id = str(t.Find("domain"), "id");
    if (const json::Value* sys = t.Find("system"); sys && sys->is_object()) ctx.system_scope = "all";
    if (const json::Value* roles = t.Find("roles"); roles && roles->is_array()) {
      for (const auto& r : roles->as_array()) ctx.roles.push_back(str(&r, "name"));
    }
    if (const json::Value* iap = t.Find("is_admin_project"); iap && iap->is_bool()) {
      ctx.is_admin_project = iap->as_bool();
    }
    ctx.is_admin = policy_->Allowed(ctx, "context_is_admin", {});
    return ctx;
  }

  Options options_;
  KeystoneAuthtokenOptions ks_;
  std::shared_ptr<auth::Policy> policy_;
  std::string base_;
  std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;
  std::mutex service_mu_;
  std::string service_token_;
};

}  // namespace

Result<std::unique_ptr<AuthManager>> OpenAuth(const Options& options) {
  if (options.auth_strategy != "keystone") return std::unique_ptr<AuthManager>();
  if (options.auth.keystone_authtoken.auth_url.empty()) return AuthManager::Open(options);
  CINDER_ASSIGN_OR_RETURN(auto policy, auth::Policy::Open(options));
  return std::unique_ptr<AuthManager>(std::make_unique<ExternalKeystone>(options, std::move(policy)));
}

Result<std::unique_ptr<ApiServer>> ListenIdentity(const Options& options) {
  if (options.auth_strategy != "keystone" || ExternalIdentity(options) || options.auth.identity_listen_port == 0) {
    return std::unique_ptr<ApiServer>();
  }
  Options io = options;
  io.osapi_volume_listen_port = options.auth.identity_listen_port;
  io.auth.identity_listener = true;
  return ApiServer::Listen(io);
}

bool ExternalIdentity(const Options& options) {
  return options.auth_strategy == "keystone" && !options.auth.keystone_authtoken.auth_url.empty();
}

}  // namespace cinder::api

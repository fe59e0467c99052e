// The Keystone v3 subset (api/identity.h). Keystone's shapes: keystone/api/*.py and
// keystone/common/render_token.py; errors {"error": {"code", "message", "title"}}.
#include "api/identity.h"

#include <algorithm>
#include <map>

#include "api/common.h"
#include "auth/password.h"
#include "common/json.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/util.h"

namespace cinder::api {

namespace {

constexpr char kAuthRequired[] = "The request you have made requires authentication.";

const char* Title(int code) {
  switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}

ApiResponse KsError(int code, const std::string& message) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject();
  w.Key("code").Int(code).Key("message").String(message).Key("title").String(Title(code));
  w.EndObject().EndObject();
  return Json(code, w.Take());
}

// A Status as Keystone answers it. The policy's denial names the rule as Keystone does.
ApiResponse KsFault(const Status& st, const std::string& root) {
  switch (st.code()) {
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition: return KsError(400, st.message());
    case Code::kUnauthenticated: return KeystoneUnauthorized(root);
    case Code::kPermissionDenied: {
      const std::string prefix = "Policy doesn't allow ";
      std::string m = st.message();
      if (m.rfind(prefix, 0) == 0) {
        std::string rule = m.substr(prefix.size(), m.find(" to be performed") - prefix.size());
        m = "You are not authorized to perform the requested action: " + rule + ".";
      }
      return KsError(403, m);
    }
    case Code::kNotFound: return KsError(404, st.message());
    case Code::kAlreadyExists:
    case Code::kAborted: return KsError(409, st.message());
    case Code::kUnavailable:
      return KsError(503, "The service is temporarily unavailable. Please try again at a later time.");
    default:
      CINDER_LOG(kError, "cinder-api") << "identity: " << st.message();
      return KsError(500, "An unexpected error prevented the server from fulfilling your request.");
  }
}

ApiResponse NoContent(int code = 204) {
  ApiResponse r;
  r.status = code;
  return r;
}

// ---- Views --------------------------------------------------------------------------------------

void Links(JsonWriter& w, const std::string& self) {
  w.Key("links").BeginObject().Key("self").String(self).EndObject();
}

void ListLinks(JsonWriter& w, const std::string& self) {
  w.Key("links").BeginObject().Key("self").String(self).Key("previous").Null().Key("next").Null().EndObject();
}

void DomainView(JsonWriter& w, const Domain& d, const std::string& v3) {
  w.BeginObject().Key("id").String(d.id).Key("name").String(d.name).Key("description").String(d.description);
  w.Key("enabled").Bool(d.enabled).Key("tags").BeginArray().EndArray().Key("options").BeginObject().EndObject();
  Links(w, v3 + "/domains/" + d.id);
  w.EndObject();
}

void ProjectView(JsonWriter& w, const Project& p, const std::string& v3) {
  w.BeginObject().Key("id").String(p.id).Key("name").String(p.name).Key("domain_id").String(p.domain_id);
  w.Key("description").String(p.description).Key("enabled").Bool(p.enabled);
  w.Key("parent_id").String(p.domain_id).Key("is_domain").Bool(false);
  w.Key("tags").BeginArray();
  for (const auto& t : p.tags) w.String(t);
  w.EndArray().Key("options").BeginObject().EndObject();
  Links(w, v3 + "/projects/" + p.id);
  w.EndObject();
}

void UserView(JsonWriter& w, const User& u, const std::string& v3) {
  w.BeginObject().Key("id").String(u.id).Key("name").String(u.name).Key("domain_id").String(u.domain_id);
  w.Key("enabled").Bool(u.enabled);
  if (!u.email.empty()) w.Key("email").String(u.email);
  if (!u.description.empty()) w.Key("description").String(u.description);
  if (!u.default_project_id.empty()) w.Key("default_project_id").String(u.default_project_id);
  w.Key("password_expires_at").Null().Key("options").BeginObject().EndObject();
  Links(w, v3 + "/users/" + u.id);
  w.EndObject();
}

void RoleView(JsonWriter& w, const Role& r, const std::string& v3) {
  w.BeginObject().Key("id").String(r.id).Key("name").String(r.name).Key("domain_id").Null();
  w.Key("description").String(r.description).Key("options").BeginObject().EndObject();
  Links(w, v3 + "/roles/" + r.id);
  w.EndObject();
}

void GroupView(JsonWriter& w, const Group& g, const std::string& v3) {
  w.BeginObject().Key("id").String(g.id).Key("name").String(g.name).Key("domain_id").String(g.domain_id);
  w.Key("description").String(g.description);
  Links(w, v3 + "/groups/" + g.id);
  w.EndObject();
}

template <typename T, typename View>
ApiResponse One(int code, const char* key, const T& item, const std::string& v3, View view) {
  JsonWriter w;
  w.BeginObject().Key(key);
  view(w, item, v3);
  w.EndObject();
  return Json(code, w.Take());
}

template <typename T, typename View>
ApiResponse Many(const char* key, const std::vector<T>& items, const std::string& v3, const std::string& self,
                 View view) {
  JsonWriter w;
  w.BeginObject().Key(key).BeginArray();
  for (const auto& item : items) view(w, item, v3);
  w.EndArray();
  ListLinks(w, self);
  w.EndObject();
  return Json(200, w.Take());
}

void DomainRef(JsonWriter& w, const std::string& id, const std::string& name) {
  w.Key("domain").BeginObject().Key("id").String(id).Key("name").String(name).EndObject();
}

std::string TokenJson(const Options& options, const TokenInfo& t, bool catalog, const std::string& volume_root,
                      const std::string& identity_root) {
  JsonWriter w;
  w.BeginObject().Key("token").BeginObject();
  w.Key("methods").BeginArray();
  for (const auto& m : t.methods) w.String(m);
  w.EndArray();
  w.Key("audit_ids").BeginArray().String(t.audit_id);
  if (!t.audit_chain_id.empty()) w.String(t.audit_chain_id);
  w.EndArray();
  w.Key("expires_at").String(t.expires_at).Key("issued_at").String(t.issued_at);
  w.Key("user").BeginObject().Key("id").String(t.user.id).Key("name").String(t.user.name);
  DomainRef(w, t.user.domain_id, t.user.domain_id == options.auth.default_domain_id ? "Default" : t.user.domain_id);
  w.Key("password_expires_at").Null().EndObject();
  if (t.project) {
    w.Key("project").BeginObject().Key("id").String(t.project->id).Key("name").String(t.project->name);
    DomainRef(w, t.project->domain_id, t.project_domain ? t.project_domain->name : t.project->domain_id);
    w.EndObject().Key("is_domain").Bool(false);
  }
  if (t.domain)
    w.Key("domain").BeginObject().Key("id").String(t.domain->id).Key("name").String(t.domain->name).EndObject();
  if (t.system) w.Key("system").BeginObject().Key("all").Bool(true).EndObject();
  if (t.project || t.domain || t.system) {
    w.Key("roles").BeginArray();
    for (const auto& r : t.roles) w.BeginObject().Key("id").String(r.id).Key("name").String(r.name).EndObject();
    w.EndArray();
    if (!options.auth.admin_project_name.empty() && t.project) w.Key("is_admin_project").Bool(t.is_admin_project);
    if (catalog) {
      w.Key("catalog").Raw(CatalogJson(options, volume_root, identity_root, t.project ? t.project->id : ""));
    }
  }
  w.EndObject().EndObject();
  return w.Take();
}

// ---- Request bodies -----------------------------------------------------------------------------

Status Invalid(const std::string& field, const std::string& why) {
  return InvalidArgument("Invalid input for field '" + field + "': " + why);
}

Result<std::string> Str(const json::Value& o, const std::string& key, const std::string& field, bool required,
                        size_t max_len = 255) {
  const json::Value* v = o.is_object() ? o.Find(key) : nullptr;
  if (!v || v->is_null()) {
    if (required) return Invalid(field, "'" + key + "' is a required property");
    return std::string();
  }
  if (!v->is_string()) return Invalid(field, PyRepr(*v) + " is not of type 'string'");
  if (v->as_string().size() > max_len) return Invalid(field, "'" + key + "' is too long");
  return v->as_string();
}

// {"id": ...} or {"name": ..., "domain": {"id" | "name"}}.
Status ParseNamed(const json::Value& o, const std::string& field, std::string* id, std::string* name,
                  std::string* domain_id, std::string* domain_name) {
  if (!o.is_object()) return Invalid(field, PyRepr(o) + " is not of type 'object'");
  CINDER_ASSIGN_OR_RETURN(*id, Str(o, "id", field, false, 64));
  CINDER_ASSIGN_OR_RETURN(*name, Str(o, "name", field, false));
  if (id->empty() && name->empty()) return Invalid(field, "an 'id' or a 'name' is required");
  if (!name->empty() && id->empty()) {
    const json::Value& d = Get(o, "domain");
    if (!d.is_object()) return Invalid(field, "a 'domain' (with an 'id' or a 'name') must go with a 'name'");
    CINDER_ASSIGN_OR_RETURN(*domain_id, Str(d, "id", field + ".domain", false, 64));
    CINDER_ASSIGN_OR_RETURN(*domain_name, Str(d, "name", field + ".domain", false));
    if (domain_id->empty() && domain_name->empty())
      return Invalid(field + ".domain", "an 'id' or a 'name' is required");
  }
  return Status::OK();
}

Result<AuthRequest> ParseAuth(const ApiRequest& req, const Options& options) {
  CINDER_ASSIGN_OR_RETURN(auto body, ParseBody(req));
  const json::Value& auth = Get(body, "auth");
  if (!auth.is_object()) return Invalid("auth", "'auth' is a required property");
  const json::Value& identity = Get(auth, "identity");
  if (!identity.is_object()) return Invalid("identity", "'identity' is a required property");
  const json::Value& methods = Get(identity, "methods");
  if (!methods.is_array() || methods.size() == 0) return Invalid("methods", "'methods' is a required property");
  AuthRequest r;
  for (const auto& m : methods.as_array()) {
    if (!m.is_string()) return Invalid("methods", PyRepr(m) + " is not of type 'string'");
    r.methods.push_back(m.as_string());
  }
  for (const auto& m : r.methods) {
    if (m == "password") {
      const json::Value& user = Get(Get(identity, "password"), "user");
      if (!user.is_object()) return Invalid("password", "'user' is a required property");
      CINDER_RETURN_IF_ERROR(
          ParseNamed(user, "password.user", &r.user_id, &r.user_name, &r.user_domain_id, &r.user_domain_name));
      const json::Value& pw = Get(user, "password");
      if (!pw.is_string()) return Invalid("password.user", "'password' is a required property");
      r.password = pw.as_string();
      (void)options;
    } else if (m == "token") {
      CINDER_ASSIGN_OR_RETURN(r.token, Str(Get(identity, "token"), "id", "token", true, 1024));
    }
  }
  const json::Value* scope = auth.Find("scope");
  if (!scope || scope->is_null()) return r;
  if (scope->is_string() && scope->as_string() == "unscoped") {
    r.unscoped = true;
    return r;
  }
  if (!scope->is_object()) return Invalid("scope", PyRepr(*scope) + " is not of type 'object'");
  if (const auto* p = scope->Find("project")) {
    CINDER_RETURN_IF_ERROR(
        ParseNamed(*p, "scope.project", &r.project_id, &r.project_name, &r.project_domain_id, &r.project_domain_name));
  } else if (const auto* d = scope->Find("domain")) {
    std::string unused1, unused2;
    CINDER_RETURN_IF_ERROR(ParseNamed(*d, "scope.domain", &r.domain_id, &r.domain_name, &unused1, &unused2));
    if (r.domain_id.empty() && r.domain_name.empty()) return Invalid("scope.domain", "an 'id' or a 'name' is required");
  } else if (const auto* s = scope->Find("system")) {
    if (!s->is_object() || !Get(*s, "all").as_bool()) return Invalid("scope.system", "only {'all': true} is known");
    r.system = true;
  } else if (scope->Find("OS-TRUST:trust")) {
    return Unauthenticated("Trusts are not supported by this identity service.");
  }
  return r;
}

// The fields of {"<key>": {...}} a PATCH or POST may set, as text ("enabled": "true"/"false").
Result<std::map<std::string, std::string>> Fields(const json::Value& body, const std::string& key,
                                                  const std::vector<std::string>& allowed) {
  const json::Value& o = Get(body, key);
  if (!o.is_object()) return Invalid(key, "'" + key + "' is a required property");
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : o.as_object()) {
    bool known = std::find(allowed.begin(), allowed.end(), k) != allowed.end();
    if (!known) continue;  // Keystone keeps unknown attributes as extras; we drop them
    if (k == "enabled") {
      if (!v.is_bool()) return Invalid("enabled", PyRepr(v) + " is not of type 'boolean'");
      out[k] = v.as_bool() ? "true" : "false";
    } else if (v.is_null()) {
      out[k] = "";
    } else if (!v.is_string()) {
      return Invalid(k, PyRepr(v) + " is not of type 'string'");
    } else {
      if (k == "name" && v.as_string().size() > 255) return Invalid("name", "'" + k + "' is too long");
      out[k] = v.as_string();
    }
  }
  return out;
}

// ---- The handler --------------------------------------------------------------------------------

class Handler {
 public:
  Handler(const Options& options, AuthManager& auth, ApiRequest& req, const std::string& root)
      : options_(options), auth_(auth), req_(req), root_(root), v3_(root + "/v3") {}

  ApiResponse Handle(const std::vector<std::string>& rest);

 private:
  ApiResponse Discovery(bool versions);
  ApiResponse Tokens(const std::vector<std::string>& seg);
  ApiResponse Issue();
  ApiResponse Domains(const std::vector<std::string>& seg);
  ApiResponse Projects(const std::vector<std::string>& seg);
  ApiResponse Users(const std::vector<std::string>& seg);
  ApiResponse Roles(const std::vector<std::string>& seg);
  ApiResponse Grant(const std::vector<std::string>& seg, size_t at, RoleAssignment a);
  ApiResponse Assignments();
  ApiResponse Catalog(const std::vector<std::string>& seg);
  Status Authenticate();
  IdentityFilter Filter() const;

  const Options& options_;
  AuthManager& auth_;
  ApiRequest& req_;
  std::string root_;
  std::string v3_;
  RequestContext ctx_;
};

Status Handler::Authenticate() {
  auto token = req_.Header("x-auth-token");
  if (!token) return Unauthenticated(kAuthRequired);
  auto ctx = auth_.ContextForToken(*token);
  if (!ctx.ok()) {
    return ctx.status().code() == Code::kUnavailable ? ctx.status() : Unauthenticated(kAuthRequired);
  }
  const std::string request_id = req_.ctx.request_id;
  ctx_ = *ctx;
  ctx_.request_id = request_id;
  req_.ctx = ctx_;
  return Status::OK();
}

IdentityFilter Handler::Filter() const {
  IdentityFilter f;
  f.name = req_.Query("name").value_or("");
  f.domain_id = req_.Query("domain_id").value_or("");
  if (auto e = req_.Query("enabled")) f.enabled = !(*e == "0" || ToLower(*e) == "false");
  return f;
}

ApiResponse Handler::Discovery(bool versions) {
  JsonWriter w;
  auto version = [&] {
    w.BeginObject().Key("id").String("v3.14").Key("status").String("stable");
    w.Key("updated").String("2020-04-07T00:00:00Z");
    w.Key("links").BeginArray().BeginObject().Key("rel").String("self").Key("href").String(v3_ + "/");
    w.EndObject().EndArray();
    w.Key("media-types").BeginArray().BeginObject().Key("base").String("application/json");
    w.Key("type").String("application/vnd.openstack.identity-v3+json").EndObject().EndArray();
    w.EndObject();
  };
  w.BeginObject();
  if (versions) {
    w.Key("versions").BeginObject().Key("values").BeginArray();
    version();
    w.EndArray().EndObject();
  } else {
    w.Key("version");
    version();
  }
  w.EndObject();
  ApiResponse r = Json(versions ? 300 : 200, w.Take());
  if (versions) r.headers.emplace_back("Location", v3_ + "/");
  return r;
}

ApiResponse Handler::Handle(const std::vector<std::string>& seg) {
  if (seg.empty()) return req_.method == "GET" ? Discovery(true) : KsError(405, "The method is not allowed.");
  if (seg[0] != "v3") return KsError(404, "The resource could not be found.");
  if (seg.size() == 1) return req_.method == "GET" ? Discovery(false) : KsError(405, "The method is not allowed.");
  if (seg[1] == "auth" && seg.size() == 3 && seg[2] == "tokens" && req_.method == "POST") return Issue();
  // As Keystone's router: a path it does not serve is 404 before any token is looked at.
  static const char* const kServed[] = {"auth",   "domains", "projects", "users",     "roles",
                                        "groups", "system",  "services", "endpoints", "role_assignments"};
  if (std::none_of(std::begin(kServed), std::end(kServed), [&](const char* c) { return seg[1] == c; })) {
    return KsError(404, "The resource could not be found.");
  }
  Status st = Authenticate();
  if (!st.ok()) return KsFault(st, root_);
  if (seg[1] == "auth") return seg.size() >= 3 && seg[2] == "tokens" ? Tokens(seg) : Catalog(seg);
  if (seg[1] == "domains") return Domains(seg);
  if (seg[1] == "projects") return Projects(seg);
  if (seg[1] == "users") return Users(seg);
  if (seg[1] == "roles") return Roles(seg);
  if (seg[1] == "role_assignments" && seg.size() == 2) return Assignments();
  if (seg[1] == "system" && seg.size() == 6 && seg[4] == "roles") {
    RoleAssignment a;
    (seg[2] == "users" ? a.user_id : a.group_id) = seg[3];
    a.system = "all";
    return Grant(seg, 5, a);
  }
  if (seg[1] == "groups" && seg.size() == 2 && req_.method == "GET") {
    auto groups = auth_.ListGroups(ctx_, Filter());
    if (!groups.ok()) return KsFault(groups.status(), root_);
    return Many("groups", *groups, v3_, v3_ + "/groups", GroupView);
  }
  if ((seg[1] == "services" || seg[1] == "endpoints") && seg.size() == 2 && req_.method == "GET") {
    return Catalog(seg);
  }
  return KsError(404, "The resource could not be found.");
}

ApiResponse Handler::Issue() {
  auto r = ParseAuth(req_, options_);
  if (!r.ok()) return KsFault(r.status(), root_);
  auto issued = auth_.Authenticate(*r);
  if (!issued.ok()) return KsFault(issued.status(), root_);
  const bool catalog = !req_.Query("nocatalog").has_value();
  ApiResponse resp = Json(201, TokenJson(options_, issued->info, catalog, PublicRoot(options_, req_), root_));
  resp.headers.emplace_back("X-Subject-Token", issued->token);
  return resp;
}

ApiResponse Handler::Tokens(const std::vector<std::string>& seg) {
  if (seg.size() != 3) return KsError(404, "The resource could not be found.");
  auto subject = req_.Header("x-subject-token");
  if (!subject) return KsError(400, "Expecting to find X-Subject-Token in the request's headers.");
  if (req_.method == "DELETE") {
    Status st = auth_.RevokeToken(ctx_, *subject);
    return st.ok() ? NoContent() : KsFault(st, root_);
  }
  if (req_.method != "GET" && req_.method != "HEAD") return KsError(405, "The method is not allowed.");
  const bool allow_expired =
      req_.Query("allow_expired").value_or("") == "1" || ToLower(req_.Query("allow_expired").value_or("")) == "true";
  auto info = auth_.ValidateToken(*subject, allow_expired);
  if (!info.ok()) {
    if (info.status().code() == Code::kUnavailable) return KsFault(info.status(), root_);
    return KsError(404, "Could not find token: " + *subject + ".");
  }
  Status st = auth_.Enforce(ctx_, "identity:validate_token", {{"target.token.user_id", info->user.id}});
  if (!st.ok()) return KsFault(st, root_);
  ApiResponse resp = Json(200, req_.method == "HEAD" ? std::string()
                                                     : TokenJson(options_, *info, !req_.Query("nocatalog").has_value(),
                                                                 PublicRoot(options_, req_), root_));
  resp.headers.emplace_back("X-Subject-Token", *subject);
  return resp;
}

// GET /v3/auth/catalog, /v3/auth/projects, /v3/auth/domains, /v3/auth/system, and the
// read-only /v3/services and /v3/endpoints (the catalog comes from the configuration).
ApiResponse Handler::Catalog(const std::vector<std::string>& seg) {
  if (req_.method != "GET") return KsError(405, "The method is not allowed.");
  const std::string what = seg.size() >= 3 ? seg[2] : seg[1];
  if (what == "projects") {
    auto projects = auth_.ListUserProjects(ctx_, ctx_.user_id);
    if (!projects.ok()) return KsFault(projects.status(), root_);
    return Many("projects", *projects, v3_, v3_ + "/auth/projects", ProjectView);
  }
  if (what == "domains")
    return Json(200, "{\"domains\": [], \"links\": {\"self\": \"" + v3_ +
                         "/auth/domains\", \"previous\": null, \"next\": null}}");
  if (what == "system")
    return Json(200, "{\"system\": [], \"links\": {\"self\": \"" + v3_ +
                         "/auth/system\", \"previous\": null, \"next\": null}}");
  if (what == "catalog") {
    const std::string cat = CatalogJson(options_, PublicRoot(options_, req_), root_, ctx_.project_id);
    return Json(200, "{\"catalog\": " + cat + ", \"links\": {\"self\": \"" + v3_ +
                         "/auth/catalog\", \"previous\": null, \"next\": null}}");
  }
  JsonWriter w;
  w.BeginObject().Key(what).BeginArray();
  for (const auto& svc : CatalogServices(options_, PublicRoot(options_, req_), root_)) {
    if (what == "services") {
      w.BeginObject().Key("id").String(svc.id).Key("type").String(svc.type).Key("name").String(svc.name);
      w.Key("enabled").Bool(true);
      Links(w, v3_ + "/services/" + svc.id);
      w.EndObject();
      continue;
    }
    for (const char* iface : kCatalogInterfaces) {  // the URLs as registered: $(project_id)s and all
      const std::string id = CatalogEndpointId(svc, iface);
      w.BeginObject().Key("id").String(id).Key("interface").String(iface);
      w.Key("region").String(options_.auth.region_name).Key("region_id").String(options_.auth.region_name);
      w.Key("service_id").String(svc.id).Key("url").String(svc.url).Key("enabled").Bool(true);
      Links(w, v3_ + "/endpoints/" + id);
      w.EndObject();
    }
  }
  w.EndArray();
  ListLinks(w, v3_ + "/" + what);
  w.EndObject();
  return Json(200, w.Take());
}

ApiResponse Handler::Domains(const std::vector<std::string>& seg) {
  if (seg.size() == 2) {
    if (req_.method == "GET") {
      auto all = auth_.ListDomains(ctx_, Filter());
      if (!all.ok()) return KsFault(all.status(), root_);
      return Many("domains", *all, v3_, v3_ + "/domains", DomainView);
    }
    if (req_.method != "POST") return KsError(405, "The method is not allowed.");
    auto body = ParseBody(req_);
    if (!body.ok()) return KsFault(body.status(), root_);
    auto f = Fields(*body, "domain", {"name", "description", "enabled"});
    if (!f.ok()) return KsFault(f.status(), root_);
    Domain d;
    d.name = (*f)["name"];
    d.description = (*f)["description"];
    d.enabled = (*f)["enabled"] != "false";
    auto made = auth_.CreateDomain(ctx_, d);
    if (!made.ok()) return KsFault(made.status(), root_);
    return One(201, "domain", *made, v3_, DomainView);
  }
  const std::string& id = seg[2];
  if (seg.size() >= 6 && seg[5] == "roles") {
    RoleAssignment a;
    (seg[3] == "users" ? a.user_id : a.group_id) = seg[4];
    a.domain_id = id;
    return Grant(seg, 6, a);
  }
  if (seg.size() != 3) return KsError(404, "The resource could not be found.");
  if (req_.method == "GET") {
    auto d = auth_.GetDomain(ctx_, id);
    return d.ok() ? One(200, "domain", *d, v3_, DomainView) : KsFault(d.status(), root_);
  }
  if (req_.method == "PATCH") {
    auto body = ParseBody(req_);
    if (!body.ok()) return KsFault(body.status(), root_);
    auto f = Fields(*body, "domain", {"name", "description", "enabled"});
    if (!f.ok()) return KsFault(f.status(), root_);
    auto d = auth_.UpdateDomain(ctx_, id, *f);
    return d.ok() ? One(200, "domain", *d, v3_, DomainView) : KsFault(d.status(), root_);
  }
  if (req_.method == "DELETE") {
    Status st = auth_.DeleteDomain(ctx_, id);
    return st.ok() ? NoContent() : KsFault(st, root_);
  }
  return KsError(405, "The method is not allowed.");
}

ApiResponse Handler::Projects(const std::vector<std::string>& seg) {
  if (seg.size() == 2) {
    if (req_.method == "GET") {
      auto all = auth_.ListProjects(ctx_, Filter());
      if (!all.ok()) return KsFault(all.status(), root_);
      return Many("projects", *all, v3_, v3_ + "/projects", ProjectView);
    }
    if (req_.method != "POST") return KsError(405, "The method is not allowed.");
    auto body = ParseBody(req_);
    if (!body.ok()) return KsFault(body.status(), root_);
    auto f = Fields(*body, "project", {"name", "description", "enabled", "domain_id", "parent_id"});
    if (!f.ok()) return KsFault(f.status(), root_);
    Project p;
    p.name = (*f)["name"];
    p.description = (*f)["description"];
    p.domain_id = (*f)["domain_id"];
    if (p.domain_id.empty()) p.domain_id = (*f)["parent_id"];
    p.enabled = (*f)["enabled"] != "false";
    const json::Value& tags = Get(Get(*body, "project"), "tags");
    if (tags.is_array()) {
      for (const auto& t : tags.as_array()) {
        if (t.is_string()) p.tags.push_back(t.as_string());
      }
    }
    auto made = auth_.CreateProject(ctx_, p);
    if (!made.ok()) return KsFault(made.status(), root_);
    return One(201, "project", *made, v3_, ProjectView);
  }
  const std::string& id = seg[2];
  if (seg.size() >= 6 && seg[5] == "roles") {
    RoleAssignment a;
    (seg[3] == "users" ? a.user_id : a.group_id) = seg[4];
    a.project_id = id;
    return Grant(seg, 6, a);
  }
  if (seg.size() != 3) return KsError(404, "The resource could not be found.");
  if (req_.method == "GET") {
    auto p = auth_.GetProject(ctx_, id);
    return p.ok() ? One(200, "project", *p, v3_, ProjectView) : KsFault(p.status(), root_);
  }
  if (req_.method == "PATCH") {
    auto body = ParseBody(req_);
    if (!body.ok()) return KsFault(body.status(), root_);
    auto f = Fields(*body, "project", {"name", "description", "enabled"});
    if (!f.ok()) return KsFault(f.status(), root_);
    auto p = auth_.UpdateProject(ctx_, id, *f);
    return p.ok() ? One(200, "project", *p, v3_, ProjectView) : KsFault(p.status(), root_);
  }
  if (req_.method == "DELETE") {
    Status st = auth_.DeleteProject(ctx_, id);
    return st.ok() ? NoContent() : KsFault(st, root_);
  }
  return KsError(405, "The method is not allowed.");
}

ApiResponse Handler::Users(const std::vector<std::string>& seg) {
  static const std::vector<std::string> kFields = {"name",     "email",   "description", "default_project_id",
                                                   "password", "enabled", "domain_id"};
  if (seg.size() == 2) {
    if (req_.method == "GET") {
      auto all = auth_.ListUsers(ctx_, Filter());
      if (!all.ok()) return KsFault(all.status(), root_);
      return Many("users", *all, v3_, v3_ + "/users", UserView);
    }
    if (req_.method != "POST") return KsError(405, "The method is not allowed.");
    auto body = ParseBody(req_);
    if (!body.ok()) return KsFault(body.status(), root_);
    auto f = Fields(*body, "user", kFields);
    if (!f.ok()) return KsFault(f.status(), root_);
    User u;
    u.name = (*f)["name"];
    u.email = (*f)["email"];
    u.description = (*f)["description"];
    u.default_project_id = (*f)["default_project_id"];
    u.domain_id = (*f)["domain_id"];
    u.enabled = (*f)["enabled"] != "false";
    auto made = auth_.CreateUser(ctx_, u, (*f)["password"]);
    if (!made.ok()) return KsFault(made.status(), root_);
    return One(201, "user", *made, v3_, UserView);
  }
  const std::string& id = seg[2];
  if (seg.size() == 4 && seg[3] == "password" && req_.method == "POST") {
    auto body = ParseBody(req_);
    if (!body.ok()) return KsFault(body.status(), root_);
    auto f = Fields(*body, "user", {"original_password", "password"});
    if (!f.ok()) return KsFault(f.status(), root_);
    Status st = auth_.ChangePassword(id, (*f)["original_password"], (*f)["password"]);
    return st.ok() ? NoContent() : KsFault(st, root_);
  }
  if (seg.size() == 4 && seg[3] == "projects" && req_.method == "GET") {
    auto projects = auth_.ListUserProjects(ctx_, id);
    if (!projects.ok()) return KsFault(projects.status(), root_);
    return Many("projects", *projects, v3_, v3_ + "/users/" + id + "/projects", ProjectView);
  }
  if (seg.size() == 4 && seg[3] == "groups" && req_.method == "GET") {
    auto groups = auth_.ListUserGroups(ctx_, id);
    if (!groups.ok()) return KsFault(groups.status(), root_);
    return Many("groups", *groups, v3_, v3_ + "/users/" + id + "/groups", GroupView);
  }
  if (seg.size() != 3) return KsError(404, "The resource could not be found.");
  if (req_.method == "GET") {
    auto u = auth_.GetUser(ctx_, id);
    return u.ok() ? One(200, "user", *u, v3_, UserView) : KsFault(u.status(), root_);
  }
  if (req_.method == "PATCH") {
    auto body = ParseBody(req_);
    if (!body.ok()) return KsFault(body.status(), root_);
    auto f = Fields(*body, "user", kFields);
    if (!f.ok()) return KsFault(f.status(), root_);
    auto u = auth_.UpdateUser(ctx_, id, *f);
    return u.ok() ? One(200, "user", *u, v3_, UserView) : KsFault(u.status(), root_);
  }
  if (req_.method == "DELETE") {
    Status st = auth_.DeleteUser(ctx_, id);
    return st.ok() ? NoContent() : KsFault(st, root_);
  }
  return KsError(405, "The method is not allowed.");
}

ApiResponse Handler::Roles(const std::vector<std::string>& seg) {
  if (seg.size() == 2) {
    if (req_.method == "GET") {
      auto all = auth_.ListRoles(ctx_, Filter());
      if (!all.ok()) return KsFault(all.status(), root_);
      return Many("roles", *all, v3_, v3_ + "/roles", RoleView);
    }
    if (req_.method != "POST") return KsError(405, "The method is not allowed.");
    auto body = ParseBody(req_);
    if (!body.ok()) return KsFault(body.status(), root_);
    auto f = Fields(*body, "role", {"name", "description"});
    if (!f.ok()) return KsFault(f.status(), root_);
    auto made = auth_.CreateRole(ctx_, Role{"", (*f)["name"], (*f)["description"]});
    if (!made.ok()) return KsFault(made.status(), root_);
    return One(201, "role", *made, v3_, RoleView);
  }
  if (seg.size() != 3) return KsError(404, "The resource could not be found.");
  if (req_.method == "GET") {
    auto r = auth_.GetRole(ctx_, seg[2]);
    return r.ok() ? One(200, "role", *r, v3_, RoleView) : KsFault(r.status(), root_);
  }
  if (req_.method == "DELETE") {
    Status st = auth_.DeleteRole(ctx_, seg[2]);
    return st.ok() ? NoContent() : KsFault(st, root_);
  }
  return KsError(405, "The method is not allowed.");
}

// .../roles (GET: the roles held there) and .../roles/{role} (PUT, HEAD, GET, DELETE).
ApiResponse Handler::Grant(const std::vector<std::string>& seg, size_t at, RoleAssignment a) {
  if (seg.size() == at && req_.method == "GET") {
    RoleAssignmentFilter f;
    f.user_id = a.user_id;
    f.group_id = a.group_id;
    f.project_id = a.project_id;
    f.domain_id = a.domain_id;
    auto rows = auth_.ListRoleAssignments(ctx_, f);
    if (!rows.ok()) return KsFault(rows.status(), root_);
    std::vector<Role> roles;
    for (const auto& row : *rows) {
      if (!a.system.empty() && row.system.empty()) continue;
      auto r = auth_.GetRole(ctx_, row.role_id);
      if (r.ok()) roles.push_back(*r);
    }
    return Many("roles", roles, v3_, v3_ + "/" + Join(seg, "/").substr(3), RoleView);
  }
  if (seg.size() != at + 1) return KsError(404, "The resource could not be found.");
  a.role_id = seg[at];
  Status st;
  if (req_.method == "PUT") {
    st = auth_.Grant(ctx_, a);
  } else if (req_.method == "DELETE") {
    st = auth_.Revoke(ctx_, a);
  } else if (req_.method == "HEAD" || req_.method == "GET") {
    st = auth_.CheckGrant(ctx_, a);
  } else {
    return KsError(405, "The method is not allowed.");
  }
  return st.ok() ? NoContent() : KsFault(st, root_);
}

ApiResponse Handler::Assignments() {
  if (req_.method != "GET") return KsError(405, "The method is not allowed.");
  RoleAssignmentFilter f;
  f.user_id = req_.Query("user.id").value_or("");
  f.group_id = req_.Query("group.id").value_or("");
  f.project_id = req_.Query("scope.project.id").value_or("");
  f.domain_id = req_.Query("scope.domain.id").value_or("");
  f.role_id = req_.Query("role.id").value_or("");
  f.effective = req_.Query("effective").has_value();
  const bool names = req_.Query("include_names").has_value();
  auto rows = auth_.ListRoleAssignments(ctx_, f);
  if (!rows.ok()) return KsFault(rows.status(), root_);
  std::map<std::string, Group> groups;  // for the names of groups, read once
  if (names && std::any_of(rows->begin(), rows->end(), [](const RoleAssignment& a) { return !a.group_id.empty(); })) {
    auto all = auth_.ListGroups(ctx_, {});
    if (all.ok()) {
      for (auto& g : *all) groups[g.id] = g;
    }
  }
  JsonWriter w;
  w.BeginObject().Key("role_assignments").BeginArray();
  for (const auto& a : *rows) {
    w.BeginObject().Key("role").BeginObject().Key("id").String(a.role_id);
    if (names) {
      auto r = auth_.GetRole(ctx_, a.role_id);
      if (r.ok()) w.Key("name").String(r->name);
    }
    w.EndObject();
    w.Key(a.user_id.empty() ? "group" : "user")
        .BeginObject()
        .Key("id")
        .String(a.user_id.empty() ? a.group_id : a.user_id);
    if (names && !a.user_id.empty()) {
      auto u = auth_.GetUser(ctx_, a.user_id);
      if (u.ok()) {
        w.Key("name").String(u->name);
        DomainRef(w, u->domain_id, u->domain_id == options_.auth.default_domain_id ? "Default" : u->domain_id);
      }
    } else if (names && groups.count(a.group_id)) {
      const Group& g = groups[a.group_id];
      w.Key("name").String(g.name);
      DomainRef(w, g.domain_id, g.domain_id == options_.auth.default_domain_id ? "Default" : g.domain_id);
    }
    w.EndObject().Key("scope").BeginObject();
    if (!a.project_id.empty()) {
      w.Key("project").BeginObject().Key("id").String(a.project_id);
      if (names) {
        auto p = auth_.GetProject(ctx_, a.project_id);
        if (p.ok()) {
          w.Key("name").String(p->name);
          DomainRef(w, p->domain_id, p->domain_id == options_.auth.default_domain_id ? "Default" : p->domain_id);
        }
      }
      w.EndObject();
    } else if (!a.domain_id.empty()) {
      w.Key("domain").BeginObject().Key("id").String(a.domain_id).EndObject();
    } else {
      w.Key("system").BeginObject().Key("all").Bool(true).EndObject();
    }
    w.EndObject();
    std::string target = !a.project_id.empty()  ? "/projects/" + a.project_id
                         : !a.domain_id.empty() ? "/domains/" + a.domain_id
                                                : "/system";
    w.Key("links")
        .BeginObject()
        .Key("assignment")
        .String(v3_ + target + (a.user_id.empty() ? "/groups/" + a.group_id : "/users/" + a.user_id) + "/roles/" +
                a.role_id);
    w.EndObject().EndObject();
  }
  w.EndArray();
  ListLinks(w, v3_ + "/role_assignments");
  w.EndObject();
  return Json(200, w.Take());
}

}  // namespace

std::string PublicRoot(const Options& options, const ApiRequest& req) {
  std::string root = options.public_endpoint.empty() ? req.host_url : options.public_endpoint;
  while (!root.empty() && root.back() == '/') root.pop_back();
  return root;
}

ApiResponse HandleEmptyImageService(const ApiRequest& req, const std::vector<std::string>& rest,
                                    const std::string& root) {
  if (req.method != "GET") return KsError(404, "The resource could not be found.");
  if (rest.empty()) {
    JsonWriter w;
    w.BeginObject().Key("versions").BeginArray().BeginObject().Key("id").String("v2.16");
    w.Key("status").String("CURRENT").Key("links").BeginArray().BeginObject().Key("rel").String("self");
    w.Key("href").String(root + "/v2/").EndObject().EndArray().EndObject().EndArray().EndObject();
    return Json(300, w.Take());
  }
  if (rest.size() == 2 && rest[0] == "v2" && rest[1] == "images") {
    return Json(200, "{\"images\": [], \"first\": \"/v2/images\", \"schema\": \"/v2/schemas/images\"}");
  }
  return KsError(404,
                 "No image service here: this catalog's image endpoint holds no image (set "
                 "glance_api_servers to use a Glance).");
}

ApiResponse KeystoneUnauthorized(const std::string& identity_root) {
  ApiResponse r = KsError(401, kAuthRequired);
  const bool v3 = identity_root.size() >= 3 && identity_root.compare(identity_root.size() - 3, 3, "/v3") == 0;
  r.headers.emplace_back("WWW-Authenticate", "Keystone uri=\"" + identity_root + (v3 ? "" : "/v3") + "\"");
  return r;
}

std::vector<CatalogService> CatalogServices(const Options& options, const std::string& volume_root,
                                            const std::string& identity_root) {
  const auto servers = Split(options.glance_api_servers, ',');
  const std::string image = servers.empty() ? std::string() : Trim(servers[0]);
  std::vector<CatalogService> out = {
      {"block-storage", "cinder", volume_root + "/v3/$(project_id)s"},
      {"volumev3", "cinderv3", volume_root + "/v3/$(project_id)s"},
      {"identity", "keystone", identity_root},
      {"image", "glance", image.empty() ? volume_root + "/image" : image},
  };
  for (auto& svc : out) svc.id = auth::Sha256Hex(std::string("service:") + svc.type).substr(0, 32);
  return out;
}

std::string CatalogEndpointId(const CatalogService& svc, const std::string& interface) {
  return auth::Sha256Hex(svc.id + interface).substr(0, 32);
}

std::string CatalogJson(const Options& options, const std::string& volume_root, const std::string& identity_root,
                        const std::string& project_id) {
  const std::string kProject = "$(project_id)s";
  const std::string& region = options.auth.region_name;
  JsonWriter w;
  w.BeginArray();
  for (const auto& svc : CatalogServices(options, volume_root, identity_root)) {
    std::string url = svc.url;
    const auto at = url.find(kProject);
    if (at != std::string::npos) {
      if (project_id.empty()) continue;  // a project's endpoint, for a token without a project
      url.replace(at, kProject.size(), project_id);
    }
    w.BeginObject().Key("type").String(svc.type).Key("name").String(svc.name).Key("id").String(svc.id);
    w.Key("endpoints").BeginArray();
    for (const char* iface : kCatalogInterfaces) {
      w.BeginObject().Key("id").String(CatalogEndpointId(svc, iface)).Key("interface").String(iface);
      w.Key("region").String(region).Key("region_id").String(region).Key("url").String(url).EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray();
  return w.Take();
}

ApiResponse HandleIdentity(const Options& options, AuthManager& auth, ApiRequest& req,
                           const std::vector<std::string>& rest, const std::string& root) {
  return Handler(options, auth, req, root).Handle(rest);
}

}  // namespace cinder::api

// cinder.conf parsing: oslo.config's ini grammar, then a table of Cinder's option names and checks.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "cinder/options.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

namespace cinder {

std::string Options::DatabaseUrl() const {
  if (!database_connection.empty()) return database_connection;
  return "sqlite:///" + state_path + "/cinder.sqlite";
}

std::string Options::TransportKeyFile() const {
  if (!transport_key_file.empty()) return transport_key_file;
  return state_path + "/transport.key";
}

std::string Options::BackupPosixPath() const {
  if (!backup.posix_path.empty()) return backup.posix_path;
  return state_path + "/backup";
}

Options DefaultOptions(const std::string& state_path) {
  Options o;
  o.state_path = state_path;
  BackendOptions b;
  b.name = "file";
  b.volume_backend_name = "file";
  o.backends.push_back(b);
  return o;
}

namespace {

// ---------------------------------------------------------------------------------------------
// The file's text: oslo.config's iniparser, rule for rule.

struct Entry {
  std::string section, name, value;
};

struct Ini {
  std::vector<std::string> sections;  // in order of first appearance, each once
  std::vector<Entry> entries;         // in file order; a repeated key appears each time
};

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view StripRight(std::string_view s) {
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view Strip(std::string_view s) {
  s = StripRight(s);
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  return s;
}

// Reads `text` as oslo.config does (oslo_config/iniparser.py): a line whose first character is
// `#` or `;` is a comment, and no other `#` is special (`password = ab#cd` is "ab#cd"); `key =
// value` or `key: value`, split at whichever of `=` and `:` comes first; one pair of matching
// quotes around a value is removed; an indented line continues the value above it (joined with
// a newline) until a blank line; `[name]` starts a section.
class IniReader {
 public:
  explicit IniReader(const std::string& origin) : origin_(origin) {}

  Result<Ini> Read(std::string_view text) {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      ++lineno_;
      CINDER_RETURN_IF_ERROR(Line(StripRight(text.substr(pos, nl - pos))));
      pos = nl + 1;
    }
    CINDER_RETURN_IF_ERROR(Flush());
    return std::move(ini_);
  }

 private:
  Status Line(std::string_view line) {
    if (line.empty()) return Flush();  // a blank line ends a value
    if (line[0] == ' ' || line[0] == '\t') {
      if (!pending_) return Error("unexpected continuation line", line);
      pending_->value += "\n" + std::string(Strip(line));
      return Status::OK();
    }
    CINDER_RETURN_IF_ERROR(Flush());
    if (line[0] == '[') {
      if (line.back() != ']') return Error("invalid section (must end with ])", line);
      if (line.size() <= 2) return Error("empty section name", line);
      section_ = std::string(line.substr(1, line.size() - 2));
      if (std::find(ini_.sections.begin(), ini_.sections.end(), section_) == ini_.sections.end()) {
        ini_.sections.push_back(section_);
      }
      return Status::OK();
    }
    if (line[0] == '#' || line[0] == ';') return Status::OK();
    size_t colon = line.find(':'), equal = line.find('=');
    if (colon == std::string_view::npos && equal == std::string_view::npos) {
      return Error("no '=' or ':' in the assignment", line);
    }
    size_t at = std::min(colon, equal);  // whichever comes first
    std::string_view key = Strip(line.substr(0, at)), value = Strip(line.substr(at + 1));
    if (key.empty()) return Error("empty key", line);
    if (!value.empty() && (value[0] == '"' || value[0] == '\'') && value.back() == value[0]) {
      value = value.size() == 1 ? std::string_view() : value.substr(1, value.size() - 2);  // "x" -> x, " -> ""
    }
    pending_ = Entry{section_, std::string(key), std::string(value)};
    return Status::OK();
  }

  Status Flush() {
    if (!pending_) return Status::OK();
    if (section_.empty()) {
      return InvalidArgument(origin_ + ": option '" + pending_->name + "' is outside any [section]");
    }
    ini_.entries.push_back(std::move(*pending_));
    pending_.reset();
    return Status::OK();
  }

  Status Error(const std::string& what, std::string_view line) const {
    return InvalidArgument(origin_ + ": line " + std::to_string(lineno_) + ": " + what + ": '" + std::string(line) +
                           "'");
  }

  const std::string& origin_;
  int lineno_ = 0;
  std::string section_;  // "" before the first [section]
  std::optional<Entry> pending_;
  Ini ini_;
};

// oslo.config's group names: DEFAULT as written, the others without case ([Database] is
// [database], and a backend's section matches its name in enabled_backends in any case).
std::string Group(const std::string& section) { return section == "DEFAULT" ? section : ToLower(section); }

// Each (group, option) once, with its last value: oslo.config's rule for options that are not
// multi-valued (none of Cinder's here are), so a repeated option or section is no error.
std::vector<Entry> LastValues(std::vector<Entry> entries) {
  std::vector<Entry> out;
  std::map<std::pair<std::string, std::string>, size_t> at;
  for (auto& e : entries) {
    auto [it, added] = at.emplace(std::make_pair(Group(e.section), e.name), out.size());
    if (added) {
      out.push_back(std::move(e));
    } else {
      out[it->second] = std::move(e);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Values.

// A JSON value as Python's str() prints it: how Cinder's capabilities compare with extra specs.
std::string PyStr(const json::Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_bool()) return v.as_bool() ? "True" : "False";
  if (v.is_null()) return "None";
  return json::Serialize(v);
}

// Quota limits are stored in 32-bit columns (Cinder's DB_MAX_INT); -1 is unlimited.
constexpr int64_t kMaxQuota = 0x7FFFFFFF;

class Parser {
 public:
  explicit Parser(std::string origin) : origin_(std::move(origin)) {}

  Status Bad(const Entry& e, const std::string& why) const {
    return InvalidArgument(origin_ + ": [" + e.section + "] " + e.name + ": " + why);
  }

  Result<int64_t> Int(const Entry& e, int64_t lo, int64_t hi) const {
    auto v = ParseInt(Trim(e.value));
    if (!v || *v < lo || *v > hi) {
      return Bad(e, "invalid value '" + e.value + "' (expected an integer from " + std::to_string(lo) + " to " +
                        std::to_string(hi) + ")");
    }
    return *v;
  }

  Result<bool> Bool(const Entry& e) const {
    std::string v = ToLower(Trim(e.value));
    if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
    if (v == "false" || v == "no" || v == "off" || v == "0") return false;
    return Bad(e, "invalid value '" + e.value + "' (expected true or false)");
  }

  Result<double> Double(const Entry& e) const {
    std::string v = Trim(e.value);
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(d))
      return Bad(e, "invalid value '" + e.value + "' (expected a number)");
    return d;
  }

  // max_over_subscription_ratio: a number >= 1 (Cinder's regex ^(auto|\d*\.\d+|\d+)$) or "auto".
  Result<std::string> Ratio(const Entry& e) const {
    std::string v = Trim(e.value);
    if (v == "auto") return v;
    bool ok = !v.empty() && v.find_first_not_of("0123456789.") == std::string::npos &&
              std::count(v.begin(), v.end(), '.') <= 1 && v != ".";
    if (!ok || std::strtod(v.c_str(), nullptr) < 1) {
      return Bad(e, "invalid value '" + e.value + "' (expected a number of at least 1, or auto)");
    }
    return v;
  }

  // A comma-separated list of names.
  std::vector<std::string> List(const Entry& e) const {
    std::vector<std::string> out;
    for (const auto& part : Split(e.value, ',')) {
      std::string t = Trim(part);
      if (!t.empty()) out.push_back(t);
    }
    return out;
  }

  Result<std::string> NonEmpty(const Entry& e) const {
    std::string v = Trim(e.value);
    if (v.empty()) return Bad(e, "must not be empty");
    return v;
  }

  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
};

// ---------------------------------------------------------------------------------------------
// The options: one row each. The defaults, and what each option means, are beside the fields in
// cinder/options.h; a row names the option, its section and how its text becomes the field.

template <typename Target>
struct OptionRow {
  const char* section;  // "DEFAULT" or "database"; for backend options, "" (any backend section)
  const char* name;
  std::function<Status(const Parser&, const Entry&, Target*)> set;
};

template <typename Target, typename T>
OptionRow<Target> IntOpt(const char* section, const char* name, T Target::*field, int64_t lo, int64_t hi) {
  return {section, name, [=](const Parser& p, const Entry& e, Target* t) -> Status {
            CINDER_ASSIGN_OR_RETURN(int64_t v, p.Int(e, lo, hi));
            t->*field = static_cast<T>(v);
            return Status::OK();
          }};
}

template <typename Target>
OptionRow<Target> BoolOpt(const char* section, const char* name, bool Target::*field) {
  return {section, name, [=](const Parser& p, const Entry& e, Target* t) -> Status {
            CINDER_ASSIGN_OR_RETURN(t->*field, p.Bool(e));
            return Status::OK();
          }};
}

template <typename Target>
OptionRow<Target> DoubleOpt(const char* section, const char* name, double Target::*field) {
  return {section, name, [=](const Parser& p, const Entry& e, Target* t) -> Status {
            CINDER_ASSIGN_OR_RETURN(t->*field, p.Double(e));
            return Status::OK();
          }};
}

// A string that must not be empty.
template <typename Target>
OptionRow<Target> StrOpt(const char* section, const char* name, std::string Target::*field) {
  return {section, name, [=](const Parser& p, const Entry& e, Target* t) -> Status {
            CINDER_ASSIGN_OR_RETURN(t->*field, p.NonEmpty(e));
            return Status::OK();
          }};
}

// Any text, "" included (an expression, for instance).
template <typename Target>
OptionRow<Target> TextOpt(const char* section, const char* name, std::string Target::*field) {
  return {section, name, [=](const Parser&, const Entry& e, Target* t) -> Status {
            t->*field = Trim(e.value);
            return Status::OK();
          }};
}

template <typename Target>
OptionRow<Target> RatioOpt(const char* section, const char* name, std::string Target::*field) {
  return {section, name, [=](const Parser& p, const Entry& e, Target* t) -> Status {
            CINDER_ASSIGN_OR_RETURN(t->*field, p.Ratio(e));
            return Status::OK();
          }};
}

// A row of a part of Target (Options::auth, AuthOptions::ldap, ...).
template <typename Target, typename Part>
OptionRow<Target> In(Part Target::*part, OptionRow<Part> row) {
  return {row.section, row.name,
          [=](const Parser& p, const Entry& e, Target* t) -> Status { return row.set(p, e, &(t->*part)); }};
}

// One of `allowed` values.
template <typename Target>
OptionRow<Target> ChoiceOpt(const char* section, const char* name, std::string Target::*field,
                            std::vector<std::string> allowed) {
  return {section, name, [=](const Parser& p, const Entry& e, Target* t) -> Status {
            std::string v = Trim(e.value);
            if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
              std::string list;
              for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
              return p.Bad(e, "invalid value '" + v + "' (expected one of " + list + ")");
            }
            t->*field = v;
            return Status::OK();
          }};
}

template <typename Target>
OptionRow<Target> ListOpt(const char* section, const char* name, std::vector<std::string> Target::*field) {
  return {section, name, [=](const Parser& p, const Entry& e, Target* t) -> Status {
            t->*field = p.List(e);
            return Status::OK();
          }};
}

Status SetAuthStrategy(const Parser& p, const Entry& e, Options* o) {
  std::string v = Trim(e.value);
  if (v != "noauth" && v != "keystone") return p.Bad(e, "invalid value '" + v + "' (expected keystone or noauth)");
  o->auth_strategy = v;
  return Status::OK();
}

// backup_driver: the posix driver under any of its names, kept as its class path.
Status SetBackupDriver(const Parser& p, const Entry& e, Options* o) {
  std::string v = Trim(e.value);
  if (v == "posix" || v == "cinder.backup.drivers.posix" || v == "cinder.backup.drivers.posix.PosixBackupDriver") {
    o->backup.driver = "cinder.backup.drivers.posix.PosixBackupDriver";
    return Status::OK();
  }
  return p.Bad(e, "invalid value '" + v +
                      "' (the only backup driver is cinder.backup.drivers.posix.PosixBackupDriver, or posix)");
}

// backup_compression_algorithm: Cinder's names in any case, kept lower-cased.
Status SetBackupCompression(const Parser& p, const Entry& e, Options* o) {
  std::string v = ToLower(Trim(e.value));
  static const char* const kAllowed[] = {"zlib", "gzip", "bz2", "bzip2", "zstd", "none", "off", "no"};
  for (const char* a : kAllowed) {
    if (v == a) {
      o->backup.compression_algorithm = v;
      return Status::OK();
    }
  }
  return p.Bad(e,
               "invalid value '" + Trim(e.value) + "' (expected one of zlib, gzip, bz2, bzip2, zstd, none, off, no)");
}

Status SetTransportSecurity(const Parser& p, const Entry& e, Options* o) {
  std::string v = ToLower(Trim(e.value));
  if (v != "curve" && v != "none") return p.Bad(e, "invalid value '" + Trim(e.value) + "' (expected curve or none)");
  o->transport_security = v;
  return Status::OK();
}

Status SetWeightHandler(const Parser& p, const Entry& e, Options* o) {
  std::string v = Trim(e.value);
  if (v == "cinder.scheduler.weights.OrderedHostWeightHandler") {
    o->scheduler_stochastic_weights = false;
  } else if (v == "cinder.scheduler.weights.stochastic.StochasticHostWeightHandler") {
    o->scheduler_stochastic_weights = true;
  } else {
    return p.Bad(e, "invalid value '" + v +
                        "' (expected cinder.scheduler.weights.OrderedHostWeightHandler "
                        "or cinder.scheduler.weights.stochastic.StochasticHostWeightHandler)");
  }
  return Status::OK();
}

bool KnownGroup(const std::string& group);

// enabled_backends: one BackendOptions per name, in order (the sections are read afterwards).
Status SetEnabledBackends(const Parser& p, const Entry& e, Options* o) {
  std::vector<BackendOptions> backends;
  std::set<std::string> seen;
  for (auto& n : Split(e.value, ',')) {
    std::string t = Trim(n);
    if (t.empty()) continue;
    if (KnownGroup(Group(t))) return p.Bad(e, "'" + t + "' is not a backend name");
    if (!seen.insert(Group(t)).second) return p.Bad(e, "backend '" + t + "' is listed twice");
    BackendOptions b;
    b.name = t;
    b.volume_backend_name = t;
    backends.push_back(std::move(b));
  }
  if (backends.empty()) return p.Bad(e, "must name at least one backend section");
  o->backends = std::move(backends);
  return Status::OK();
}

// [metrics] listen: HOST:PORT ("" = no listener).
Status SetMetricsListen(const Parser& p, const Entry& e, Options* o) {
  const std::string v = Trim(e.value);
  const auto colon = v.rfind(':');
  if (!v.empty()) {
    int64_t port = -1;
    const std::string digits = colon == std::string::npos ? "" : v.substr(colon + 1);
    if (!digits.empty() && digits.size() <= 5 && digits.find_first_not_of("0123456789") == std::string::npos) {
      port = std::stoll(digits);
    }
    if (colon == 0 || colon == std::string::npos || port < 0 || port > 65535) {
      return p.Bad(e, "invalid value '" + v + "' (expected HOST:PORT, e.g. 127.0.0.1:9101)");
    }
  }
  o->metrics.listen = v;
  return Status::OK();
}

Status SetConnection(const Parser& p, const Entry& e, Options* o) {
  CINDER_ASSIGN_OR_RETURN(std::string c, p.NonEmpty(e));
  if (c.rfind("sqlite://", 0) != 0 && c.rfind("postgresql://", 0) != 0 && c.rfind("postgresql+psycopg2://", 0) != 0) {
    return p.Bad(e, "invalid value '" + log::RedactUrl(c) +
                        "' (expected sqlite:///PATH or postgresql://USER:PASS@HOST:PORT/DB)");
  }
  o->database_connection = c;
  return Status::OK();
}

// Cinder's format: a JSON object, e.g. {"tier": "gold", "replication": true}.
Status SetExtraCapabilities(const Parser& p, const Entry& e, BackendOptions* b) {
  auto parsed = json::Parse(Trim(e.value));
  if (!parsed.ok() || !parsed->is_object()) {
    return p.Bad(e, "invalid value '" + Trim(e.value) + "' (expected a JSON object, e.g. {\"tier\": \"gold\"})");
  }
  for (const auto& [k, v] : parsed->as_object()) b->extra_capabilities[k] = PyStr(v);
  return Status::OK();
}

// The Auth Manager's sections (Keystone's and keystonemiddleware's names).
std::vector<OptionRow<AuthOptions>> AuthRows() {
  using A = AuthOptions;
  using L = LdapOptions;
  using K = KeystoneAuthtokenOptions;
  std::vector<OptionRow<AuthOptions>> rows = {
      IntOpt("token", "expiration", &A::token_expiration, 1, 10LL * 365 * 86400),
      IntOpt("token", "allow_expired_window", &A::allow_expired_window, 0, 10LL * 365 * 86400),
      IntOpt("token", "cache_time", &A::token_cache_time, 0, 86400),
      ChoiceOpt("identity", "driver", &A::identity_driver, {"sql", "ldap"}),
      StrOpt("identity", "default_domain_id", &A::default_domain_id),
      ChoiceOpt("identity", "password_hash_algorithm", &A::password_hash_algorithm, {"bcrypt", "pbkdf2_sha512"}),
      IntOpt("identity", "password_hash_rounds", &A::password_hash_rounds, 4, 10000000),
      IntOpt("identity", "max_password_length", &A::max_password_length, 1, 4096),
      StrOpt("identity", "region_name", &A::region_name),
      IntOpt("identity", "listen_port", &A::identity_listen_port, 0, 65535),
      IntOpt("security_compliance", "lockout_failure_attempts", &A::lockout_failure_attempts, 0, 1000000),
      IntOpt("security_compliance", "lockout_duration", &A::lockout_duration, 1, 10LL * 365 * 86400),
      TextOpt("resource", "admin_project_name", &A::admin_project_name),
      TextOpt("resource", "admin_project_domain_name", &A::admin_project_domain_name),
      StrOpt("oslo_policy", "policy_file", &A::policy_file),
      BoolOpt("oslo_policy", "enforce_new_defaults", &A::enforce_new_defaults),
  };
  std::vector<OptionRow<LdapOptions>> ldap = {
      StrOpt("ldap", "url", &L::url),
      TextOpt("ldap", "user", &L::user),
      TextOpt("ldap", "password", &L::password),
      StrOpt("ldap", "suffix", &L::suffix),
      ChoiceOpt("ldap", "query_scope", &L::query_scope, {"one", "sub"}),
      IntOpt("ldap", "page_size", &L::page_size, 0, 1000000),
      TextOpt("ldap", "user_tree_dn", &L::user_tree_dn),
      TextOpt("ldap", "user_filter", &L::user_filter),
      StrOpt("ldap", "user_objectclass", &L::user_objectclass),
      StrOpt("ldap", "user_id_attribute", &L::user_id_attribute),
      StrOpt("ldap", "user_name_attribute", &L::user_name_attribute),
      StrOpt("ldap", "user_description_attribute", &L::user_description_attribute),
      StrOpt("ldap", "user_mail_attribute", &L::user_mail_attribute),
      StrOpt("ldap", "user_pass_attribute", &L::user_pass_attribute),
      StrOpt("ldap", "user_enabled_attribute", &L::user_enabled_attribute),
      BoolOpt("ldap", "user_enabled_invert", &L::user_enabled_invert),
      IntOpt("ldap", "user_enabled_mask", &L::user_enabled_mask, 0, 0x7FFFFFFF),
      StrOpt("ldap", "user_enabled_default", &L::user_enabled_default),
      TextOpt("ldap", "group_tree_dn", &L::group_tree_dn),
      TextOpt("ldap", "group_filter", &L::group_filter),
      StrOpt("ldap", "group_objectclass", &L::group_objectclass),
      StrOpt("ldap", "group_id_attribute", &L::group_id_attribute),
      StrOpt("ldap", "group_name_attribute", &L::group_name_attribute),
      StrOpt("ldap", "group_member_attribute", &L::group_member_attribute),
      BoolOpt("ldap", "group_members_are_ids", &L::group_members_are_ids),
      StrOpt("ldap", "group_desc_attribute", &L::group_desc_attribute),
      BoolOpt("ldap", "use_tls", &L::use_tls),
      TextOpt("ldap", "tls_cacertfile", &L::tls_cacertfile),
      TextOpt("ldap", "tls_cacertdir", &L::tls_cacertdir),
      ChoiceOpt("ldap", "tls_req_cert", &L::tls_req_cert, {"demand", "allow", "never"}),
      IntOpt("ldap", "connection_timeout", &L::connection_timeout, -1, 3600),
      IntOpt("ldap", "pool_size", &L::pool_size, 1, 1000),
  };
  for (auto& r : ldap) rows.push_back(In(&AuthOptions::ldap, r));
  std::vector<OptionRow<KeystoneAuthtokenOptions>> ks = {
      TextOpt("keystone_authtoken", "www_authenticate_uri", &K::www_authenticate_uri),
      TextOpt("keystone_authtoken", "auth_url", &K::auth_url),
      ChoiceOpt("keystone_authtoken", "auth_type", &K::auth_type, {"password"}),
      TextOpt("keystone_authtoken", "username", &K::username),
      TextOpt("keystone_authtoken", "password", &K::password),
      TextOpt("keystone_authtoken", "project_name", &K::project_name),
      TextOpt("keystone_authtoken", "user_domain_name", &K::user_domain_name),
      TextOpt("keystone_authtoken", "project_domain_name", &K::project_domain_name),
      IntOpt("keystone_authtoken", "token_cache_time", &K::token_cache_time, -1, 86400),
      IntOpt("keystone_authtoken", "http_connect_timeout", &K::http_connect_timeout, 1, 3600),
      IntOpt("keystone_authtoken", "http_request_max_retries", &K::http_request_max_retries, 0, 100),
  };
  for (auto& r : ks) rows.push_back(In(&AuthOptions::keystone_authtoken, r));
  return rows;
}

const std::vector<OptionRow<Options>>& ServiceOptions() {
  using O = Options;
  static auto* rows = new std::vector<OptionRow<Options>>{
      StrOpt("DEFAULT", "osapi_volume_listen", &O::osapi_volume_listen),
      IntOpt("DEFAULT", "osapi_volume_listen_port", &O::osapi_volume_listen_port, 0, 65535),
      {"DEFAULT", "auth_strategy", SetAuthStrategy},
      StrOpt("DEFAULT", "state_path", &O::state_path),
      StrOpt("DEFAULT", "host", &O::host),
      StrOpt("DEFAULT", "storage_availability_zone", &O::storage_availability_zone),
      StrOpt("DEFAULT", "cluster", &O::cluster),
      IntOpt("DEFAULT", "osapi_max_limit", &O::osapi_max_limit, 1, 1000000000),
      StrOpt("DEFAULT", "resource_query_filters_file", &O::resource_query_filters_file),
      IntOpt("DEFAULT", "osapi_max_request_body_size", &O::osapi_max_request_body_size, 1, 1LL << 30),
      IntOpt("DEFAULT", "osapi_max_pending_creates", &O::osapi_max_pending_creates, 0, 1000000000),
      IntOpt("DEFAULT", "osapi_volume_workers", &O::osapi_volume_workers, 1, 1024),
      IntOpt("DEFAULT", "osapi_max_connections", &O::osapi_max_connections, 1, 1000000),
      IntOpt("DEFAULT", "client_socket_timeout", &O::client_socket_timeout, 0, 86400 * 365),
      IntOpt("DEFAULT", "osapi_request_read_timeout", &O::osapi_request_read_timeout, 0, 86400 * 365),
      BoolOpt("DEFAULT", "wsgi_keep_alive", &O::wsgi_keep_alive),
      IntOpt("DEFAULT", "max_header_line", &O::max_header_line, 256, 1 << 20),
      StrOpt("DEFAULT", "my_ip", &O::my_ip),
      IntOpt("DEFAULT", "rpc_port", &O::rpc_port, 0, 65535),
      {"DEFAULT", "transport_security", SetTransportSecurity},
      StrOpt("DEFAULT", "transport_key_file", &O::transport_key_file),
      IntOpt("DEFAULT", "report_interval", &O::report_interval, 1, 86400),
      IntOpt("DEFAULT", "service_down_time", &O::service_down_time, 1, 86400),
      ListOpt("DEFAULT", "scheduler_default_filters", &O::scheduler_default_filters),
      ListOpt("DEFAULT", "scheduler_default_weighers", &O::scheduler_default_weighers),
      {"DEFAULT", "scheduler_weight_handler", SetWeightHandler},
      IntOpt("DEFAULT", "scheduler_max_attempts", &O::scheduler_max_attempts, 1, 100),
      DoubleOpt("DEFAULT", "capacity_weight_multiplier", &O::capacity_weight_multiplier),
      DoubleOpt("DEFAULT", "allocated_capacity_weight_multiplier", &O::allocated_capacity_weight_multiplier),
      DoubleOpt("DEFAULT", "volume_number_multiplier", &O::volume_number_multiplier),
      RatioOpt("DEFAULT", "max_over_subscription_ratio", &O::max_over_subscription_ratio),
      StrOpt("DEFAULT", "default_volume_type", &O::default_volume_type),
      StrOpt("DEFAULT", "default_group_type", &O::default_group_type),
      IntOpt("DEFAULT", "message_ttl", &O::message_ttl, 1, 10LL * 365 * 86400),
      IntOpt("DEFAULT", "message_reap_interval", &O::message_reap_interval, 1, 365LL * 86400),
      IntOpt("DEFAULT", "quota_volumes", &O::quota_volumes, -1, kMaxQuota),
      IntOpt("DEFAULT", "quota_snapshots", &O::quota_snapshots, -1, kMaxQuota),
      IntOpt("DEFAULT", "quota_gigabytes", &O::quota_gigabytes, -1, kMaxQuota),
      IntOpt("DEFAULT", "quota_backups", &O::quota_backups, -1, kMaxQuota),
      IntOpt("DEFAULT", "quota_backup_gigabytes", &O::quota_backup_gigabytes, -1, kMaxQuota),
      IntOpt("DEFAULT", "quota_groups", &O::quota_groups, -1, kMaxQuota),
      IntOpt("DEFAULT", "per_volume_size_limit", &O::per_volume_size_limit, -1, kMaxQuota),
      BoolOpt("DEFAULT", "use_default_quota_class", &O::use_default_quota_class),
      IntOpt("DEFAULT", "reservation_expire", &O::reservation_expire, 1, 10LL * 365 * 86400),
      BoolOpt("DEFAULT", "no_snapshot_gb_quota", &O::no_snapshot_gb_quota),
      BoolOpt("DEFAULT", "debug", &O::debug),
      BoolOpt("dashboard", "enabled", &O::dashboard_enabled),
      StrOpt("DEFAULT", "log_file", &O::log_file),
      StrOpt("DEFAULT", "log_dir", &O::log_dir),
      BoolOpt("DEFAULT", "use_stderr", &O::use_stderr),
      {"DEFAULT", "enabled_backends", SetEnabledBackends},
      TextOpt("DEFAULT", "public_endpoint", &O::public_endpoint),
      TextOpt("DEFAULT", "glance_api_servers", &O::glance_api_servers),
      {"database", "connection", SetConnection},
      {"DEFAULT", "backup_driver", SetBackupDriver},
      In(&O::backup, TextOpt("DEFAULT", "backup_posix_path", &BackupOptions::posix_path)),
      In(&O::backup, TextOpt("DEFAULT", "backup_container", &BackupOptions::container)),
      In(&O::backup, IntOpt("DEFAULT", "backup_file_size", &BackupOptions::file_size, 32768, 1LL << 40)),
      In(&O::backup, IntOpt("DEFAULT", "backup_sha_block_size_bytes", &BackupOptions::sha_block_size, 512, 1LL << 30)),
      {"DEFAULT", "backup_compression_algorithm", SetBackupCompression},
      In(&O::backup, BoolOpt("DEFAULT", "backup_enable_progress_timer", &BackupOptions::enable_progress_timer)),
      In(&O::backup, IntOpt("DEFAULT", "backup_timer_interval", &BackupOptions::timer_interval, 1, 86400)),
      In(&O::backup,
         IntOpt("DEFAULT", "backup_native_threads_pool_size", &BackupOptions::native_threads_pool_size, 1, 10000)),
      In(&O::backup, IntOpt("DEFAULT", "backup_max_operations", &BackupOptions::max_operations, 0, 10000)),
      In(&O::backup, BoolOpt("DEFAULT", "backup_use_same_host", &BackupOptions::use_same_host)),
      In(&O::backup, BoolOpt("DEFAULT", "backup_use_temp_snapshot", &BackupOptions::use_temp_snapshot)),
      In(&O::backup, StrOpt("DEFAULT", "backup_name_template", &BackupOptions::name_template)),
      In(&O::backup, IntOpt("DEFAULT", "backup_workers", &BackupOptions::workers, 0, 1024)),
      In(&O::backup, IntOpt("DEFAULT", "backup_object_size", &BackupOptions::object_size, 32768, 1LL << 31)),
      In(&O::backup, IntOpt("DEFAULT", "backup_zstd_level", &BackupOptions::zstd_level, -7, 22)),
      In(&O::backup, IntOpt("DEFAULT", "backup_zlib_level", &BackupOptions::zlib_level, 0, 9)),
      In(&O::backup, IntOpt("DEFAULT", "backup_stale_seconds", &BackupOptions::stale_seconds, 1, 86400 * 365)),
      In(&O::backup, BoolOpt("DEFAULT", "backup_verify_on_restore", &BackupOptions::verify_on_restore)),
      // [metrics] (docs/metrics.md)
      In(&O::metrics, BoolOpt("metrics", "enabled", &MetricsOptions::enabled)),
      {"metrics", "listen", SetMetricsListen},
      In(&O::metrics, IntOpt("metrics", "refresh_interval", &MetricsOptions::refresh_interval, 1, 3600)),
  };
  static const bool with_auth = [] {
    for (auto& r : AuthRows()) rows->push_back(In(&Options::auth, r));
    return true;
  }();
  (void)with_auth;
  return *rows;
}

// The options every backend section has; the rest of a section goes to its driver, which
// refuses what it does not know when it opens.
const std::vector<OptionRow<BackendOptions>>& BackendRows() {
  using B = BackendOptions;
  static const auto* rows = new std::vector<OptionRow<BackendOptions>>{
      StrOpt("", "volume_driver", &B::volume_driver),
      StrOpt("", "volume_backend_name", &B::volume_backend_name),
      RatioOpt("", "max_over_subscription_ratio", &B::max_over_subscription_ratio),
      IntOpt("", "reserved_percentage", &B::reserved_percentage, 0, 100),
      TextOpt("", "filter_function", &B::filter_function),
      TextOpt("", "goodness_function", &B::goodness_function),
      StrOpt("", "backend_availability_zone", &B::backend_availability_zone),
      {"", "extra_capabilities", SetExtraCapabilities},
      StrOpt("", "target_helper", &B::target_helper),
      TextOpt("", "target_ip_address", &B::target_ip_address),
      IntOpt("", "target_port", &B::target_port, 1, 65535),
      StrOpt("", "target_prefix", &B::target_prefix),
      StrOpt("", "target_protocol", &B::target_protocol),
      BoolOpt("", "use_chap_auth", &B::use_chap_auth),
      StrOpt("", "iscsi_iotype", &B::iscsi_iotype),
      BoolOpt("", "iscsi_write_cache", &B::iscsi_write_cache),
      TextOpt("", "iscsi_target_flags", &B::iscsi_target_flags),
      StrOpt("", "volumes_dir", &B::volumes_dir),
      TextOpt("", "tgt_ipc_socket", &B::tgt_ipc_socket),
  };
  return *rows;
}

template <typename Target>
const OptionRow<Target>* FindRow(const std::vector<OptionRow<Target>>& rows, const std::string& section,
                                 const std::string& name) {
  for (const auto& r : rows) {
    if (section == r.section && name == r.name) return &r;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// What is ignored, and said so once.

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// "unknown option, ignored", with the known option of the section it most likely misspells.
std::string UnknownOption(const std::string& origin, const Entry& e) {
  std::string msg = origin + ": [" + e.section + "] " + e.name + ": unknown option, ignored";
  const char* best = nullptr;
  size_t best_distance = 3;  // at most two edits
  for (const auto& r : ServiceOptions()) {
    if (Group(e.section) != r.section) continue;
    size_t d = EditDistance(e.name, r.name);
    if (d < best_distance) best = r.name, best_distance = d;
  }
  if (best) msg += std::string(" (did you mean ") + best + "?)";
  return msg;
}

std::string UnknownSection(const std::string& origin, const std::string& section) {
  return origin + ": [" + section +
         "]: unknown section (not one of libcinder's, nor a backend named in enabled_backends), ignored";
}

// A section libcinder reads options from (besides the backends').
bool KnownGroup(const std::string& group) {
  for (const auto& r : ServiceOptions()) {
    if (group == r.section) return true;
  }
  return false;
}

// The enabled backend whose section this is, if any.
BackendOptions* FindBackend(Options* o, const std::string& section) {
  for (auto& b : o->backends) {
    if (Group(b.name) == Group(section)) return &b;
  }
  return nullptr;
}

// The sections and options nothing reads: one line each, even when repeated.
std::vector<std::string> Ignored(const std::string& origin, const Ini& ini, const std::vector<Entry>& entries,
                                 const Options& o) {
  auto enabled = [&](const std::string& section) {
    return std::any_of(o.backends.begin(), o.backends.end(),
                       [&](const BackendOptions& b) { return Group(b.name) == Group(section); });
  };
  std::vector<std::string> out;
  std::set<std::string> unknown_groups;
  for (const auto& s : ini.sections) {
    std::string g = Group(s);
    if (KnownGroup(g) || enabled(s)) continue;
    if (unknown_groups.insert(g).second) out.push_back(UnknownSection(origin, s));
  }
  for (const auto& e : entries) {
    std::string g = Group(e.section);
    if (KnownGroup(g) && !FindRow(ServiceOptions(), g, e.name)) {
      out.push_back(UnknownOption(origin, e));
    }
  }
  return out;
}

}  // namespace

Result<Options> ParseConfig(const std::string& text, const std::string& origin, std::vector<std::string>* warnings) {
  CINDER_ASSIGN_OR_RETURN(Ini ini, IniReader(origin).Read(text));
  std::vector<Entry> entries = LastValues(std::move(ini.entries));
  Parser p(origin);
  Options o;
  o.origin = origin;
  // [DEFAULT] and [database] first: the backend sections need enabled_backends.
  for (const auto& e : entries) {
    if (const auto* row = FindRow(ServiceOptions(), Group(e.section), e.name)) {
      CINDER_RETURN_IF_ERROR(row->set(p, e, &o));
    }
  }
  if (o.backends.empty()) o.backends = DefaultOptions(o.state_path).backends;
  for (const auto& e : entries) {
    BackendOptions* b = FindBackend(&o, e.section);  // never a section of ServiceOptions: see SetEnabledBackends
    if (!b) continue;
    if (const auto* row = FindRow(BackendRows(), "", e.name)) {
      CINDER_RETURN_IF_ERROR(row->set(p, e, b));
    } else {
      b->driver_options[e.name] = Trim(e.value);  // checked by the driver when it opens
    }
  }
  if (warnings) *warnings = Ignored(origin, ini, entries, o);
  return o;
}

Result<Options> LoadConfigFile(const std::string& path, std::vector<std::string>* warnings) {
  std::ifstream in(path);
  if (!in) return InvalidArgument(path + ": cannot read the configuration file");
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> ignored;
  auto options = ParseConfig(ss.str(), path, &ignored);
  if (warnings) {
    *warnings = std::move(ignored);
  } else {
    for (const auto& w : ignored) CINDER_LOG(kWarning, "cinder") << w;
  }
  return options;
}

}  // namespace cinder

// cinder.conf parsing: Boost.Program_options' ini reader, then Cinder's names and checks.
#include <boost/program_options/parsers.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "cinder/options.h"
#include "common/json.h"
#include "common/util.h"

namespace po = boost::program_options;

namespace cinder {

std::string Options::DatabaseUrl() const {
  if (!database_connection.empty()) return database_connection;
  return "sqlite:///" + state_path + "/cinder.sqlite";
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

// A JSON value as Python's str() prints it: how Cinder's capabilities compare with extra specs.
std::string PyStr(const json::Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_bool()) return v.as_bool() ? "True" : "False";
  if (v.is_null()) return "None";
  return json::Serialize(v);
}

// Quota limits are stored in 32-bit columns (Cinder's DB_MAX_INT); -1 is unlimited.
constexpr int64_t kMaxQuota = 0x7FFFFFFF;

struct Entry {
  std::string section, name, value;
};

class Parser {
 public:
  explicit Parser(std::string origin) : origin_(std::move(origin)) {}

  Status Bad(const Entry& e, const std::string& why) const {
    return InvalidArgument(origin_ + ": [" + e.section + "] " + e.name + ": " + why);
  }

  Result<int64_t> Int(const Entry& e, int64_t lo, int64_t hi) const {
    auto v = ParseInt(Trim(e.value));
    if (!v || *v < lo || *v > hi) {
      return Bad(e, "invalid value '" + e.value + "' (expected an integer from " +
                        std::to_string(lo) + " to " + std::to_string(hi) + ")");
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
    if (v.empty() || *end != '\0' || !std::isfinite(d)) return Bad(e, "invalid value '" + e.value + "' (expected a number)");
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

}  // namespace

Result<Options> ParseConfig(const std::string& text, const std::string& origin) {
  std::vector<Entry> entries;
  try {
    std::istringstream in(text);
    po::options_description none;
    po::parsed_options parsed = po::parse_config_file(in, none, /*allow_unregistered=*/true);
    for (const auto& opt : parsed.options) {
      auto dot = opt.string_key.find('.');
      if (dot == std::string::npos) {
        return InvalidArgument(origin + ": option '" + opt.string_key +
                               "' is outside any [section]");
      }
      Entry e{opt.string_key.substr(0, dot), opt.string_key.substr(dot + 1),
              opt.value.empty() ? "" : opt.value.back()};
      entries.push_back(std::move(e));
    }
  } catch (const std::exception& ex) {
    return InvalidArgument(origin + ": " + ex.what());
  }

  Parser p(origin);
  Options o;
  o.origin = origin;
  std::optional<std::vector<std::string>> enabled;
  // First pass: [DEFAULT] and [database]; the backend sections need enabled_backends first.
  for (const auto& e : entries) {
    if (e.section == "DEFAULT") {
      if (e.name == "osapi_volume_listen") {
        CINDER_ASSIGN_OR_RETURN(o.osapi_volume_listen, p.NonEmpty(e));
      } else if (e.name == "osapi_volume_listen_port") {
        CINDER_ASSIGN_OR_RETURN(int64_t v, p.Int(e, 0, 65535));
        o.osapi_volume_listen_port = static_cast<int>(v);
      } else if (e.name == "auth_strategy") {
        std::string v = Trim(e.value);
        if (v == "keystone") return p.Bad(e, "'keystone' is not supported yet; use 'noauth'");
        if (v != "noauth") return p.Bad(e, "invalid value '" + v + "' (expected noauth)");
        o.auth_strategy = v;
      } else if (e.name == "state_path") {
        CINDER_ASSIGN_OR_RETURN(o.state_path, p.NonEmpty(e));
      } else if (e.name == "host") {
        CINDER_ASSIGN_OR_RETURN(o.host, p.NonEmpty(e));
      } else if (e.name == "storage_availability_zone") {
        CINDER_ASSIGN_OR_RETURN(o.storage_availability_zone, p.NonEmpty(e));
      } else if (e.name == "osapi_max_limit") {
        CINDER_ASSIGN_OR_RETURN(o.osapi_max_limit, p.Int(e, 1, 1000000000));
      } else if (e.name == "osapi_max_request_body_size") {
        CINDER_ASSIGN_OR_RETURN(o.osapi_max_request_body_size, p.Int(e, 1, 1LL << 30));
      } else if (e.name == "osapi_volume_workers") {
        CINDER_ASSIGN_OR_RETURN(int64_t v, p.Int(e, 1, 1024));
        o.osapi_volume_workers = static_cast<int>(v);
      } else if (e.name == "my_ip") {
        CINDER_ASSIGN_OR_RETURN(o.my_ip, p.NonEmpty(e));
      } else if (e.name == "rpc_port") {
        CINDER_ASSIGN_OR_RETURN(int64_t v, p.Int(e, 0, 65535));
        o.rpc_port = static_cast<int>(v);
      } else if (e.name == "report_interval") {
        CINDER_ASSIGN_OR_RETURN(int64_t v, p.Int(e, 1, 86400));
        o.report_interval = static_cast<int>(v);
      } else if (e.name == "service_down_time") {
        CINDER_ASSIGN_OR_RETURN(int64_t v, p.Int(e, 1, 86400));
        o.service_down_time = static_cast<int>(v);
      } else if (e.name == "scheduler_default_filters") {
        o.scheduler_default_filters = p.List(e);
      } else if (e.name == "scheduler_default_weighers") {
        o.scheduler_default_weighers = p.List(e);
      } else if (e.name == "scheduler_weight_handler") {
        std::string v = Trim(e.value);
        if (v == "cinder.scheduler.weights.OrderedHostWeightHandler") {
          o.scheduler_stochastic_weights = false;
        } else if (v == "cinder.scheduler.weights.stochastic.StochasticHostWeightHandler") {
          o.scheduler_stochastic_weights = true;
        } else {
          return p.Bad(e, "invalid value '" + v + "' (expected cinder.scheduler.weights.OrderedHostWeightHandler "
                          "or cinder.scheduler.weights.stochastic.StochasticHostWeightHandler)");
        }
      } else if (e.name == "scheduler_max_attempts") {
        CINDER_ASSIGN_OR_RETURN(int64_t v, p.Int(e, 1, 100));
        o.scheduler_max_attempts = static_cast<int>(v);
      } else if (e.name == "capacity_weight_multiplier") {
        CINDER_ASSIGN_OR_RETURN(o.capacity_weight_multiplier, p.Double(e));
      } else if (e.name == "allocated_capacity_weight_multiplier") {
        CINDER_ASSIGN_OR_RETURN(o.allocated_capacity_weight_multiplier, p.Double(e));
      } else if (e.name == "volume_number_multiplier") {
        CINDER_ASSIGN_OR_RETURN(o.volume_number_multiplier, p.Double(e));
      } else if (e.name == "max_over_subscription_ratio") {
        CINDER_ASSIGN_OR_RETURN(o.max_over_subscription_ratio, p.Ratio(e));
      } else if (e.name == "default_volume_type") {
        CINDER_ASSIGN_OR_RETURN(o.default_volume_type, p.NonEmpty(e));
      } else if (e.name == "message_ttl") {
        CINDER_ASSIGN_OR_RETURN(o.message_ttl, p.Int(e, 1, 10LL * 365 * 86400));
      } else if (e.name == "message_reap_interval") {
        CINDER_ASSIGN_OR_RETURN(int64_t v, p.Int(e, 1, 365LL * 86400));
        o.message_reap_interval = static_cast<int>(v);
      } else if (e.name == "quota_volumes") {
        CINDER_ASSIGN_OR_RETURN(o.quota_volumes, p.Int(e, -1, kMaxQuota));
      } else if (e.name == "quota_snapshots") {
        CINDER_ASSIGN_OR_RETURN(o.quota_snapshots, p.Int(e, -1, kMaxQuota));
      } else if (e.name == "quota_gigabytes") {
        CINDER_ASSIGN_OR_RETURN(o.quota_gigabytes, p.Int(e, -1, kMaxQuota));
      } else if (e.name == "quota_backups") {
        CINDER_ASSIGN_OR_RETURN(o.quota_backups, p.Int(e, -1, kMaxQuota));
      } else if (e.name == "quota_backup_gigabytes") {
        CINDER_ASSIGN_OR_RETURN(o.quota_backup_gigabytes, p.Int(e, -1, kMaxQuota));
      } else if (e.name == "quota_groups") {
        CINDER_ASSIGN_OR_RETURN(o.quota_groups, p.Int(e, -1, kMaxQuota));
      } else if (e.name == "per_volume_size_limit") {
        CINDER_ASSIGN_OR_RETURN(o.per_volume_size_limit, p.Int(e, -1, kMaxQuota));
      } else if (e.name == "use_default_quota_class") {
        CINDER_ASSIGN_OR_RETURN(o.use_default_quota_class, p.Bool(e));
      } else if (e.name == "reservation_expire") {
        CINDER_ASSIGN_OR_RETURN(o.reservation_expire, p.Int(e, 1, 10LL * 365 * 86400));
      } else if (e.name == "no_snapshot_gb_quota") {
        CINDER_ASSIGN_OR_RETURN(o.no_snapshot_gb_quota, p.Bool(e));
      } else if (e.name == "debug") {
        CINDER_ASSIGN_OR_RETURN(o.debug, p.Bool(e));
      } else if (e.name == "enabled_backends") {
        std::vector<std::string> names;
        std::set<std::string> seen;
        for (auto& n : Split(e.value, ',')) {
          std::string t = Trim(n);
          if (t.empty()) continue;
          if (t == "DEFAULT" || t == "database") return p.Bad(e, "'" + t + "' is not a backend name");
          if (!seen.insert(t).second) return p.Bad(e, "backend '" + t + "' is listed twice");
          names.push_back(t);
        }
        if (names.empty()) return p.Bad(e, "must name at least one backend section");
        enabled = names;
      } else {
        return p.Bad(e, "unknown option");
      }
    } else if (e.section == "database") {
      if (e.name == "connection") {
        CINDER_ASSIGN_OR_RETURN(o.database_connection, p.NonEmpty(e));
        const std::string& c = o.database_connection;
        if (c.rfind("sqlite://", 0) != 0 && c.rfind("postgresql://", 0) != 0 &&
            c.rfind("postgresql+psycopg2://", 0) != 0) {
          return p.Bad(e, "invalid value '" + c +
                              "' (expected sqlite:///PATH or postgresql://USER:PASS@HOST:PORT/DB)");
        }
      } else {
        return p.Bad(e, "unknown option");
      }
    }
  }
  if (enabled) {
    for (const auto& name : *enabled) {
      BackendOptions b;
      b.name = name;
      b.volume_backend_name = name;
      o.backends.push_back(b);
    }
  } else {
    o.backends = DefaultOptions(o.state_path).backends;
  }
  for (const auto& e : entries) {
    if (e.section == "DEFAULT" || e.section == "database") continue;
    BackendOptions* b = nullptr;
    for (auto& cand : o.backends) {
      if (cand.name == e.section) b = &cand;
    }
    if (!b) {
      return InvalidArgument(origin + ": [" + e.section +
                             "]: unknown section (not DEFAULT, database, or a backend named in "
                             "enabled_backends)");
    }
    if (e.name == "volume_driver") {
      CINDER_ASSIGN_OR_RETURN(b->volume_driver, p.NonEmpty(e));
    } else if (e.name == "volume_backend_name") {
      CINDER_ASSIGN_OR_RETURN(b->volume_backend_name, p.NonEmpty(e));
    } else if (e.name == "max_over_subscription_ratio") {
      CINDER_ASSIGN_OR_RETURN(b->max_over_subscription_ratio, p.Ratio(e));
    } else if (e.name == "reserved_percentage") {
      CINDER_ASSIGN_OR_RETURN(int64_t v, p.Int(e, 0, 100));
      b->reserved_percentage = static_cast<int>(v);
    } else if (e.name == "filter_function") {
      b->filter_function = Trim(e.value);
    } else if (e.name == "goodness_function") {
      b->goodness_function = Trim(e.value);
    } else if (e.name == "backend_availability_zone") {
      CINDER_ASSIGN_OR_RETURN(b->backend_availability_zone, p.NonEmpty(e));
    } else if (e.name == "extra_capabilities") {
      // Cinder's format: a JSON object, e.g. {"tier": "gold", "replication": true}.
      auto parsed = json::Parse(Trim(e.value));
      if (!parsed.ok() || !parsed->is_object()) {
        return p.Bad(e, "invalid value '" + Trim(e.value) + "' (expected a JSON object, e.g. {\"tier\": \"gold\"})");
      }
      for (const auto& [k, v] : parsed->as_object()) b->extra_capabilities[k] = PyStr(v);
    } else {
      b->driver_options[e.name] = Trim(e.value);  // checked by the driver when it opens
    }
  }
  return o;
}

Result<Options> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument(path + ": cannot read the configuration file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace cinder

#include "volume/quota_api.h"

#include <algorithm>
#include <set>
#include <utility>

#include "common/util.h"
#include "volume/policy_checks.h"

namespace cinder {

namespace {

constexpr int64_t kDbMaxInt = 0x7FFFFFFF;  // Cinder's DB_MAX_INT: the limits column is 32-bit
constexpr char kDefaultClass[] = "default";

// Keys a quota-set update may carry that are not resources (Cinder's NON_QUOTA_KEYS).
bool IsNonQuotaKey(const std::string& k) { return k == "id" || k == "tenant_id"; }

// Cinder's validate_string_length(value, name, 1, 255), in characters.
Status CheckLength(const std::string& value, const std::string& name) {
  size_t chars = 0;
  for (unsigned char c : value) chars += (c & 0xC0) != 0x80;
  if (chars < 1) {
    return InvalidArgument("Invalid input received: " + name + " has 0 characters, less than 1.");
  }
  if (chars > 255) {
    return InvalidArgument("Invalid input received: " + name + " has " + std::to_string(chars) +
                           " characters, more than 255.");
  }
  return Status::OK();
}

// The resources with their option defaults, in Cinder's order (VolumeTypeQuotaEngine, then
// GroupQuotaEngine): the per-type ones of every live type default to -1 (unlimited).
Result<std::vector<std::pair<std::string, int64_t>>> Resources(Store* store, const Options& o) {
  std::vector<std::pair<std::string, int64_t>> out = {
      {"volumes", o.quota_volumes},     {"per_volume_gigabytes", o.per_volume_size_limit},
      {"snapshots", o.quota_snapshots}, {"gigabytes", o.quota_gigabytes},
      {"backups", o.quota_backups},     {"backup_gigabytes", o.quota_backup_gigabytes},
  };
  CINDER_ASSIGN_OR_RETURN(auto types, store->ListVolumeTypes(std::nullopt));
  for (const auto& t : types) {
    for (const char* part : {"volumes", "gigabytes", "snapshots"})
      out.emplace_back(std::string(part) + "_" + t.name, -1);
  }
  out.emplace_back("groups", o.quota_groups);
  return out;
}

// The option default of one resource without listing the types (a per-type one is -1).
int64_t OptionDefault(const Options& o, const std::string& resource) {
  if (resource == "volumes") return o.quota_volumes;
  if (resource == "per_volume_gigabytes") return o.per_volume_size_limit;
  if (resource == "snapshots") return o.quota_snapshots;
  if (resource == "gigabytes") return o.quota_gigabytes;
  if (resource == "backups") return o.quota_backups;
  if (resource == "backup_gigabytes") return o.quota_backup_gigabytes;
  if (resource == "groups") return o.quota_groups;
  return -1;
}

// The limit of each of `resources` for `project`: its own row, else (use_default_quota_class)
// the class "default"'s, else the option. For the reservation paths: no list of types.
Result<std::map<std::string, int64_t>> LimitsOf(Store* store, const Options& o, const std::string& project,
                                                const std::vector<std::string>& resources) {
  CINDER_ASSIGN_OR_RETURN(auto own, store->GetProjectQuotas(project));
  std::map<std::string, int64_t> defaults;
  if (o.use_default_quota_class) {
    bool all_own = std::all_of(resources.begin(), resources.end(), [&](const std::string& r) { return own.count(r); });
    if (!all_own) {
      CINDER_ASSIGN_OR_RETURN(defaults, store->GetQuotaClass(kDefaultClass));
    }
  }
  std::map<std::string, int64_t> out;
  for (const auto& r : resources) {
    auto it = own.find(r);
    if (it != own.end()) {
      out[r] = it->second;
      continue;
    }
    auto d = defaults.find(r);
    out[r] = d != defaults.end() ? d->second : OptionDefault(o, r);
  }
  return out;
}

QuotaSet WithoutUsage(const std::map<std::string, int64_t>& limits) {
  QuotaSet out;
  for (const auto& [k, v] : limits) out[k].limit = v;
  return out;
}

// Cinder's quota_utils.process_reserve_over_quota: the error of the first resource over quota.
Status OverQuota(const Store::QuotaReservation& r, const std::map<std::string, int64_t>& limits,
                 const std::string& what, int64_t size) {
  std::vector<std::string> overs = r.over;
  std::sort(overs.begin(), overs.end());
  auto consumed = [&](const std::string& name) {
    auto it = r.usages.find(name);
    return it == r.usages.end() ? 0 : it->second.in_use + it->second.reserved;
  };
  auto limit = [&](const std::string& name) {
    auto it = limits.find(name);
    return it == limits.end() ? int64_t{-1} : it->second;
  };
  std::vector<std::string> unexpected;
  for (const auto& over : overs) {
    if (over.find("gigabytes") != std::string::npos) {
      const std::string tail = "Requested " + std::to_string(size) + "G, quota is " + std::to_string(limit(over)) +
                               "G and " + std::to_string(consumed(over)) + "G has been consumed.";
      if (what == "backups")
        return ResourceExhausted("Requested backup exceeds allowed Backup gigabytes quota. " + tail);
      return ResourceExhausted("Requested volume or snapshot exceeds allowed " + over + " quota. " + tail);
    }
    if (over.find(what) != std::string::npos) {
      const std::string allowed = std::to_string(limit(over));
      if (what == "volumes") {
        return ResourceExhausted("Maximum number of volumes allowed (" + allowed + ") exceeded for quota '" + over +
                                 "'.");
      }
      if (what == "snapshots")
        return ResourceExhausted("Maximum number of snapshots allowed (" + allowed + ") exceeded");
      if (what == "backups") return ResourceExhausted("Maximum number of backups allowed (" + allowed + ") exceeded");
      if (what == "groups") return ResourceExhausted("Maximum number of groups allowed (" + allowed + ") exceeded");
    }
    unexpected.push_back(over);
  }
  return ResourceExhausted("Unexpected over quota on " + Join(unexpected, ", ") + ".");
}

}  // namespace

QuotaDeltas QuotaApi::VolumeDeltas(const std::string& type_name, int64_t size, int sign) {
  return VolumeQuotaDeltas(type_name, size, sign);
}

QuotaDeltas QuotaApi::SnapshotDeltas(const std::string& type_name, int64_t size, int sign) const {
  return SnapshotQuotaDeltas(type_name, size, sign, !options_.no_snapshot_gb_quota);
}

Result<std::map<std::string, int64_t>> QuotaApi::Limits(const std::string& project) {
  CINDER_ASSIGN_OR_RETURN(auto resources, Resources(store_, options_));
  std::vector<std::string> names;
  for (const auto& [name, dflt] : resources) names.push_back(name);
  return LimitsOf(store_, options_, project, names);
}

Result<std::vector<std::string>> QuotaApi::Reserve(const std::string& project, const QuotaDeltas& deltas,
                                                   const std::string& what, int64_t size) {
  return ReserveExpiring(project, deltas, what, size, options_.reservation_expire);
}

Result<std::vector<std::string>> QuotaApi::ReserveForHandOver(const std::string& project, const QuotaDeltas& deltas,
                                                              const std::string& what, int64_t size) {
  return ReserveExpiring(project, deltas, what, size, std::min(options_.reservation_expire, kHandOverExpireSeconds));
}

Result<std::vector<std::string>> QuotaApi::ReserveExpiring(const std::string& project, const QuotaDeltas& deltas,
                                                           const std::string& what, int64_t size,
                                                           int64_t expire_seconds) {
  if (deltas.empty()) return std::vector<std::string>{};
  std::vector<std::string> names;
  for (const auto& [name, delta] : deltas) names.push_back(name);
  CINDER_ASSIGN_OR_RETURN(auto limits, LimitsOf(store_, options_, project, names));
  CINDER_ASSIGN_OR_RETURN(auto r, store_->ReserveQuota(project, deltas, limits, expire_seconds));
  if (!r.over.empty()) return OverQuota(r, limits, what, size);
  return std::move(r.ids);
}

QuotaCharge QuotaApi::Charge(const std::string& project, const QuotaDeltas& deltas,
                             std::optional<int64_t> volume_size) const {
  QuotaCharge charge;
  charge.project = project;
  charge.deltas = deltas;
  charge.use_default_class = options_.use_default_quota_class;
  charge.volume_size = volume_size;
  for (const auto& [name, delta] : deltas) charge.default_limits[name] = OptionDefault(options_, name);
  if (volume_size) charge.default_limits["per_volume_gigabytes"] = OptionDefault(options_, "per_volume_gigabytes");
  return charge;
}

Status QuotaApi::OverQuotaError(const Store::QuotaReservation& r, const std::string& what, int64_t size) {
  if (r.over == std::vector<std::string>{"per_volume_gigabytes"}) {
    return ResourceExhausted("Requested volume size " + std::to_string(size) +
                             "G is larger than maximum allowed limit " +
                             std::to_string(r.limits.at("per_volume_gigabytes")) + "G.");
  }
  return OverQuota(r, r.limits, what, size);
}

Status QuotaApi::CheckVolumeSize(const std::string& project, int64_t size) {
  CINDER_ASSIGN_OR_RETURN(auto limits, LimitsOf(store_, options_, project, {"per_volume_gigabytes"}));
  const int64_t limit = limits["per_volume_gigabytes"];
  if (limit >= 0 && size > limit) {
    return ResourceExhausted("Requested volume size " + std::to_string(size) +
                             "G is larger than maximum allowed limit " + std::to_string(limit) + "G.");
  }
  return Status::OK();
}

Result<QuotaSet> QuotaApi::GetQuotaSet(const RequestContext& ctx, const std::string& project, bool defaults) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:quotas:show", ProjectTarget(project)));
  return QuotaSetOf(project, defaults);
}

// Cinder's limits controller checks no rule; only an admin names another project (3.39), the
// others get their own.
Result<QuotaSet> QuotaApi::GetLimits(const RequestContext& ctx, const std::string& project) {
  return QuotaSetOf(ctx.is_admin ? project : ctx.project_id, /*defaults=*/false);
}

Result<QuotaSet> QuotaApi::QuotaSetOf(const std::string& project, bool defaults) {
  CINDER_ASSIGN_OR_RETURN(auto resources, Resources(store_, options_));
  if (defaults) {
    // Cinder's get_defaults: the class "default" (when use_default_quota_class), else the options.
    std::map<std::string, int64_t> class_limits;
    if (options_.use_default_quota_class) {
      CINDER_ASSIGN_OR_RETURN(class_limits, store_->GetQuotaClass(kDefaultClass));
    }
    QuotaSet out;
    for (const auto& [name, dflt] : resources) {
      auto it = class_limits.find(name);
      out[name].limit = it != class_limits.end() ? it->second : dflt;
    }
    return out;
  }
  std::vector<std::string> names;
  for (const auto& [name, dflt] : resources) names.push_back(name);
  CINDER_ASSIGN_OR_RETURN(auto limits, LimitsOf(store_, options_, project, names));
  CINDER_ASSIGN_OR_RETURN(auto usage, store_->GetQuotaUsage(project));
  QuotaSet out = WithoutUsage(limits);
  for (auto& [name, detail] : out) {
    auto u = usage.find(name);
    if (u == usage.end()) continue;
    detail.in_use = u->second.in_use;
    detail.reserved = u->second.reserved;
  }
  return out;
}

Result<QuotaSet> QuotaApi::UpdateQuotaSet(const RequestContext& ctx, const std::string& project,
                                          const std::map<std::string, int64_t>& limits) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:quotas:update", ProjectTarget(project)));
  CINDER_RETURN_IF_ERROR(CheckLength(project, "quota_set_name"));
  CINDER_ASSIGN_OR_RETURN(auto resources, Resources(store_, options_));
  std::set<std::string> known;
  for (const auto& [name, dflt] : resources) known.insert(name);
  // As Cinder's quota_set format check: a bad value of a known resource first, then every
  // unknown key.
  std::vector<std::string> bad_keys;
  std::map<std::string, int64_t> valid;
  for (const auto& [key, value] : limits) {
    if (IsNonQuotaKey(key)) continue;
    if (!known.count(key)) {
      bad_keys.push_back(key);
      continue;
    }
    if (value < -1) return InvalidArgument(key + " must be >= -1");
    if (value > kDbMaxInt) return InvalidArgument(key + " must be <= " + std::to_string(kDbMaxInt));
    valid[key] = value;
  }
  if (!bad_keys.empty())
    return InvalidArgument("Invalid input received: Bad key(s) in quota set: " + Join(bad_keys, ", "));
  // A limit below what the project holds is refused (per_volume_gigabytes and -1 excepted),
  // checked in the transaction that sets it.
  auto check = [&valid](const std::map<std::string, Store::QuotaUsage>& usage) -> Status {
    for (const auto& [key, value] : valid) {
      if (key == "per_volume_gigabytes" || value == -1) continue;
      auto u = usage.find(key);
      const int64_t used = u == usage.end() ? 0 : u->second.in_use + u->second.reserved;
      if (value < used) {
        return InvalidArgument("Quota " + key +
                               " limit must be equal or greater than existing resources. "
                               "Current usage is " +
                               std::to_string(used) + " and the requested limit is " + std::to_string(value) + ".");
      }
    }
    return Status::OK();
  };
  CINDER_RETURN_IF_ERROR(store_->SetProjectQuotas(project, valid, check));
  std::vector<std::string> names;
  for (const auto& [name, dflt] : resources) names.push_back(name);
  CINDER_ASSIGN_OR_RETURN(auto now, LimitsOf(store_, options_, project, names));
  return WithoutUsage(now);
}

Status QuotaApi::DeleteQuotaSet(const RequestContext& ctx, const std::string& project) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:quotas:delete", ProjectTarget(project)));
  return store_->DeleteProjectQuotas(project);
}

Result<QuotaSet> QuotaApi::GetQuotaClass(const RequestContext& ctx, const std::string& class_name) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:quota_classes:get", {}));
  CINDER_ASSIGN_OR_RETURN(auto resources, Resources(store_, options_));
  // Cinder's get_class_quotas: the class's rows, else the class "default"'s, else the options.
  CINDER_ASSIGN_OR_RETURN(auto own, store_->GetQuotaClass(class_name));
  std::map<std::string, int64_t> defaults;
  if (class_name != kDefaultClass) {
    CINDER_ASSIGN_OR_RETURN(defaults, store_->GetQuotaClass(kDefaultClass));
  }
  QuotaSet out;
  for (const auto& [name, dflt] : resources) {
    auto it = own.find(name);
    auto d = defaults.find(name);
    out[name].limit = it != own.end() ? it->second : d != defaults.end() ? d->second : dflt;
  }
  return out;
}

Result<QuotaSet> QuotaApi::UpdateQuotaClass(const RequestContext& ctx, const std::string& class_name,
                                            const std::map<std::string, int64_t>& limits) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:quota_classes:update", {}));
  CINDER_RETURN_IF_ERROR(CheckLength(class_name, "quota_class_name"));
  CINDER_ASSIGN_OR_RETURN(auto resources, Resources(store_, options_));
  std::set<std::string> known;
  for (const auto& [name, dflt] : resources) known.insert(name);
  // As Cinder's quota_class_set schema: unknown keys first, then the values' range.
  std::vector<std::string> bad_keys;
  for (const auto& [key, value] : limits) {
    if (!known.count(key)) bad_keys.push_back(key);
  }
  if (!bad_keys.empty()) {
    return InvalidArgument("Invalid input received: Bad key(s) in quota class set: " + Join(bad_keys, ", "));
  }
  for (const auto& [key, value] : limits) {
    const std::string v = std::to_string(value);
    if (value < -1) {
      return InvalidArgument("Invalid input for field/attribute " + key + ". Value: " + v + ". " + v +
                             " is less than the minimum of -1");
    }
    if (value > kDbMaxInt) {
      return InvalidArgument("Invalid input for field/attribute " + key + ". Value: " + v + ". " + v +
                             " is greater than the maximum of " + std::to_string(kDbMaxInt));
    }
  }
  CINDER_RETURN_IF_ERROR(store_->SetQuotaClass(class_name, limits));
  return GetQuotaClass(ctx, class_name);
}

}  // namespace cinder

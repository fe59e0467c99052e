// Cinder's FilterScheduler: filters (scheduler/filters/*.py), weighers (scheduler/weights/*.py),
// their normalisation, and the capacity arithmetic of scheduler/sched_utils.py.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>
#include <unordered_map>

#include "cinder/scheduler.h"
#include "common/json.h"
#include "common/util.h"
#include "scheduler/evaluator.h"
#include "scheduler/extra_specs_ops.h"
#include "scheduler/json_query.h"

namespace cinder {

namespace {

bool IsSpecial(double v) { return std::isnan(v) || std::isinf(v); }

// Python's round(x, 2) (half to even, as std::nearbyint in the default rounding mode).
double Round2(double x) { return std::nearbyint(x * 100) / 100; }

double ParseNumber(const std::string& s, double dflt) {
  if (s == "infinite") return INFINITY;
  if (s == "unknown") return NAN;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0' ? v : dflt;
}

bool ParseTruth(const std::string& s) {
  std::string l = ToLower(s);
  return l == "true" || l == "1" || l == "yes" || l == "on";
}

// A capability as the evaluator and JSON queries see it: numbers and booleans typed.
scheduler::EvalValue Typed(const std::string& s) {
  if (s == "True" || s == "true") return {true};
  if (s == "False" || s == "false") return {false};
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (!s.empty() && end != s.c_str() && *end == '\0' && !std::isinf(v) && !std::isnan(v)) return {v};
  return {s};
}

json::Value TypedJson(const std::string& s) {
  auto t = Typed(s);
  if (auto* b = std::get_if<bool>(&t.v)) return json::Value(*b);
  if (auto* d = std::get_if<double>(&t.v)) return json::Value(*d);
  return json::Value(s);
}

json::Value NumberJson(double v) { return IsSpecial(v) ? json::Value(std::isnan(v) ? "unknown" : "infinite") : json::Value(v); }

// Parsed filter and goodness functions, by their text (a backend's functions rarely change).
class ExpressionCache {
 public:
  std::shared_ptr<const scheduler::Expression> Get(const std::string& text) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = cache_.find(text);
    if (it != cache_.end()) return it->second;
    auto parsed = scheduler::Expression::Parse(text);
    std::shared_ptr<const scheduler::Expression> e = parsed.ok() ? *parsed : nullptr;  // null: malformed
    if (cache_.size() > 1024) cache_.clear();
    cache_.emplace(text, e);
    return e;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const scheduler::Expression>> cache_;
};

// What filter and goodness functions see (driver_filter.py, goodness.py).
scheduler::EvalVars FunctionVars(const RequestSpec& spec, const PoolState& p, bool with_backend_ids) {
  scheduler::EvalVars vars;
  auto& extra = vars["extra"];
  for (const auto& [k, v] : spec.extra_specs) extra[k] = {v};
  auto& qos = vars["qos"];
  for (const auto& [k, v] : spec.qos_specs) qos[k] = {v};
  auto& volume = vars["volume"];
  for (const auto& [k, v] : spec.volume_properties) volume[k] = Typed(v);
  volume["size"] = {static_cast<double>(spec.size)};
  auto& caps = vars["capabilities"];
  for (const auto& [k, v] : p.capabilities) caps[k] = Typed(v);
  auto& stats = vars["stats"];
  stats["host"] = {p.host};
  if (with_backend_ids) stats["backend_id"] = {p.host};  // cluster_name is None: not offered
  stats["volume_backend_name"] = {p.volume_backend_name};
  stats["vendor_name"] = {p.vendor_name};
  stats["driver_version"] = {p.driver_version};
  stats["storage_protocol"] = {p.storage_protocol};
  stats["QoS_support"] = {p.qos_support};
  stats["total_capacity_gb"] = {p.total_capacity_gb};
  stats["allocated_capacity_gb"] = {p.allocated_capacity_gb};
  stats["free_capacity_gb"] = {p.free_capacity_gb};
  stats["reserved_percentage"] = {p.reserved_percentage};
  return vars;  // "updated" is a datetime in Cinder, which no expression can use
}

// ---- filters ---------------------------------------------------------------------------------

// One capability-scoped extra spec of the request, with the answers for the capability
// values seen so far (pools mostly share a handful of values).
struct SpecCheck {
  std::string capability;  // the capability it reads ("" for a bare "capabilities" key)
  std::string req;
  mutable std::vector<std::pair<std::string, bool>> memo;
};

struct Request {
  const RequestSpec& spec;
  bool thin;  // not provisioning:type=thick
  std::optional<scheduler::JsonQuery> query;
  bool query_invalid = false;
  ExpressionCache* expressions;
  std::vector<SpecCheck> specs;
};

using Filter = bool (*)(const Request&, const PoolState&);

bool AvailabilityZoneFilter(const Request& r, const PoolState& p) {
  return r.spec.availability_zone.empty() || r.spec.availability_zone == p.availability_zone;
}

bool CapacityFilter(const Request& r, const PoolState& p) {
  const double requested = static_cast<double>(r.spec.size);
  if (requested == 0) return true;
  if (r.spec.vol_exists_on && *r.spec.vol_exists_on == p.host) return true;  // holds it already
  const double free = p.free_capacity_gb, total = p.total_capacity_gb;
  if (IsSpecial(free)) return true;
  if (IsSpecial(total)) return p.reserved_percentage == 0;
  if (total <= 0) return false;
  CapacityFactors f = CalculateCapacityFactors(p, r.thin);
  if (r.thin && p.thin_provisioning_support && p.max_over_subscription_ratio >= 1) {
    if (f.total_available_capacity > 0 &&
        (p.provisioned_capacity_gb + requested) / f.total_available_capacity > p.max_over_subscription_ratio) {
      return false;
    }
    return f.virtual_free_capacity >= requested;
  }
  if (r.thin && p.thin_provisioning_support) return false;  // a ratio below 1 is invalid
  return f.virtual_free_capacity >= requested;
}

// CapabilitiesFilter (scheduler::CapabilitiesSatisfied, with the specs' scopes resolved once
// per request): every spec must match its capability; a missing capability fails.
bool CapabilitiesFilter(const Request& r, const PoolState& p) {
  for (const auto& check : r.specs) {
    auto it = p.capabilities.find(check.capability);
    if (it == p.capabilities.end()) return false;
    bool known = false, ok = false;
    for (const auto& [value, answer] : check.memo) {
      if (value == it->second) {
        known = true;
        ok = answer;
        break;
      }
    }
    if (!known) {
      ok = scheduler::MatchExtraSpec(it->second, check.req);
      if (check.memo.size() < 64) check.memo.emplace_back(it->second, ok);
    }
    if (!ok) return false;
  }
  return true;
}

bool SameBackendFilter(const Request& r, const PoolState& p) {
  if (r.spec.hint_invalid) return false;
  if (!r.spec.same_host_given) return true;
  return std::find(r.spec.same_host_pools.begin(), r.spec.same_host_pools.end(), p.host) !=
         r.spec.same_host_pools.end();
}

bool DifferentBackendFilter(const Request& r, const PoolState& p) {
  if (r.spec.hint_invalid) return false;
  if (!r.spec.different_host_given) return true;
  return std::find(r.spec.different_host_pools.begin(), r.spec.different_host_pools.end(), p.host) ==
         r.spec.different_host_pools.end();
}

bool JsonFilter(const Request& r, const PoolState& p) {
  if (!r.spec.query) return true;
  if (r.query_invalid || !r.query) return false;
  return r.query->Passes([&p](std::string_view path) -> std::optional<json::Value> {
    static const std::string kCaps = "capabilities.";
    std::string key(path);
    if (key.rfind(kCaps, 0) == 0) {
      auto it = p.capabilities.find(key.substr(kCaps.size()));
      if (it == p.capabilities.end()) return std::nullopt;
      return TypedJson(it->second);
    }
    if (key == "free_capacity_gb") return NumberJson(p.free_capacity_gb);
    if (key == "total_capacity_gb") return NumberJson(p.total_capacity_gb);
    if (key == "allocated_capacity_gb") return json::Value(p.allocated_capacity_gb);
    if (key == "provisioned_capacity_gb") return json::Value(p.provisioned_capacity_gb);
    if (key == "reserved_percentage") return json::Value(p.reserved_percentage);
    if (key == "max_over_subscription_ratio") return json::Value(p.max_over_subscription_ratio);
    if (key == "thin_provisioning_support") return json::Value(p.thin_provisioning_support);
    if (key == "thick_provisioning_support") return json::Value(p.thick_provisioning_support);
    if (key == "host" || key == "backend_id") return json::Value(p.host);
    if (key == "volume_backend_name") return json::Value(p.volume_backend_name);
    if (key == "vendor_name") return json::Value(p.vendor_name);
    if (key == "driver_version") return json::Value(p.driver_version);
    if (key == "storage_protocol") return json::Value(p.storage_protocol);
    if (key == "pool_name") return json::Value(p.pool_name);
    if (key == "service.availability_zone" || key == "availability_zone") return json::Value(p.availability_zone);
    return std::nullopt;
  });
}

bool DriverFilter(const Request& r, const PoolState& p) {
  if (!p.filter_function) return true;
  auto e = r.expressions->Get(*p.filter_function);
  if (!e) return false;  // malformed: fails the backend, as Cinder
  return e->FilterPasses(FunctionVars(r.spec, p, /*with_backend_ids=*/true));
}

bool IgnoreAttemptedHostsFilter(const Request& r, const PoolState& p) { return !r.spec.exclude.count(p.host); }

const std::map<std::string, Filter>& Filters() {
  static const std::map<std::string, Filter> kFilters = {
      {"AvailabilityZoneFilter", &AvailabilityZoneFilter},
      {"CapacityFilter", &CapacityFilter},
      {"CapabilitiesFilter", &CapabilitiesFilter},
      {"SameBackendFilter", &SameBackendFilter},
      {"DifferentBackendFilter", &DifferentBackendFilter},
      {"JsonFilter", &JsonFilter},
      {"DriverFilter", &DriverFilter},
      {"IgnoreAttemptedHostsFilter", &IgnoreAttemptedHostsFilter},
      {"RetryFilter", &IgnoreAttemptedHostsFilter},
  };
  return kFilters;
}

// ---- weighers --------------------------------------------------------------------------------

enum class Weigher { kCapacity, kAllocatedCapacity, kVolumeNumber, kGoodness, kChance };

const std::map<std::string, Weigher>& Weighers() {
  static const std::map<std::string, Weigher> kWeighers = {
      {"CapacityWeigher", Weigher::kCapacity},
      {"AllocatedCapacityWeigher", Weigher::kAllocatedCapacity},
      {"VolumeNumberWeigher", Weigher::kVolumeNumber},
      {"GoodnessWeigher", Weigher::kGoodness},
      {"ChanceWeigher", Weigher::kChance},
  };
  return kWeighers;
}

double Goodness(const Request& r, const PoolState& p) {
  if (!p.goodness_function) return 0;
  auto e = r.expressions->Get(*p.goodness_function);
  if (!e) return 0;
  auto v = e->Goodness(FunctionVars(r.spec, p, /*with_backend_ids=*/false));
  return v.ok() ? *v : 0;
}

double UniformRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(rng);
}

class FilterScheduler : public Scheduler {
 public:
  FilterScheduler(const SchedulerConfig& config, std::vector<Filter> filters, std::vector<Weigher> weighers)
      : config_(config), filters_(std::move(filters)), weighers_(std::move(weighers)) {}

  std::vector<const PoolState*> Rank(const RequestSpec& spec, const std::vector<PoolState>& pools,
                                     size_t limit) const override {
    Request r = MakeRequest(spec);
    std::vector<const PoolState*> passed;
    passed.reserve(pools.size());
    for (const auto& p : pools) {
      if (PassesAll(r, p)) passed.push_back(&p);
    }
    if (passed.size() > 1) passed = Weigh(r, std::move(passed), limit);
    if (passed.size() > limit) passed.resize(limit);
    return passed;
  }

  bool Passes(const RequestSpec& spec, const PoolState& pool) const override {
    return PassesAll(MakeRequest(spec), pool);
  }

 private:
  Request MakeRequest(const RequestSpec& spec) const {
    auto it = spec.extra_specs.find("provisioning:type");
    Request r{spec, it == spec.extra_specs.end() || it->second != "thick", std::nullopt, false, &expressions_, {}};
    for (const auto& [key, req] : spec.extra_specs) {
      // Keys of another scope ("provisioning:type", "qos:...") are not capabilities.
      const size_t colon = key.find(':');
      if (colon == std::string::npos) {
        r.specs.push_back(SpecCheck{key == "capabilities" ? std::string() : key, req, {}});
      } else if (key.compare(0, colon, "capabilities") == 0) {
        r.specs.push_back(SpecCheck{key.substr(colon + 1), req, {}});
      }
    }
    if (spec.query) {
      auto q = scheduler::JsonQuery::Parse(*spec.query);
      if (q.ok()) {
        r.query = std::move(q).value();
      } else {
        r.query_invalid = true;
      }
    }
    return r;
  }

  bool PassesAll(const Request& r, const PoolState& p) const {
    if (r.spec.exclude.count(p.host)) return false;  // tried already: never the same pool twice
    if (r.spec.resource_backend && p.backend_host != *r.spec.resource_backend) return false;
    for (Filter f : filters_) {
      if (!f(r, p)) return false;
    }
    return true;
  }

  // Weights each weigher's raw values, normalised to [0, 1] (all 0 when equal), times its
  // multiplier; the stochastic handler uses the raw sums and draws the winner.
  std::vector<const PoolState*> Weigh(const Request& r, std::vector<const PoolState*> pools, size_t limit) const {
    const size_t n = pools.size();
    std::vector<double> total(n, 0), raw(n);
    for (Weigher w : weighers_) {
      double multiplier = 1.0;
      for (size_t i = 0; i < n; ++i) {
        const PoolState& p = *pools[i];
        switch (w) {
          case Weigher::kCapacity:
            multiplier = config_.capacity_weight_multiplier;
            if (IsSpecial(p.free_capacity_gb) || IsSpecial(p.total_capacity_gb)) {
              raw[i] = multiplier > 0 ? -1 : INFINITY;
            } else {
              raw[i] = CalculateCapacityFactors(p, r.thin).virtual_free_capacity;
            }
            break;
          case Weigher::kAllocatedCapacity:
            multiplier = config_.allocated_capacity_weight_multiplier;
            raw[i] = p.allocated_capacity_gb;
            break;
          case Weigher::kVolumeNumber:
            multiplier = config_.volume_number_multiplier;
            raw[i] = static_cast<double>(p.volume_count);
            break;
          case Weigher::kGoodness:
            raw[i] = Goodness(r, p);
            break;
          case Weigher::kChance:
            raw[i] = UniformRandom();
            break;
        }
      }
      if (config_.stochastic) {
        for (size_t i = 0; i < n; ++i) total[i] += multiplier * (std::isinf(raw[i]) ? 0 : raw[i]);
        continue;
      }
      double lo = INFINITY, hi = -INFINITY, hi_finite = -INFINITY;
      for (double v : raw) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        if (!std::isinf(v)) hi_finite = std::max(hi_finite, v);
      }
      if (std::isinf(hi) && !std::isinf(hi_finite)) {
        // CapacityWeigher: "infinite" ranks above every finite pool by a margin.
        double offset = (hi_finite - lo) * 100;
        hi = hi_finite + (offset == 0 ? 10000 : offset);
        for (double& v : raw) {
          if (std::isinf(v)) v = hi;
        }
      }
      if (lo == hi || std::isinf(hi)) continue;  // all equal: every weight 0
      for (size_t i = 0; i < n; ++i) total[i] += multiplier * (raw[i] - lo) / (hi - lo);
    }
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::vector<const PoolState*> out;
    out.reserve(n);
    if (config_.stochastic) {
      double sum = 0;
      for (double w : total) sum += std::max(0.0, w);
      size_t winner = 0;
      double draw = UniformRandom() * sum, cumulative = 0;
      for (size_t i = 0; i < n; ++i) {
        cumulative += std::max(0.0, total[i]);
        if (cumulative > draw) {
          winner = i;
          break;
        }
      }
      for (size_t k = 0; k < n; ++k) out.push_back(pools[(winner + k) % n]);
      return out;
    }
    // Heaviest first; ties keep the pools' order (a stable sort, as Cinder's sorted()).
    auto heavier = [&total](size_t a, size_t b) { return total[a] > total[b] || (total[a] == total[b] && a < b); };
    if (limit < n) {
      std::partial_sort(order.begin(), order.begin() + static_cast<long>(limit), order.end(), heavier);
      order.resize(limit);
    } else {
      std::sort(order.begin(), order.end(), heavier);
    }
    for (size_t i : order) out.push_back(pools[i]);
    return out;
  }

  SchedulerConfig config_;
  std::vector<Filter> filters_;
  std::vector<Weigher> weighers_;
  mutable ExpressionCache expressions_;
};

}  // namespace

void ReadCapabilities(PoolState* p, const std::string& default_ratio) {
  const auto& caps = p->capabilities;
  auto str = [&caps](const char* key) -> std::optional<std::string> {
    auto it = caps.find(key);
    if (it == caps.end() || it->second == "None") return std::nullopt;
    return it->second;
  };
  auto num = [&](const char* key, double dflt) {
    auto v = str(key);
    return v ? ParseNumber(*v, dflt) : dflt;
  };
  p->total_capacity_gb = num("total_capacity_gb", 0);
  p->free_capacity_gb = num("free_capacity_gb", 0);
  p->allocated_capacity_gb = num("allocated_capacity_gb", 0);
  p->provisioned_capacity_gb = num("provisioned_capacity_gb", p->allocated_capacity_gb);
  p->reserved_percentage = num("reserved_percentage", 0);
  p->thin_provisioning_support = ParseTruth(str("thin_provisioning_support").value_or("False"));
  p->thick_provisioning_support = ParseTruth(str("thick_provisioning_support").value_or("False"));
  p->multiattach = ParseTruth(str("multiattach").value_or("False"));
  p->qos_support = ParseTruth(str("QoS_support").value_or("False"));
  p->volume_backend_name = str("volume_backend_name").value_or("");
  p->vendor_name = str("vendor_name").value_or("");
  p->driver_version = str("driver_version").value_or("");
  p->storage_protocol = str("storage_protocol").value_or("");
  p->pool_name = str("pool_name").value_or(p->pool_name);
  p->filter_function = str("filter_function");
  p->goodness_function = str("goodness_function");
  p->updated = str("timestamp").value_or(p->updated);
  // sched_utils.calculate_max_over_subscription_ratio.
  if (!p->thin_provisioning_support || IsSpecial(p->total_capacity_gb) || IsSpecial(p->free_capacity_gb)) {
    p->max_over_subscription_ratio = 1.0;
    return;
  }
  std::string ratio = str("max_over_subscription_ratio").value_or("");
  if (ratio.empty() || ratio == "0" || ratio == "0.0") ratio = default_ratio;
  if (ratio == "auto") {
    double used = p->total_capacity_gb - p->free_capacity_gb;
    p->max_over_subscription_ratio =
        p->provisioned_capacity_gb != 0 ? 1 + p->provisioned_capacity_gb / (used + 1) : 20;
  } else {
    p->max_over_subscription_ratio = ParseNumber(ratio, 1.0);
  }
}

CapacityFactors CalculateCapacityFactors(const PoolState& p, bool thin) {
  const double total = p.total_capacity_gb;
  const double reserved_capacity = std::floor(total * p.reserved_percentage / 100);
  const double total_reserved_available = total - reserved_capacity;
  CapacityFactors f;
  if (thin && p.thin_provisioning_support) {
    f.total_available_capacity = total_reserved_available * p.max_over_subscription_ratio;
    f.virtual_free_capacity = f.total_available_capacity - p.provisioned_capacity_gb;
  } else {
    f.total_available_capacity = total_reserved_available;
    f.virtual_free_capacity = std::min(p.free_capacity_gb, total_reserved_available - p.provisioned_capacity_gb);
  }
  f.total_available_capacity = Round2(f.total_available_capacity);
  f.virtual_free_capacity = Round2(f.virtual_free_capacity);
  return f;
}

void ConsumeFromVolume(PoolState* p, double size_gb) {
  p->allocated_capacity_gb += size_gb;
  p->provisioned_capacity_gb += size_gb;
  if (!IsSpecial(p->free_capacity_gb)) p->free_capacity_gb -= size_gb;
  p->volume_count += size_gb > 0 ? 1 : (size_gb < 0 ? -1 : 0);
}

Result<std::unique_ptr<Scheduler>> Scheduler::Create(const SchedulerConfig& config) {
  std::vector<Filter> filters;
  std::vector<std::string> unknown;
  for (const auto& name : config.filters) {
    auto it = Filters().find(name);
    if (it == Filters().end()) {
      unknown.push_back(name);
    } else {
      filters.push_back(it->second);
    }
  }
  if (!unknown.empty()) return InvalidArgument("Scheduler Host Filter " + Join(unknown, ", ") + " could not be found.");
  std::vector<Weigher> weighers;
  for (const auto& name : config.weighers) {
    auto it = Weighers().find(name);
    if (it == Weighers().end()) {
      unknown.push_back(name);
    } else {
      weighers.push_back(it->second);
    }
  }
  if (!unknown.empty()) return InvalidArgument("Scheduler Host Weigher " + Join(unknown, ", ") + " could not be found.");
  return std::unique_ptr<Scheduler>(new FilterScheduler(config, std::move(filters), std::move(weighers)));
}

}  // namespace cinder

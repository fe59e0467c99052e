// Cinder's FilterScheduler: filters (scheduler/filters/*.py), weighers (scheduler/weights/*.py),
// their normalisation, and the capacity arithmetic of scheduler/sched_utils.py.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cinder/scheduler.h"
#include "common/json.h"
#include "common/util.h"
#include "scheduler/evaluator.h"
#include "scheduler/extra_specs_ops.h"
#include "scheduler/json_query.h"

namespace cinder {

// A pool's capabilities for CapabilitiesFilter: each value in a cache-line entry, with its
// number and truth parsed once, found by the interned id of its name. One allocation: this
// header, then the entries. Immutable once built.
//
// A check reads the entry where the same capability was in the pool checked before (pools
// mostly report the same names, so it is there): its address needs nothing loaded from this
// pool first, so the miss on it overlaps the miss on the header that confirms it. Otherwise
// the name's id indexes `slot`.
struct alignas(64) PreparedCapabilities {
  struct alignas(64) Entry {
    uint32_t id = UINT32_MAX;             // the capability's interned name
    scheduler::PreparedCapability value;  // views `inline_text`, or `long_text` when longer
    char inline_text[64 - 8 - sizeof(scheduler::PreparedCapability)];
  };
  uint32_t count = 0;                                 // entries
  std::vector<std::pair<uint32_t, uint32_t>> others;  // (id, entry) beyond `slot`, sorted
  std::string long_text;
  // slot[id] is 1 + the index of the entry of the capability whose interned name is `id`, 0
  // when the pool does not report it. Ids from kDirect on (more names than any deployment
  // reports) and entries from 255 on are in `others` instead.
  static constexpr uint32_t kDirect = 256;
  uint8_t slot[kDirect] = {};

  // The entries, right after this header (whose size is a multiple of theirs).
  const Entry* entries() const {
    return std::launder(reinterpret_cast<const Entry*>(reinterpret_cast<const char*>(this) + sizeof(*this)));
  }

  // The capability named `id`, or null. `*guess` is where to look first; it is set to where
  // it was found.
  const scheduler::PreparedCapability* Find(uint32_t id, uint32_t* guess) const {
    const Entry* e = entries();
    if (*guess < count && e[*guess].id == id) return &e[*guess].value;
    uint32_t i;
    if (id < kDirect && slot[id] != 0) {
      i = slot[id] - 1u;
    } else {
      auto it = std::lower_bound(others.begin(), others.end(), std::make_pair(id, uint32_t{0}));
      if (it == others.end() || it->first != id) return nullptr;
      i = it->second;
    }
    *guess = i;
    return &e[i].value;
  }
};
static_assert(sizeof(PreparedCapabilities) % alignof(PreparedCapabilities::Entry) == 0);
static_assert(sizeof(PreparedCapabilities::Entry) == 64);

namespace {

// Capability names, interned for the life of the process: the names volume services report
// (a few tens), each given a small integer.
class CapabilityNames {
 public:
  static CapabilityNames& Get() {
    static CapabilityNames* names = new CapabilityNames;  // never destroyed: used at exit
    return *names;
  }
  // The ids of the names of `caps`, in its order, interning the new ones.
  std::vector<uint32_t> Intern(const std::map<std::string, std::string>& caps) {
    std::vector<uint32_t> out;
    out.reserve(caps.size());
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& entry : caps) {
      auto it = ids_.try_emplace(entry.first, static_cast<uint32_t>(ids_.size())).first;
      out.push_back(it->second);
    }
    return out;
  }
  // nullopt: no pool ever reported the name.
  std::optional<uint32_t> Find(std::string_view name) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = ids_.find(name);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint32_t, std::less<>> ids_;  // guarded by mu_
};

std::shared_ptr<const PreparedCapabilities> Prepare(const std::map<std::string, std::string>& caps) {
  using Entry = PreparedCapabilities::Entry;
  constexpr std::align_val_t kAlign{alignof(PreparedCapabilities)};
  void* memory = ::operator new(sizeof(PreparedCapabilities) + caps.size() * sizeof(Entry), kAlign);
  std::shared_ptr<PreparedCapabilities> p(new (memory) PreparedCapabilities, [kAlign](PreparedCapabilities* q) {
    q->~PreparedCapabilities();  // the entries are trivially destructible
    ::operator delete(q, kAlign);
  });
  Entry* const entries = reinterpret_cast<Entry*>(static_cast<char*>(memory) + sizeof(PreparedCapabilities));
  for (size_t i = 0; i < caps.size(); ++i) new (&entries[i]) Entry;
  p->count = static_cast<uint32_t>(caps.size());

  const std::vector<uint32_t> ids = CapabilityNames::Get().Intern(caps);
  constexpr size_t kInline = sizeof(Entry::inline_text);
  size_t long_length = 0;
  for (const auto& entry : caps) long_length += entry.second.size() > kInline ? entry.second.size() : 0;
  p->long_text.reserve(long_length);  // never reallocated, so the entries can view it
  uint32_t i = 0;
  for (const auto& [name, value] : caps) {
    Entry& e = entries[i];
    std::string_view text;
    if (value.size() <= kInline) {
      std::copy(value.begin(), value.end(), e.inline_text);
      text = std::string_view(e.inline_text, value.size());
    } else {
      text = std::string_view(p->long_text.data() + p->long_text.size(), value.size());
      p->long_text += value;
    }
    e.id = ids[i];
    e.value = scheduler::PrepareCapability(text);
    if (ids[i] < PreparedCapabilities::kDirect && i < 255) {
      p->slot[ids[i]] = static_cast<uint8_t>(i + 1);
    } else {
      p->others.emplace_back(ids[i], i);
    }
    ++i;
  }
  std::sort(p->others.begin(), p->others.end());
  return p;
}

// Infinite or NaN ("infinite" and "unknown" capacities).
inline bool IsSpecial(double v) { return !std::isfinite(v); }

// std::nearbyint and std::floor in the default rounding mode (to nearest, ties to even), bit
// for bit, inline: the library calls cost more than the rest of the capacity arithmetic.
constexpr double kTwo52 = 4503599627370496.0;  // from here on every double is an integer
inline double RoundToInteger(double x) {
  const double a = std::fabs(x);
  if (!(a < kTwo52)) return x;  // an integer already, infinite or NaN
  return std::copysign((a + kTwo52) - kTwo52, x);
}
inline double Floor(double x) {
  const double r = RoundToInteger(x);
  return r > x ? r - 1 : r;
}

// Python's round(x, 2) (half to even).
inline double Round2(double x) { return RoundToInteger(x * 100) / 100; }

// sched_utils.calculate_capacity_factors (CalculateCapacityFactors), inline for the filter
// and the weigher.
inline CapacityFactors Factors(const PoolState& p, bool thin) {
  const double total = p.total_capacity_gb;
  const double reserved_capacity = Floor(total * p.reserved_percentage / 100);
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

json::Value NumberJson(double v) {
  return IsSpecial(v) ? json::Value(std::isnan(v) ? "unknown" : "infinite") : json::Value(v);
}

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

// One capability-scoped extra spec of the request, parsed once for every pool.
struct CapabilityCheck {
  std::string capability;        // the capability it reads ("" for a bare "capabilities" key)
  std::optional<uint32_t> id;    // its interned name; none: no pool ever reported it
  scheduler::CompiledSpec spec;  // views the RequestSpec's text
  mutable uint32_t guess = 0;    // where it was in the pool checked last (a Request is one call's)
};

struct Request {
  const RequestSpec& spec;
  bool thin;  // not provisioning:type=thick
  std::optional<scheduler::JsonQuery> query;
  bool query_invalid = false;
  ExpressionCache* expressions;
  std::vector<CapabilityCheck> checks;
};

// What filtering one pool computed that weighing it reuses.
struct Scratch {
  std::optional<CapacityFactors> factors;  // CapacityFilter's, with the request's `thin`
};

// a == b for the short strings of zone names, without a call to memcmp.
inline bool SameShortText(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

bool AvailabilityZoneFilter(const Request& r, const PoolState& p) {
  return r.spec.availability_zone.empty() || SameShortText(r.spec.availability_zone, p.availability_zone);
}

bool CapacityFilter(const Request& r, const PoolState& p, Scratch* scratch) {
  const double requested = static_cast<double>(r.spec.size);
  if (requested == 0) return true;
  if (r.spec.vol_exists_on && *r.spec.vol_exists_on == p.host) return true;  // holds it already
  const double free = p.free_capacity_gb, total = p.total_capacity_gb;
  if (IsSpecial(free)) return true;
  if (IsSpecial(total)) return p.reserved_percentage == 0;
  if (total <= 0) return false;
  const CapacityFactors& f = scratch->factors.emplace(Factors(p, r.thin));
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
  if (const PreparedCapabilities* prepared = p.prepared.get()) {
    for (const CapabilityCheck& check : r.checks) {
      const scheduler::PreparedCapability* value = check.id ? prepared->Find(*check.id, &check.guess) : nullptr;
      if (!value || !check.spec.Matches(*value)) return false;
    }
    return true;
  }
  for (const CapabilityCheck& check : r.checks) {  // a pool ReadCapabilities never saw
    auto it = p.capabilities.find(check.capability);
    if (it == p.capabilities.end() || !check.spec.Matches(scheduler::PrepareCapability(it->second))) return false;
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

// The filters by name; Apply() runs one. A switch rather than function pointers, so that the
// compiler inlines the cheap ones into the loop over the pools.
enum class Filter {
  kAvailabilityZone,
  kCapacity,
  kCapabilities,
  kSameBackend,
  kDifferentBackend,
  kJson,
  kDriver,
  kIgnoreAttemptedHosts
};

const std::map<std::string, Filter>& Filters() {
  static const std::map<std::string, Filter> kFilters = {
      {"AvailabilityZoneFilter", Filter::kAvailabilityZone},
      {"CapacityFilter", Filter::kCapacity},
      {"CapabilitiesFilter", Filter::kCapabilities},
      {"SameBackendFilter", Filter::kSameBackend},
      {"DifferentBackendFilter", Filter::kDifferentBackend},
      {"JsonFilter", Filter::kJson},
      {"DriverFilter", Filter::kDriver},
      {"IgnoreAttemptedHostsFilter", Filter::kIgnoreAttemptedHosts},
      {"RetryFilter", Filter::kIgnoreAttemptedHosts},
  };
  return kFilters;
}

[[gnu::always_inline]] inline bool Apply(Filter f, const Request& r, const PoolState& p, Scratch* scratch) {
  switch (f) {
    case Filter::kAvailabilityZone: return AvailabilityZoneFilter(r, p);
    case Filter::kCapacity: return CapacityFilter(r, p, scratch);
    case Filter::kCapabilities: return CapabilitiesFilter(r, p);
    case Filter::kSameBackend: return SameBackendFilter(r, p);
    case Filter::kDifferentBackend: return DifferentBackendFilter(r, p);
    case Filter::kJson: return JsonFilter(r, p);
    case Filter::kDriver: return DriverFilter(r, p);
    case Filter::kIgnoreAttemptedHosts: return IgnoreAttemptedHostsFilter(r, p);
  }
  return false;
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

  using Scheduler::Rank;

  std::vector<const PoolState*> Rank(const RequestSpec& spec, const std::vector<const PoolState*>& pools,
                                     size_t limit) const override {
    const Request r = MakeRequest(spec);
    std::vector<Candidate> passed;
    passed.reserve(pools.size());
    for (const PoolState* p : pools) {
      Candidate c{p, {}};
      if (PassesAll(r, *p, &c.scratch)) passed.push_back(c);
    }
    if (passed.size() > 1) return Weigh(r, passed, limit);
    std::vector<const PoolState*> out;
    if (!passed.empty() && limit > 0) out.push_back(passed.front().pool);
    return out;
  }

  bool Passes(const RequestSpec& spec, const PoolState& pool) const override {
    Scratch scratch;
    return PassesAll(MakeRequest(spec), pool, &scratch);
  }

 private:
  struct Candidate {
    const PoolState* pool;
    Scratch scratch;
  };

  Request MakeRequest(const RequestSpec& spec) const {
    auto it = spec.extra_specs.find("provisioning:type");
    Request r{spec, it == spec.extra_specs.end() || it->second != "thick", std::nullopt, false, &expressions_, {}};
    for (const auto& [key, req] : spec.extra_specs) {
      // Keys of another scope ("provisioning:type", "qos:...") are not capabilities.
      std::string capability;
      const size_t colon = key.find(':');
      if (colon == std::string::npos) {
        if (key != "capabilities") capability = key;
      } else if (key.compare(0, colon, "capabilities") == 0) {
        capability = key.substr(colon + 1);
      } else {
        continue;
      }
      std::optional<uint32_t> id = CapabilityNames::Get().Find(capability);
      r.checks.push_back(CapabilityCheck{std::move(capability), id, scheduler::CompiledSpec(req), 0});
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

  bool PassesAll(const Request& r, const PoolState& p, Scratch* scratch) const {
    // Tried already: never the same pool twice.
    if (!r.spec.exclude.empty() && r.spec.exclude.count(p.host)) return false;
    if (r.spec.resource_backend && p.backend_host != *r.spec.resource_backend) return false;
    for (Filter f : filters_) {
      if (!Apply(f, r, p, scratch)) return false;
    }
    return true;
  }

  // Weighs each weigher's raw values, normalised to [0, 1] (all 0 when equal), times its
  // multiplier; the stochastic handler uses the raw sums and draws the winner.
  std::vector<const PoolState*> Weigh(const Request& r, const std::vector<Candidate>& pools, size_t limit) const {
    const size_t n = pools.size();
    std::vector<double> total(n, 0.0);
    auto raw = std::make_unique_for_overwrite<double[]>(n);
    for (Weigher w : weighers_) {
      const double multiplier = RawWeights(w, r, pools, raw.get());
      if (config_.stochastic) {
        for (size_t i = 0; i < n; ++i) total[i] += multiplier * (std::isinf(raw[i]) ? 0 : raw[i]);
      } else {
        AddNormalised(multiplier, raw.get(), n, total.data());
      }
    }
    const size_t count = std::min(n, limit);
    std::vector<const PoolState*> out;
    out.reserve(count);
    if (config_.stochastic) {  // the winner, then the pools after it
      const size_t winner = Draw(total);
      for (size_t k = 0; k < count; ++k) out.push_back(pools[(winner + k) % n].pool);
      return out;
    }
    // Heaviest first; ties keep the pools' order (a stable sort, as Cinder's sorted()).
    auto order = std::make_unique_for_overwrite<size_t[]>(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    auto heavier = [&total](size_t a, size_t b) { return total[a] > total[b] || (total[a] == total[b] && a < b); };
    if (count < n) {
      std::partial_sort(order.get(), order.get() + count, order.get() + n, heavier);
    } else {
      std::sort(order.get(), order.get() + n, heavier);
    }
    for (size_t k = 0; k < count; ++k) out.push_back(pools[order[k]].pool);
    return out;
  }

  // Fills raw[i] with weigher w's value for pools[i]; returns the weigher's multiplier.
  double RawWeights(Weigher w, const Request& r, const std::vector<Candidate>& pools, double* raw) const {
    const size_t n = pools.size();
    switch (w) {
      case Weigher::kCapacity: {
        const double multiplier = config_.capacity_weight_multiplier;
        for (size_t i = 0; i < n; ++i) {
          const PoolState& p = *pools[i].pool;
          if (const auto& f = pools[i].scratch.factors) {
            // CapacityFilter's, from the same figures (finite, or it would have none).
            raw[i] = f->virtual_free_capacity;
          } else if (IsSpecial(p.free_capacity_gb) || IsSpecial(p.total_capacity_gb)) {
            raw[i] = multiplier > 0 ? -1 : INFINITY;
          } else {
            raw[i] = Factors(p, r.thin).virtual_free_capacity;
          }
        }
        return multiplier;
      }
      case Weigher::kAllocatedCapacity:
        for (size_t i = 0; i < n; ++i) raw[i] = pools[i].pool->allocated_capacity_gb;
        return config_.allocated_capacity_weight_multiplier;
      case Weigher::kVolumeNumber:
        for (size_t i = 0; i < n; ++i) raw[i] = static_cast<double>(pools[i].pool->volume_count);
        return config_.volume_number_multiplier;
      case Weigher::kGoodness:
        for (size_t i = 0; i < n; ++i) raw[i] = Goodness(r, *pools[i].pool);
        return 1.0;
      case Weigher::kChance:
        for (size_t i = 0; i < n; ++i) raw[i] = UniformRandom();
        return 1.0;
    }
    return 1.0;
  }

  // Adds multiplier * (raw[i] - lo) / (hi - lo) to total[i]; nothing when all are equal.
  static void AddNormalised(double multiplier, double* raw, size_t n, double* total) {
    double lo = INFINITY, hi = -INFINITY, hi_finite = -INFINITY;
    for (size_t i = 0; i < n; ++i) {
      const double v = raw[i];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      if (!std::isinf(v)) hi_finite = std::max(hi_finite, v);
    }
    if (std::isinf(hi) && !std::isinf(hi_finite)) {
      // CapacityWeigher: "infinite" ranks above every finite pool by a margin.
      double offset = (hi_finite - lo) * 100;
      hi = hi_finite + (offset == 0 ? 10000 : offset);
      for (size_t i = 0; i < n; ++i) {
        if (std::isinf(raw[i])) raw[i] = hi;
      }
    }
    if (lo == hi || std::isinf(hi)) return;  // all equal: every weight 0
    for (size_t i = 0; i < n; ++i) total[i] += multiplier * (raw[i] - lo) / (hi - lo);
  }

  // The stochastic handler's pick: pool i with probability total[i] / sum (negatives as 0).
  static size_t Draw(const std::vector<double>& total) {
    double sum = 0;
    for (double w : total) sum += std::max(0.0, w);
    double draw = UniformRandom() * sum, cumulative = 0;
    for (size_t i = 0; i < total.size(); ++i) {
      cumulative += std::max(0.0, total[i]);
      if (cumulative > draw) return i;
    }
    return 0;
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
  p->prepared = Prepare(caps);
  // sched_utils.calculate_max_over_subscription_ratio.
  if (!p->thin_provisioning_support || IsSpecial(p->total_capacity_gb) || IsSpecial(p->free_capacity_gb)) {
    p->max_over_subscription_ratio = 1.0;
    return;
  }
  std::string ratio = str("max_over_subscription_ratio").value_or("");
  if (ratio.empty() || ratio == "0" || ratio == "0.0") ratio = default_ratio;
  if (ratio == "auto") {
    double used = p->total_capacity_gb - p->free_capacity_gb;
    p->max_over_subscription_ratio = p->provisioned_capacity_gb != 0 ? 1 + p->provisioned_capacity_gb / (used + 1) : 20;
  } else {
    p->max_over_subscription_ratio = ParseNumber(ratio, 1.0);
  }
}

CapacityFactors CalculateCapacityFactors(const PoolState& p, bool thin) { return Factors(p, thin); }

void ConsumeFromVolume(PoolState* p, double size_gb) {
  p->allocated_capacity_gb += size_gb;
  p->provisioned_capacity_gb += size_gb;
  if (!IsSpecial(p->free_capacity_gb)) p->free_capacity_gb -= size_gb;
  p->volume_count += size_gb > 0 ? 1 : (size_gb < 0 ? -1 : 0);
}

std::vector<const PoolState*> Scheduler::Rank(const RequestSpec& spec, const std::vector<PoolState>& pools,
                                              size_t limit) const {
  std::vector<const PoolState*> pointers;
  pointers.reserve(pools.size());
  for (const auto& p : pools) pointers.push_back(&p);
  return Rank(spec, pointers, limit);
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
  if (!unknown.empty())
    return InvalidArgument("Scheduler Host Weigher " + Join(unknown, ", ") + " could not be found.");
  return std::unique_ptr<Scheduler>(new FilterScheduler(config, std::move(filters), std::move(weighers)));
}

}  // namespace cinder

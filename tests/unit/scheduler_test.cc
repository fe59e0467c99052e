// The filter scheduler through its public interface, on Cinder's documented cases
// (cinder/tests/unit/scheduler/test_capacity_weigher.py, test_host_filters.py, ...).
#include <doctest/doctest.h>

#include <cmath>

#include "cinder/scheduler.h"

namespace cinder {

namespace {

PoolState Pool(const std::string& host, std::map<std::string, std::string> caps, const std::string& az = "nova") {
  PoolState p;
  p.host = host;
  p.backend_host = host.substr(0, host.find('#'));
  p.pool_name = host.substr(host.find('#') + 1);
  p.availability_zone = az;
  p.capabilities = std::move(caps);
  ReadCapabilities(&p, "20.0");
  return p;
}

std::unique_ptr<Scheduler> Make(std::vector<std::string> filters, std::vector<std::string> weighers = {}) {
  SchedulerConfig c;
  c.filters = std::move(filters);
  c.weighers = std::move(weighers);
  auto s = Scheduler::Create(c);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return std::move(s).value();
}

bool CapacityPasses(const PoolState& p, int64_t size, const std::string& provisioning = "") {
  auto s = Make({"CapacityFilter"});
  RequestSpec spec;
  spec.size = size;
  if (!provisioning.empty()) spec.extra_specs["provisioning:type"] = provisioning;
  return s->Passes(spec, p);
}

std::vector<std::string> Hosts(const std::vector<const PoolState*>& ranked) {
  std::vector<std::string> out;
  for (const auto* p : ranked) out.push_back(p->host);
  return out;
}

}  // namespace

TEST_CASE("capabilities are read as Cinder's PoolState reads a report") {
  auto p = Pool("h@b#p", {{"total_capacity_gb", "100"},
                          {"free_capacity_gb", "40.5"},
                          {"allocated_capacity_gb", "30"},
                          {"thin_provisioning_support", "True"},
                          {"max_over_subscription_ratio", "1.5"},
                          {"reserved_percentage", "5"}});
  CHECK(p.total_capacity_gb == 100);
  CHECK(p.free_capacity_gb == 40.5);
  CHECK(p.provisioned_capacity_gb == 30);  // defaults to allocated
  CHECK(p.max_over_subscription_ratio == 1.5);
  CHECK(p.reserved_percentage == 5);
  // No thin support: the ratio is 1 whatever is reported.
  CHECK(Pool("h@b#p", {{"max_over_subscription_ratio", "3"}}).max_over_subscription_ratio == 1.0);
  // "auto": 1 + provisioned / (used + 1); 20 with nothing provisioned.
  auto a = Pool("h@b#p", {{"total_capacity_gb", "100"},
                          {"free_capacity_gb", "60"},
                          {"provisioned_capacity_gb", "82"},
                          {"thin_provisioning_support", "True"},
                          {"max_over_subscription_ratio", "auto"}});
  CHECK(a.max_over_subscription_ratio == doctest::Approx(1 + 82.0 / 41));
  CHECK(Pool("h@b#p", {{"total_capacity_gb", "100"},
                       {"free_capacity_gb", "100"},
                       {"thin_provisioning_support", "True"},
                       {"max_over_subscription_ratio", "auto"}})
            .max_over_subscription_ratio == 20);
  // The global default applies when the pool reports none.
  PoolState g;
  g.capabilities = {{"total_capacity_gb", "10"}, {"free_capacity_gb", "10"}, {"thin_provisioning_support", "True"}};
  ReadCapabilities(&g, "7.5");
  CHECK(g.max_over_subscription_ratio == 7.5);
  // infinite / unknown.
  auto inf = Pool("h@b#p", {{"total_capacity_gb", "infinite"}, {"free_capacity_gb", "unknown"}});
  CHECK(std::isinf(inf.total_capacity_gb));
  CHECK(std::isnan(inf.free_capacity_gb));
}

TEST_CASE("CapacityFilter: thick, reserved, thin with over-subscription, infinite and unknown") {
  // Thick (no thin support): free space less the reserved share of the total.
  auto thick = Pool("h@b#p", {{"total_capacity_gb", "500"}, {"free_capacity_gb", "200"}, {"reserved_percentage", "5"}});
  CHECK(CapacityPasses(thick, 100));
  CHECK(CapacityPasses(thick, 200));  // min(free 200, 475 - provisioned 0) = 200
  CHECK_FALSE(CapacityPasses(thick, 201));
  auto full = Pool("h@b#p", {{"total_capacity_gb", "500"},
                             {"free_capacity_gb", "200"},
                             {"reserved_percentage", "5"},
                             {"provisioned_capacity_gb", "400"}});
  CHECK(CapacityPasses(full, 75));  // 475 - 400
  CHECK_FALSE(CapacityPasses(full, 76));
  CHECK_FALSE(CapacityPasses(Pool("h@b#p", {{"total_capacity_gb", "0"}, {"free_capacity_gb", "0"}}), 1));

  // Thin: (total - reserved) * ratio - provisioned, and the provisioned ratio.
  auto thin = Pool("h@b#p", {{"total_capacity_gb", "500"},
                             {"free_capacity_gb", "200"},
                             {"provisioned_capacity_gb", "500"},
                             {"max_over_subscription_ratio", "2.0"},
                             {"reserved_percentage", "5"},
                             {"thin_provisioning_support", "True"},
                             {"thick_provisioning_support", "False"}});
  CHECK(CapacityPasses(thin, 100));  // 475 * 2 - 500 = 450
  CHECK(CapacityPasses(thin, 450));
  CHECK_FALSE(CapacityPasses(thin, 451));
  // The same pool asked for a thick volume: free space only.
  CHECK(CapacityPasses(thin, 200, "thick") == false);  // min(200, 475 - 500) < 0
  // Ratio 1: no over-subscription.
  auto one = Pool("h@b#p", {{"total_capacity_gb", "10"},
                            {"free_capacity_gb", "10"},
                            {"provisioned_capacity_gb", "9"},
                            {"max_over_subscription_ratio", "1.0"},
                            {"thin_provisioning_support", "True"}});
  CHECK(CapacityPasses(one, 1));
  CHECK_FALSE(CapacityPasses(one, 2));
  // "auto" ratio.
  auto aut = Pool("h@b#p", {{"total_capacity_gb", "100"},
                            {"free_capacity_gb", "60"},
                            {"provisioned_capacity_gb", "82"},
                            {"max_over_subscription_ratio", "auto"},
                            {"thin_provisioning_support", "True"}});
  // ratio 3, virtual free 100 * 3 - 82 = 218
  CHECK(CapacityPasses(aut, 218));
  CHECK_FALSE(CapacityPasses(aut, 219));

  // infinite / unknown free: passes; infinite total: only without reserved space.
  CHECK(CapacityPasses(Pool("h@b#p", {{"total_capacity_gb", "infinite"}, {"free_capacity_gb", "infinite"}}), 1000));
  CHECK(CapacityPasses(Pool("h@b#p", {{"total_capacity_gb", "unknown"}, {"free_capacity_gb", "unknown"}}), 1000));
  CHECK(CapacityPasses(Pool("h@b#p", {{"total_capacity_gb", "infinite"}, {"free_capacity_gb", "100"}}), 1000));
  CHECK_FALSE(CapacityPasses(
      Pool("h@b#p", {{"total_capacity_gb", "infinite"}, {"free_capacity_gb", "100"}, {"reserved_percentage", "5"}}),
      1));
}

TEST_CASE("a claim is accounted until the next report (consume_from_volume)") {
  auto p = Pool("h@b#p", {{"total_capacity_gb", "10"},
                          {"free_capacity_gb", "10"},
                          {"max_over_subscription_ratio", "1.0"},
                          {"thin_provisioning_support", "True"}});
  for (int i = 0; i < 10; ++i) {
    REQUIRE(CapacityPasses(p, 1));
    ConsumeFromVolume(&p, 1);
  }
  CHECK_FALSE(CapacityPasses(p, 1));
  CHECK(p.allocated_capacity_gb == 10);
  CHECK(p.volume_count == 10);
  ConsumeFromVolume(&p, -1);  // a reschedule gives the space back
  CHECK(CapacityPasses(p, 1));
}

TEST_CASE("AvailabilityZoneFilter, CapabilitiesFilter, affinity hints, JsonFilter, DriverFilter") {
  std::vector<PoolState> pools = {
      Pool("a@lvm#fast",
           {{"volume_backend_name", "lvm"},
            {"tier", "gold"},
            {"total_capacity_gb", "100"},
            {"free_capacity_gb", "90"},
            {"filter_function", "volume.size < 10"}},
           "az1"),
      Pool("b@nfs#slow",
           {{"volume_backend_name", "nfs"},
            {"tier", "silver"},
            {"total_capacity_gb", "1000"},
            {"free_capacity_gb", "500"},
            {"filter_function", "None"}},
           "az2"),
  };
  auto s = Make({"AvailabilityZoneFilter", "CapabilitiesFilter", "SameBackendFilter", "DifferentBackendFilter",
                 "JsonFilter", "DriverFilter"});
  RequestSpec spec;
  spec.size = 1;
  CHECK(Hosts(s->Rank(spec, pools)).size() == 2);
  spec.availability_zone = "az2";
  CHECK(Hosts(s->Rank(spec, pools)) == std::vector<std::string>{"b@nfs#slow"});
  spec.availability_zone.clear();

  spec.extra_specs = {{"volume_backend_name", "lvm"}};
  CHECK(Hosts(s->Rank(spec, pools)) == std::vector<std::string>{"a@lvm#fast"});
  spec.extra_specs = {{"capabilities:tier", "<in> silver"}};
  CHECK(Hosts(s->Rank(spec, pools)) == std::vector<std::string>{"b@nfs#slow"});
  spec.extra_specs = {{"capabilities:missing", "x"}};
  CHECK(s->Rank(spec, pools).empty());
  spec.extra_specs = {{"other_scope:tier", "bronze"}};  // other scopes are not capabilities
  CHECK(s->Rank(spec, pools).size() == 2);
  spec.extra_specs.clear();

  spec.same_host_given = true;
  spec.same_host_pools = {"b@nfs#slow"};
  CHECK(Hosts(s->Rank(spec, pools)) == std::vector<std::string>{"b@nfs#slow"});
  spec.same_host_given = false;
  spec.different_host_given = true;
  spec.different_host_pools = {"b@nfs#slow"};
  CHECK(Hosts(s->Rank(spec, pools)) == std::vector<std::string>{"a@lvm#fast"});
  spec.different_host_given = false;
  spec.hint_invalid = true;  // a hint naming something that is not a volume id fails every pool
  CHECK(s->Rank(spec, pools).empty());
  spec.hint_invalid = false;

  spec.query = R"(["and", [">=", "$free_capacity_gb", 100], ["=", "$capabilities.tier", "silver"]])";
  CHECK(Hosts(s->Rank(spec, pools)) == std::vector<std::string>{"b@nfs#slow"});
  spec.query = "not json";
  CHECK(s->Rank(spec, pools).empty());
  spec.query.reset();

  // DriverFilter: a's filter_function admits volumes under 10 GiB; b has none.
  spec.size = 20;
  CHECK(Hosts(s->Rank(spec, pools)) == std::vector<std::string>{"b@nfs#slow"});
  pools[0].filter_function = "volume.size <";  // malformed: fails that backend, never crashes
  spec.size = 1;
  CHECK(Hosts(s->Rank(spec, pools)) == std::vector<std::string>{"b@nfs#slow"});
}

TEST_CASE("CapabilitiesFilter: hundreds of capabilities, a changed report, a pool never read") {
  std::map<std::string, std::string> caps;
  for (int i = 0; i < 600; ++i) caps["many_caps_" + std::to_string(i)] = std::to_string(i);
  auto p = Pool("a@b#p", caps);
  auto s = Make({"CapabilitiesFilter"});
  RequestSpec spec;
  for (int i : {0, 1, 254, 255, 256, 300, 599}) {
    INFO(i);
    spec.extra_specs = {{"capabilities:many_caps_" + std::to_string(i), "== " + std::to_string(i)}};
    CHECK(s->Passes(spec, p));
    spec.extra_specs = {{"many_caps_" + std::to_string(i), "s== " + std::to_string(i + 1)}};
    CHECK_FALSE(s->Passes(spec, p));
  }
  spec.extra_specs = {{"many_caps_600", "600"}};  // not reported: fails
  CHECK_FALSE(s->Passes(spec, p));
  // A new report is read again: its values count, the old ones no longer.
  p.capabilities["many_caps_0"] = "thin";
  ReadCapabilities(&p, "20.0");
  spec.extra_specs = {{"many_caps_0", "<in> hi"}};
  CHECK(s->Passes(spec, p));
  spec.extra_specs = {{"many_caps_0", "== 0"}};
  CHECK_FALSE(s->Passes(spec, p));
  // A pool ReadCapabilities never saw is filtered from its map.
  PoolState raw;
  raw.host = "r@b#p";
  raw.capabilities = {{"tier", "gold"}, {"a_name_no_report_had", "1.50"}};
  spec.extra_specs = {{"tier", "<in> ol"}, {"capabilities:a_name_no_report_had", ">= 1.5"}};
  CHECK(s->Passes(spec, raw));
  spec.extra_specs = {{"tier", "silver"}};
  CHECK_FALSE(s->Passes(spec, raw));
  // Copies share what was prepared.
  PoolState copy = p;
  spec.extra_specs = {{"many_caps_599", "599"}};
  CHECK(s->Passes(spec, copy));
}

TEST_CASE("weighers: capacity (thin and thick), allocated, volume number, goodness, normalised and combined") {
  std::vector<PoolState> pools = {
      Pool("h1@b#p", {{"total_capacity_gb", "1024"},
                      {"free_capacity_gb", "1024"},
                      {"allocated_capacity_gb", "0"},
                      {"provisioned_capacity_gb", "0"}}),
      Pool("h2@b#p", {{"total_capacity_gb", "2048"},
                      {"free_capacity_gb", "300"},
                      {"allocated_capacity_gb", "1748"},
                      {"provisioned_capacity_gb", "1748"}}),
      Pool("h3@b#p", {{"total_capacity_gb", "512"},
                      {"free_capacity_gb", "256"},
                      {"allocated_capacity_gb", "256"},
                      {"provisioned_capacity_gb", "256"}}),
      Pool("h4@b#p", {{"total_capacity_gb", "2048"},
                      {"free_capacity_gb", "1848"},
                      {"allocated_capacity_gb", "200"},
                      {"provisioned_capacity_gb", "200"},
                      {"thin_provisioning_support", "True"},
                      {"max_over_subscription_ratio", "2.0"}}),
  };
  RequestSpec spec;
  spec.size = 1;
  // Virtual free: h1 1024, h2 300, h3 256, h4 2048 * 2 - 200 = 3896 (thin).
  CHECK(Hosts(Make({}, {"CapacityWeigher"})->Rank(spec, pools)) ==
        std::vector<std::string>{"h4@b#p", "h1@b#p", "h2@b#p", "h3@b#p"});
  // Thick requested: h4 counts its free space only (min(1848, 2048 - 200)).
  spec.extra_specs = {{"provisioning:type", "thick"}};
  CHECK(Make({}, {"CapacityWeigher"})->Rank(spec, pools).front()->host == "h4@b#p");
  spec.extra_specs.clear();
  // Allocated capacity: least allocated first (multiplier -1).
  CHECK(Hosts(Make({}, {"AllocatedCapacityWeigher"})->Rank(spec, pools)) ==
        std::vector<std::string>{"h1@b#p", "h4@b#p", "h3@b#p", "h2@b#p"});
  // Volume number: fewest volumes first.
  pools[0].volume_count = 5;
  pools[1].volume_count = 1;
  pools[2].volume_count = 3;
  pools[3].volume_count = 9;
  CHECK(Make({}, {"VolumeNumberWeigher"})->Rank(spec, pools).front()->host == "h2@b#p");
  // Goodness: the function's value, 0 when unset, out of range or broken.
  pools[0].goodness_function = "50";
  pools[1].goodness_function = "capabilities.total_capacity_gb > 1000 ? 100 : 0";
  pools[2].goodness_function = "150";  // out of range: 0
  pools[3].goodness_function = "1 +";  // malformed: 0
  CHECK(Make({}, {"GoodnessWeigher"})->Rank(spec, pools).front()->host == "h2@b#p");
  // All equal: every weight 0, the input order is kept.
  for (auto& p : pools) p.goodness_function.reset();
  CHECK(Hosts(Make({}, {"GoodnessWeigher"})->Rank(spec, pools)) ==
        std::vector<std::string>{"h1@b#p", "h2@b#p", "h3@b#p", "h4@b#p"});
  // Combined: each normalised to [0, 1] and multiplied before summing.
  SchedulerConfig c;
  c.filters = {};
  c.weighers = {"CapacityWeigher", "VolumeNumberWeigher"};
  c.volume_number_multiplier = -10;  // volume count dominates
  auto combined = Scheduler::Create(c);
  REQUIRE(combined.ok());
  CHECK((*combined)->Rank(spec, pools).front()->host == "h2@b#p");
  // "infinite" and "unknown" pools get the lowest capacity weight (Cinder bug #1350638), with
  // either sign of the multiplier.
  pools[0].capabilities["free_capacity_gb"] = "infinite";
  pools[0].capabilities["total_capacity_gb"] = "infinite";
  ReadCapabilities(&pools[0], "20.0");
  CHECK(Make({}, {"CapacityWeigher"})->Rank(spec, pools).back()->host == "h1@b#p");
  c.weighers = {"CapacityWeigher"};
  c.capacity_weight_multiplier = -1;  // fullest first: the infinite pool still comes last
  auto stacking = Scheduler::Create(c);
  REQUIRE(stacking.ok());
  CHECK((*stacking)->Rank(spec, pools).back()->host == "h1@b#p");
}

TEST_CASE("stochastic weighing picks pools in proportion to their weights") {
  std::vector<PoolState> pools = {
      Pool("big@b#p", {{"total_capacity_gb", "1000"}, {"free_capacity_gb", "900"}}),
      Pool("small@b#p", {{"total_capacity_gb", "1000"}, {"free_capacity_gb", "100"}}),
  };
  SchedulerConfig c;
  c.filters = {};
  c.weighers = {"CapacityWeigher"};
  c.stochastic = true;
  auto s = Scheduler::Create(c);
  REQUIRE(s.ok());
  RequestSpec spec;
  spec.size = 1;
  int big = 0;
  for (int i = 0; i < 2000; ++i) big += (*s)->Rank(spec, pools).front()->host == "big@b#p";
  CHECK(big > 1600);  // expected 1800
  CHECK(big < 1950);
}

TEST_CASE("unknown filters and weighers are named; tried pools are never chosen again") {
  SchedulerConfig c;
  c.filters = {"CapacityFilter", "NoSuchFilter"};
  CHECK(Scheduler::Create(c).status().message() == "Scheduler Host Filter NoSuchFilter could not be found.");
  c.filters = {};
  c.weighers = {"Heavy"};
  CHECK(Scheduler::Create(c).status().message() == "Scheduler Host Weigher Heavy could not be found.");
  std::vector<PoolState> pools = {Pool("a@b#p", {{"total_capacity_gb", "10"}, {"free_capacity_gb", "10"}}),
                                  Pool("c@b#p", {{"total_capacity_gb", "10"}, {"free_capacity_gb", "5"}})};
  RequestSpec spec;
  spec.size = 1;
  spec.exclude = {"a@b#p"};
  CHECK(Hosts(Make({"CapacityFilter"}, {"CapacityWeigher"})->Rank(spec, pools)) == std::vector<std::string>{"c@b#p"});
}

}  // namespace cinder

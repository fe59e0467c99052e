// Placement decisions per second, in process: the default filters (AvailabilityZone, Capacity,
// Capabilities) and weigher (Capacity) over N pools, one thread.
//   build/bin/bench_placement [seconds per size, default 2] [--pools=100,1000,...]
//                             [--decisions=N] [--specs=none|one|many]
// --decisions runs exactly N decisions per size instead of timing (repeatable instruction
// counts under valgrind --tool=callgrind). --specs picks the volume type's extra specs: none,
// one (default: capabilities:tier "<in> gold silver") or many (six specs, one per kind of
// operator). NO_SPECS=1 in the environment is --specs=none.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cinder/scheduler.h"

using namespace cinder;

namespace {

std::vector<PoolState> MakePools(int n) {
  std::vector<PoolState> pools;
  pools.reserve(n);
  for (int i = 0; i < n; ++i) {
    PoolState p;
    p.host = "host" + std::to_string(i / 4) + "@backend" + std::to_string(i % 4) + "#pool";
    p.backend_host = p.host.substr(0, p.host.find('#'));
    p.availability_zone = i % 10 == 0 ? "az2" : "nova";
    const bool thin = i % 2 == 0;
    p.capabilities = {
        {"total_capacity_gb", std::to_string(1000 + i % 97 * 10)},
        {"free_capacity_gb", std::to_string(200 + i % 89 * 7)},
        {"allocated_capacity_gb", std::to_string(i % 50 * 3)},
        {"thin_provisioning_support", thin ? "True" : "False"},
        {"thick_provisioning_support", thin ? "False" : "True"},
        {"max_over_subscription_ratio", i % 3 == 0 ? "auto" : "20.0"},
        {"reserved_percentage", std::to_string(i % 5)},
        {"volume_backend_name", "backend" + std::to_string(i % 4)},
        {"vendor_name", "libcinder"},
        {"storage_protocol", "iSCSI"},
        {"QoS_support", "False"},
        {"multiattach", "False"},
        {"tier", i % 3 == 0 ? "gold" : "silver"},
    };
    ReadCapabilities(&p, "20.0");
    pools.push_back(std::move(p));
  }
  return pools;
}

std::map<std::string, std::string> Specs(const std::string& which) {
  if (which == "none") return {};
  if (which == "many") {
    return {{"capabilities:tier", "<in> gold silver"},
            {"volume_backend_name", "<or> backend0 <or> backend1 <or> backend2 <or> backend3"},
            {"capabilities:storage_protocol", "iSCSI"},
            {"QoS_support", "<is> False"},
            {"capabilities:total_capacity_gb", ">= 500"},
            {"vendor_name", "s== libcinder"},
            {"provisioning:type", "thin"}};  // another scope: not a capability
  }
  return {{"capabilities:tier", "<in> gold silver"}};
}

std::vector<int> ParseSizes(const char* list) {
  std::vector<int> sizes;
  for (const char* p = list; *p;) {
    sizes.push_back(std::atoi(p));
    p = std::strchr(p, ',');
    if (!p) break;
    ++p;
  }
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  long fixed_decisions = 0;
  std::vector<int> sizes = {100, 250, 500, 1000, 2000, 4000};
  std::string specs = std::getenv("NO_SPECS") ? "none" : "one";
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strncmp(a, "--pools=", 8) == 0) {
      sizes = ParseSizes(a + 8);
    } else if (std::strncmp(a, "--decisions=", 12) == 0) {
      fixed_decisions = std::atol(a + 12);
    } else if (std::strncmp(a, "--specs=", 8) == 0) {
      specs = a + 8;
    } else if (a[0] != '-') {
      seconds = std::atof(a);
    } else {
      std::fprintf(stderr, "usage: %s [seconds] [--pools=N,N,...] [--decisions=N] [--specs=none|one|many]\n", argv[0]);
      return 1;
    }
  }
  auto scheduler = Scheduler::Create(SchedulerConfig{});
  if (!scheduler.ok()) {
    std::fprintf(stderr, "%s\n", scheduler.status().ToString().c_str());
    return 1;
  }
  std::printf("%8s %14s %12s %10s\n", "pools", "decisions/s", "us/decision", "ns/pool");
  for (int n : sizes) {
    auto pools = MakePools(n);
    RequestSpec spec;
    spec.size = 1;
    spec.availability_zone = "nova";
    spec.extra_specs = Specs(specs);
    const auto pristine = pools;
    long decisions = 0;
    double elapsed = 0;
    while (fixed_decisions > 0 ? decisions < fixed_decisions : elapsed < seconds) {
      // A capability report every 2048 decisions restores the figures (untimed), so that the
      // pools never fill up whatever the run's length.
      pools = pristine;
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < 2048 && (fixed_decisions == 0 || decisions < fixed_decisions); ++i) {
        auto ranked = (*scheduler)->Rank(spec, pools, 8);  // as cinder-scheduler asks
        if (ranked.empty()) {
          std::fprintf(stderr, "no pool passes after %ld decisions over %d pools\n", decisions, n);
          return 2;
        }
        // What the service does with the winner until the next report.
        ConsumeFromVolume(const_cast<PoolState*>(ranked.front()), 1);
        ++decisions;
      }
      elapsed += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    const double rate = decisions / elapsed;
    std::printf("%8d %14.0f %12.2f %10.1f\n", n, rate, 1e6 / rate, 1e9 / rate / n);
  }
  return 0;
}

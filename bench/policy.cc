// What a policy decision costs: Policy::Allowed and Enforce on Cinder's rules, for the personas,
// with a policy file present (so every call also asks whether it is time to look at the file),
// from one thread and from several at once.
//   bench_policy [ITERATIONS] [THREADS]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/policy.h"

using namespace cinder;

namespace {

RequestContext Ctx(const std::string& project, std::vector<std::string> roles) {
  RequestContext ctx;
  ctx.user_id = "4f1d2c9e8b7a4d3c9e8b7a4d3c9e8b7a";
  ctx.project_id = project;
  ctx.roles = std::move(roles);
  ctx.is_admin = ctx.roles.front() == "admin";
  return ctx;
}

struct Case {
  const char* what;
  RequestContext ctx;
  const char* rule;
  auth::PolicyTarget target;
  bool enforce;  // Enforce (a denial builds its message) rather than Allowed
};

// Nanoseconds per call of one case, over `n` calls on each of `threads` threads.
double Measure(const auth::Policy& policy, const Case& c, int n, int threads) {
  std::atomic<int> passed{0};
  auto body = [&] {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      ok += c.enforce ? policy.Enforce(c.ctx, c.rule, c.target).ok() : policy.Allowed(c.ctx, c.rule, c.target);
    }
    passed += ok;
  };
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(body);
  for (auto& t : pool) t.join();
  double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  return ns / n;  // wall time per call on each thread
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 2000000;
  int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  std::string dir = std::filesystem::temp_directory_path() / ("bench-policy-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/policy.yaml") << "volume:create_snapshot: rule:xena_system_admin_or_project_member\n";
  Options options;
  options.auth.policy_file = dir + "/policy.yaml";
  auto policy = auth::Policy::Open(options);
  if (!policy.ok()) {
    std::fprintf(stderr, "%s\n", policy.status().ToString().c_str());
    return 1;
  }
  RequestContext reader = Ctx("e1c0a7f35b2d4c6e8f9a0b1c2d3e4f50", {"reader"});
  RequestContext member = Ctx("e1c0a7f35b2d4c6e8f9a0b1c2d3e4f50", {"member", "reader"});
  RequestContext admin = Ctx("0a0b0c0d0e0f40414243444546474849", {"admin", "member", "reader"});
  auth::PolicyTarget volume = {{"project_id", member.project_id},
                               {"user_id", member.user_id},
                               {"id", "7d0f3a52-1b2c-4d5e-8f90-a1b2c3d4e5f6"},
                               {"status", "available"}};
  std::vector<Case> cases = {
      {"reader volume:get (allowed)", reader, "volume:get", volume, false},
      {"member volume:extend (allowed)", member, "volume:extend", volume, false},
      {"member volume:create, empty target (allowed)", member, "volume:create", {}, false},
      {"admin admin_api (allowed)", admin, "volume_extension:volume_admin_actions:reset_status", volume, false},
      {"member reset_status (denied)", member, "volume_extension:volume_admin_actions:reset_status", volume, false},
      {"reader volume:create, Enforce (denied, message built)", reader, "volume:create", {}, true},
      {"member volume:extend, Enforce (allowed)", member, "volume:extend", volume, true},
  };
  std::printf("%d calls per thread\n", n);
  for (const Case& c : cases) {
    double one = Measure(**policy, c, n, 1);
    double many = Measure(**policy, c, n, threads);
    std::printf("%-58s %7.1f ns/call   %d threads: %7.1f ns/call each\n", c.what, one, threads, many);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

// What authenticating a request costs in the API process: AuthManager::ContextForToken on a
// token whose validation is cached (the common case), and on one that is not (cache_time 0:
// the database is read every time), on a SQLite database in a temporary folder; a password
// login, and the bcrypt check alone, so that what issuing costs beyond the hash shows.
//
//   build/bin/bench_auth [CALLS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "auth/password.h"
#include "cinder/auth_manager.h"
#include "cinder/service.h"

namespace {

double NsPerCall(cinder::AuthManager& auth, const std::string& token, int calls) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    auto ctx = auth.ContextForToken(token);
    if (!ctx.ok()) std::abort();
  }
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / calls;
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 200000;
  char tmpl[] = "/tmp/bench-auth-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  cinder::Options o = cinder::DefaultOptions(dir);
  o.auth_strategy = "keystone";
  o.auth.password_hash_rounds = 4;
  o.origin = dir + "/cinder.conf";
  if (!cinder::DbSync(o).ok()) return 1;
  auto auth = cinder::AuthManager::Open(o);
  cinder::AuthManager::Bootstrap b;
  b.admin_password = "pw";
  if (!auth.ok() || !(*auth)->RunBootstrap(b).ok()) return 1;
  cinder::AuthRequest r;
  r.methods = {"password"};
  r.user_name = "admin";
  r.user_domain_name = "Default";
  r.password = "pw";
  r.project_name = "admin";
  r.project_domain_name = "Default";
  auto issued = (*auth)->Authenticate(r);
  if (!issued.ok()) return 1;
  (void)NsPerCall(**auth, issued->token, 1000);  // warm
  std::printf("ContextForToken, cached:   %8.0f ns/call (%d calls)\n", NsPerCall(**auth, issued->token, calls), calls);
  o.auth.token_cache_time = 0;
  auto uncached = cinder::AuthManager::Open(o);
  if (!uncached.ok()) return 1;
  std::printf("ContextForToken, uncached: %8.0f ns/call (%d calls)\n",
              NsPerCall(**uncached, issued->token, calls / 100), calls / 100);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    if (!(*auth)->Authenticate(r).ok()) return 1;
  }
  std::printf("Authenticate (password, bcrypt cost 4): %.2f ms/call\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / 200);
  for (int cost : {4, 12}) {
    auto hash = cinder::auth::HashPassword("pw", "bcrypt", cost);
    const int n = cost == 4 ? 200 : 10;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      if (!cinder::auth::CheckPassword("pw", *hash)) return 1;
    }
    std::printf("bcrypt check alone, cost %d: %.2f ms\n", cost,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / n);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

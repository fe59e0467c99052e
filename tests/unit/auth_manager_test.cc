// The AuthManager over SQLite and PostgreSQL: bootstrap, tokens, roles (implied), revocation
// seen by another AuthManager on the same database within a second, lockout, concurrency.
#include <atomic>
#include <chrono>
#include <thread>

#include "auth/password.h"
#include "cinder/auth_manager.h"
#include "test_util.h"

namespace cinder {
namespace {

constexpr char kAdminPassword[] = "admin-pw";

Options AuthOptionsFor(const std::string& url, const std::string& dir) {
  Options o = DefaultOptions(dir);
  o.database_connection = url;
  o.auth_strategy = "keystone";
  o.auth.password_hash_rounds = 4;
  o.auth.token_cache_time = 60;
  o.origin = dir + "/cinder.conf";  // no policy.yaml beside it: the defaults
  return o;
}

AuthRequest Password(const std::string& user, const std::string& password, const std::string& project) {
  AuthRequest r;
  r.methods = {"password"};
  r.user_name = user;
  r.user_domain_name = "Default";
  r.password = password;
  if (!project.empty()) {
    r.project_name = project;
    r.project_domain_name = "Default";
  }
  return r;
}

struct World {
  std::unique_ptr<AuthManager> auth;
  RequestContext admin;
  std::string project_a;
};

World Setup(const Options& o) {
  auto store = testing::OpenMigratedStore(o.DatabaseUrl());
  World w;
  auto auth = AuthManager::Open(o);
  REQUIRE(auth.ok());
  w.auth = std::move(*auth);
  AuthManager::Bootstrap b;
  b.admin_password = kAdminPassword;
  REQUIRE(w.auth->RunBootstrap(b).ok());
  REQUIRE(w.auth->RunBootstrap(b).ok());  // idempotent
  auto issued = w.auth->Authenticate(Password("admin", kAdminPassword, "admin"));
  REQUIRE(issued.ok());
  auto ctx = w.auth->ContextForToken(issued->token);
  REQUIRE(ctx.ok());
  w.admin = *ctx;
  Project p;
  p.name = "proj-a";
  auto made = w.auth->CreateProject(w.admin, p);
  REQUIRE(made.ok());
  w.project_a = made->id;
  return w;
}

std::string RoleId(AuthManager& auth, const RequestContext& admin, const std::string& name) {
  IdentityFilter f;
  f.name = name;
  auto roles = auth.ListRoles(admin, f);
  REQUIRE(roles.ok());
  REQUIRE(roles->size() == 1);
  return (*roles)[0].id;
}

std::string AddUser(World& w, const std::string& name, const std::string& role) {
  User u;
  u.name = name;
  auto made = w.auth->CreateUser(w.admin, u, name + "-pw");
  REQUIRE(made.ok());
  RoleAssignment a;
  a.user_id = made->id;
  a.project_id = w.project_a;
  a.role_id = RoleId(*w.auth, w.admin, role);
  REQUIRE(w.auth->Grant(w.admin, a).ok());
  return made->id;
}

TEST_CASE("AuthManager: tokens, roles and revocation on SQLite and PostgreSQL") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    Options o = AuthOptionsFor(url, dir.path());
    World w = Setup(o);

    SUBCASE("the admin's token carries admin and the roles it implies; is_admin follows context_is_admin") {
      std::set<std::string> roles(w.admin.roles.begin(), w.admin.roles.end());
      CHECK(roles == std::set<std::string>{"admin", "member", "reader"});
      CHECK(w.admin.is_admin);
      CHECK(w.admin.project_name == "admin");
      CHECK(w.admin.user_domain_id == "default");
    }

    SUBCASE("a member is a member and a reader, not an admin; a wrong password, user or scope is one 401") {
      AddUser(w, "alice", "member");
      auto t = w.auth->Authenticate(Password("alice", "alice-pw", "proj-a"));
      REQUIRE(t.ok());
      CHECK(t->token.size() == 43);
      auto ctx = w.auth->ContextForToken(t->token);
      REQUIRE(ctx.ok());
      CHECK_FALSE(ctx->is_admin);
      CHECK(ctx->project_id == w.project_a);
      std::set<std::string> roles(ctx->roles.begin(), ctx->roles.end());
      CHECK(roles == std::set<std::string>{"member", "reader"});
      auto wrong = w.auth->Authenticate(Password("alice", "nope", "proj-a"));
      auto nobody = w.auth->Authenticate(Password("nobody", "nope", "proj-a"));
      auto noscope = w.auth->Authenticate(Password("alice", "alice-pw", "admin"));
      for (const auto* r : {&wrong, &nobody, &noscope}) {
        REQUIRE_FALSE(r->ok());
        CHECK(r->status().code() == Code::kUnauthenticated);
        CHECK(r->status().message() == wrong.status().message());
      }
      // Only an admin administers.
      User u;
      u.name = "mallory";
      CHECK(w.auth->CreateUser(*ctx, u, "x").status().code() == Code::kPermissionDenied);
    }

    SUBCASE("a revocation is seen by another AuthManager on the same database within a second") {
      AddUser(w, "bob", "member");
      auto other = AuthManager::Open(o);  // another API process
      REQUIRE(other.ok());
      auto t = w.auth->Authenticate(Password("bob", "bob-pw", "proj-a"));
      REQUIRE(t.ok());
      REQUIRE((*other)->ContextForToken(t->token).ok());  // cached there now
      auto bob = w.auth->ContextForToken(t->token);
      REQUIRE(w.auth->RevokeToken(*bob, t->token).ok());
      CHECK(w.auth->ContextForToken(t->token).status().code() == Code::kNotFound);
      const auto start = std::chrono::steady_clock::now();
      while ((*other)->ContextForToken(t->token).ok()) {
        REQUIRE(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }

    SUBCASE("a new password, a disabled user, a removed role and a disabled project end tokens") {
      std::string carol = AddUser(w, "carol", "member");
      auto t1 = w.auth->Authenticate(Password("carol", "carol-pw", "proj-a"));
      REQUIRE(t1.ok());
      REQUIRE(w.auth->UpdateUser(w.admin, carol, {{"password", "carol-pw2"}}).ok());
      CHECK_FALSE(w.auth->ContextForToken(t1->token).ok());
      CHECK_FALSE(w.auth->Authenticate(Password("carol", "carol-pw", "proj-a")).ok());
      auto t2 = w.auth->Authenticate(Password("carol", "carol-pw2", "proj-a"));
      REQUIRE(t2.ok());
      RoleAssignment a;
      a.user_id = carol;
      a.project_id = w.project_a;
      a.role_id = RoleId(*w.auth, w.admin, "member");
      REQUIRE(w.auth->Revoke(w.admin, a).ok());
      CHECK_FALSE(w.auth->ContextForToken(t2->token).ok());
      CHECK(w.auth->Revoke(w.admin, a).code() == Code::kNotFound);
      REQUIRE(w.auth->Grant(w.admin, a).ok());
      auto t3 = w.auth->Authenticate(Password("carol", "carol-pw2", "proj-a"));
      REQUIRE(t3.ok());
      REQUIRE(w.auth->UpdateProject(w.admin, w.project_a, {{"enabled", "false"}}).ok());
      CHECK_FALSE(w.auth->ContextForToken(t3->token).ok());
      REQUIRE(w.auth->UpdateProject(w.admin, w.project_a, {{"enabled", "true"}}).ok());
      auto t4 = w.auth->Authenticate(Password("carol", "carol-pw2", "proj-a"));
      REQUIRE(t4.ok());
      REQUIRE(w.auth->UpdateUser(w.admin, carol, {{"enabled", "false"}}).ok());
      CHECK_FALSE(w.auth->ContextForToken(t4->token).ok());
      CHECK(w.auth->Authenticate(Password("carol", "carol-pw2", "proj-a")).status().code() == Code::kUnauthenticated);
    }

    SUBCASE("rescoping with a token keeps the user and the expiry") {
      AddUser(w, "dora", "reader");
      auto unscoped = w.auth->Authenticate(Password("dora", "dora-pw", ""));
      REQUIRE(unscoped.ok());
      CHECK_FALSE(unscoped->info.project);
      CHECK(unscoped->info.roles.empty());
      AuthRequest r;
      r.methods = {"token"};
      r.token = unscoped->token;
      r.project_id = w.project_a;
      auto scoped = w.auth->Authenticate(r);
      REQUIRE(scoped.ok());
      CHECK(scoped->info.user.name == "dora");
      CHECK(scoped->info.expires_at <= unscoped->info.expires_at);
      CHECK(scoped->info.audit_chain_id == unscoped->info.audit_id);
    }

    SUBCASE("64 logins at once all succeed") {
      AddUser(w, "erin", "member");
      std::atomic<int> ok{0};
      std::vector<std::thread> threads;
      for (int i = 0; i < 64; ++i) {
        threads.emplace_back([&] {
          if (w.auth->Authenticate(Password("erin", "erin-pw", "proj-a")).ok()) ++ok;
        });
      }
      for (auto& t : threads) t.join();
      CHECK(ok == 64);
    }
  }
}

TEST_CASE("AuthManager: failed logins lock an account for lockout_duration") {
  testing::TempDir dir;
  Options o = AuthOptionsFor("sqlite:///" + dir.path() + "/cinder.sqlite", dir.path());
  o.auth.lockout_failure_attempts = 2;
  o.auth.lockout_duration = 1;
  World w = Setup(o);
  AddUser(w, "frank", "member");
  CHECK_FALSE(w.auth->Authenticate(Password("frank", "x", "proj-a")).ok());
  CHECK_FALSE(w.auth->Authenticate(Password("frank", "y", "proj-a")).ok());
  CHECK(w.auth->Authenticate(Password("frank", "frank-pw", "proj-a")).status().code() == Code::kUnauthenticated);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(w.auth->Authenticate(Password("frank", "frank-pw", "proj-a")).ok());
}

TEST_CASE("passwords: bcrypt and PBKDF2 hashes check in constant time and never equal the password") {
  for (const char* algorithm : {"bcrypt", "pbkdf2_sha512"}) {
    CAPTURE(algorithm);
    auto h = auth::HashPassword("correct horse", algorithm, std::string(algorithm) == "bcrypt" ? 4 : 1000);
    REQUIRE(h.ok());
    CHECK(h->find("correct horse") == std::string::npos);
    CHECK(auth::CheckPassword("correct horse", *h));
    CHECK_FALSE(auth::CheckPassword("correct horsE", *h));
    CHECK_FALSE(auth::CheckPassword("", *h));
    auto again = auth::HashPassword("correct horse", algorithm, std::string(algorithm) == "bcrypt" ? 4 : 1000);
    CHECK(*again != *h);  // salted
  }
  CHECK_FALSE(auth::CheckPassword("x", "$garbage$"));
  CHECK_FALSE(auth::CheckPassword("x", ""));
  CHECK(auth::NewToken() != auth::NewToken());
  CHECK(auth::Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace cinder

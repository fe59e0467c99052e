// The policy engine: oslo.policy's rule language (oslo_policy/tests/test_parser.py and
// test_checks.py's cases), Cinder's and Keystone's defaults for the personas, enforce_new_defaults,
// and the policy file: overrides, reload on change, a broken file keeping the last good rules.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "auth/policy.h"
#include "auth/policy_internal.h"
#include "cinder/env.h"
#include "test_util.h"

namespace cinder::auth {

namespace {

using policy_internal::Check;
using policy_internal::ParseRule;
using policy_internal::RuleSet;

// The rule's tree as oslo.policy prints it; fails the test when it does not parse.
std::string Tree(std::string_view text) {
  INFO("rule: ", std::string(text));
  auto c = ParseRule(text);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return c->ToString();
}

bool ParseFails(std::string_view text) {
  auto c = ParseRule(text);
  if (!c.ok()) CHECK(c.status().code() == Code::kInvalidArgument);
  return !c.ok();
}

RequestContext Ctx(const std::string& project, std::vector<std::string> roles, const std::string& user = "u1") {
  RequestContext ctx;
  ctx.user_id = user;
  ctx.project_id = project;
  ctx.roles = std::move(roles);
  ctx.is_admin = std::find(ctx.roles.begin(), ctx.roles.end(), "admin") != ctx.roles.end();
  return ctx;
}

// Evaluates one rule on its own (rule: references find `others`).
bool Passes(std::string_view text, const RequestContext& ctx, const PolicyTarget& target = {},
            const std::map<std::string, std::string>& others = {}) {
  INFO("rule: ", std::string(text));
  RuleSet rules;
  for (const auto& [name, body] : others) {
    auto c = ParseRule(body);
    REQUIRE(c.ok());
    rules.index.emplace(name, static_cast<int>(rules.checks.size()));
    rules.names.push_back(name);
    rules.checks.push_back(std::move(*c));
  }
  auto c = ParseRule(text);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  std::function<void(Check*)> resolve = [&](Check* x) {
    if (x->type == policy_internal::CheckType::kRule) x->rule = rules.Find(x->match);
    for (Check& child : x->children) resolve(&child);
  };
  resolve(&*c);
  for (Check& other : rules.checks) resolve(&other);
  return policy_internal::Evaluate(*c, rules, ctx, target);
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

// Moves the file's mtime on, as a later edit would (two writes within a clock tick may share one).
void BumpMtime(const std::string& path) {
  namespace fs = std::filesystem;
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(2));
}

Options PolicyOptions(const std::string& policy_file, Env* env = nullptr) {
  Options o;
  o.auth.policy_file = policy_file;
  o.env = env;
  return o;
}

std::shared_ptr<Policy> OpenPolicy(const Options& options) {
  auto p = Policy::Open(options);
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  return *p;
}

}  // namespace

// --- The language --------------------------------------------------------------------------------

TEST_CASE("policy language: @, ! and the empty rule") {
  RequestContext nobody = Ctx("p", {});
  CHECK(Passes("@", nobody));
  CHECK_FALSE(Passes("!", nobody));
  CHECK(Passes("", nobody));
  CHECK(Tree("") == "@");
  CHECK(Tree("!") == "!");
  CHECK_FALSE(Passes("not @", nobody));
  CHECK(Passes("not !", nobody));
}

TEST_CASE("policy language: role: matches the context's roles without regard to case") {
  CHECK(Passes("role:admin", Ctx("p", {"Admin"})));
  CHECK(Passes("role:ADMIN", Ctx("p", {"admin"})));
  CHECK_FALSE(Passes("role:admin", Ctx("p", {"member", "reader"})));
  // The role may come from the target.
  CHECK(Passes("role:%(role_name)s", Ctx("p", {"Auditor"}), {{"role_name", "auditor"}}));
  CHECK_FALSE(Passes("role:%(missing)s", Ctx("p", {"admin"})));
}

TEST_CASE("policy language: and, or and not, in oslo.policy's precedence") {
  CHECK(Tree("role:a and role:b") == "(role:a and role:b)");
  CHECK(Tree("role:a or role:b") == "(role:a or role:b)");
  CHECK(Tree("role:a or role:b and role:c") == "(role:a or (role:b and role:c))");
  CHECK(Tree("role:a and role:b or role:c") == "((role:a and role:b) or role:c)");
  CHECK(Tree("role:a and role:b or role:c and role:d") == "((role:a and role:b) or (role:c and role:d))");
  CHECK(Tree("role:a or role:b and role:c and role:d") == "(role:a or (role:b and role:c and role:d))");
  CHECK(Tree("role:a or role:b or role:c") == "(role:a or role:b or role:c)");
  CHECK(Tree("not role:a and role:b") == "(not role:a and role:b)");
  CHECK(Tree("not (role:a and role:b)") == "not (role:a and role:b)");
  CHECK(Tree("role:a and not role:b") == "(role:a and not role:b)");
  CHECK(Tree("not not role:a") == "not not role:a");
  CHECK(Tree("(role:a or role:b) and role:c") == "((role:a or role:b) and role:c)");
  CHECK(Tree("((role:a))") == "role:a");
  CHECK(Tree("role:a AND role:b Or NOT role:c") == "((role:a and role:b) or not role:c)");
  CHECK(Tree("  role:a\tand\n role:b  ") == "(role:a and role:b)");

  RequestContext b_only = Ctx("p", {"b"});
  CHECK_FALSE(Passes("role:a and role:b", b_only));
  CHECK(Passes("role:a or role:b", b_only));
  CHECK_FALSE(Passes("not role:b", b_only));
  // "a or b and c" is a or (b and c): b alone does not pass, a alone does.
  CHECK_FALSE(Passes("role:a or role:b and role:c", b_only));
  CHECK(Passes("role:a or role:b and role:c", Ctx("p", {"a"})));
  CHECK(Passes("(role:a or role:b) and not role:c", b_only));
}

TEST_CASE("policy language: generic checks compare a credential with the target's value or a literal") {
  RequestContext ctx = Ctx("P", {"member"}, "U");
  CHECK(Passes("project_id:%(project_id)s", ctx, {{"project_id", "P"}}));
  CHECK_FALSE(Passes("project_id:%(project_id)s", ctx, {{"project_id", "Q"}}));
  // The caller's project_id and user_id stand in for what the target lacks (Cinder's target).
  CHECK(Passes("project_id:%(project_id)s", ctx));
  CHECK(Passes("user_id:%(user_id)s", ctx));
  // Any other missing key fails the check, as a KeyError does.
  CHECK_FALSE(Passes("project_id:%(owner)s", ctx));
  CHECK(Passes("not project_id:%(owner)s", ctx));
  // Keys are whole names: Keystone's flattened targets.
  CHECK(Passes("user_id:%(target.token.user_id)s", ctx, {{"target.token.user_id", "U"}}));
  // A literal right-hand side, and text around a key.
  CHECK(Passes("project_id:P", ctx));
  CHECK(Passes("user_id:id-%(suffix)s", Ctx("P", {}, "id-7"), {{"suffix", "7"}}));
  CHECK(Passes("user_id:100%%", Ctx("P", {}, "100%")));
  // roles is a list: any of them.
  CHECK(Passes("roles:member", ctx));
  CHECK_FALSE(Passes("roles:Member", ctx));  // only role: ignores case
  // Credentials this context does not have read as Python's None; unknown ones never match.
  CHECK(Passes("domain_id:None", ctx));
  CHECK_FALSE(Passes("tenant:P", ctx));
  CHECK_FALSE(Passes("service_roles:member", ctx));
}

TEST_CASE("policy language: a literal on the left is compared with the right-hand side") {
  RequestContext ctx = Ctx("P", {});
  CHECK(Passes("'Member':%(role.name)s", ctx, {{"role.name", "Member"}}));
  CHECK_FALSE(Passes("'Member':%(role.name)s", ctx, {{"role.name", "member"}}));
  CHECK(Passes("\"x\":x", ctx));
  CHECK(Passes("True:%(user.enabled)s", ctx, {{"user.enabled", "True"}}));
  CHECK_FALSE(Passes("True:%(user.enabled)s", ctx, {{"user.enabled", "False"}}));
  CHECK(Passes("None:%(target.role.domain_id)s", ctx, {{"target.role.domain_id", "None"}}));
  CHECK(Passes("1:%(n)s", ctx, {{"n", "1"}}));
  CHECK(Passes("-0:0", ctx));
}

TEST_CASE("policy language: is_admin and is_admin_project read the context's flags") {
  RequestContext admin = Ctx("P", {"admin"});
  RequestContext member = Ctx("P", {"member"});
  CHECK(Passes("is_admin:True", admin));
  CHECK_FALSE(Passes("is_admin:True", member));
  CHECK(Passes("is_admin:False", member));
  CHECK(Passes("is_admin_project:True", member));
  member.is_admin_project = false;
  CHECK_FALSE(Passes("is_admin_project:True", member));
  CHECK_FALSE(Passes("is_admin:1", admin));  // Keystone's admin_required: str(True) is "True"
}

TEST_CASE("policy language: rule: follows another rule; an undefined one denies") {
  std::map<std::string, std::string> rules = {{"is_reader", "role:reader"}, {"either", "rule:is_reader or role:x"}};
  CHECK(Passes("rule:either", Ctx("p", {"reader"}), {}, rules));
  CHECK(Passes("rule:either", Ctx("p", {"x"}), {}, rules));
  CHECK_FALSE(Passes("rule:either", Ctx("p", {"member"}), {}, rules));
  CHECK_FALSE(Passes("rule:nowhere", Ctx("p", {"admin"}), {}, rules));
  CHECK(Passes("not rule:nowhere", Ctx("p", {"admin"}), {}, rules));
}

TEST_CASE("policy language: what oslo.policy fails to understand is refused") {
  CHECK(ParseFails("role:a or"));
  CHECK(ParseFails("role:a role:b"));
  CHECK(ParseFails("(role:a"));
  CHECK(ParseFails("role:a)"));
  CHECK(ParseFails("and"));
  CHECK(ParseFails("not"));
  CHECK(ParseFails("()"));
  CHECK(ParseFails("   "));
  CHECK(ParseFails("admin"));  // no ':'
  CHECK(ParseFails("'quoted' or role:a"));
  CHECK(ParseFails("http://example.com/check"));
  CHECK(ParseFails("project_id:%(project_id)d"));
  CHECK(ParseFails("project_id:50%"));
  CHECK(ParseFails("role:%(unclosed"));
  CHECK_FALSE(ParseFails(std::string(200, '(') + "role:a" + std::string(200, ')')));  // parentheses nest nothing
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "not ";
  CHECK(ParseFails(deep + "role:a"));
}

TEST_CASE("policy language: the old list syntax") {
  auto c = policy_internal::ParseListRule({{"role:a", "role:b"}, {"role:c"}});
  REQUIRE(c.ok());
  CHECK(c->ToString() == "((role:a and role:b) or role:c)");
  auto always = policy_internal::ParseListRule({});
  REQUIRE(always.ok());
  CHECK(always->ToString() == "@");
}

// --- Cinder's defaults ---------------------------------------------------------------------------

TEST_CASE("policy defaults: every rule parses, each name once, the rules they name defined") {
  std::set<std::string> names;
  for (auto table : {policy_internal::CinderRuleDefaults(), policy_internal::IdentityRuleDefaults()}) {
    for (const auto& d : table) {
      INFO(d.name);
      CHECK(names.insert(d.name).second);
      CHECK(ParseRule(d.check).ok());
      if (d.deprecated_check) CHECK(ParseRule(d.deprecated_check).ok());
    }
  }
  CHECK(policy_internal::CinderRuleDefaults().size() == 166);
  for (const char* name :
       {"admin_api", "context_is_admin", "admin_or_owner", "xena_system_admin_or_project_reader",
        "xena_system_admin_or_project_member", "volume:create", "volume:force_delete", "backup:create", "group:create",
        "volume_extension:quotas:update", "message:get", "volume:attachment_create", "workers:cleanup", "clusters:get",
        "limits_extension:used_limits", "identity:create_project", "identity:validate_token", "token_subject",
        "owner"}) {
    CHECK_MESSAGE(names.count(name) == 1, name);
  }
  // Opening with no file compiles them all: no cycles, nothing undefined under either setting.
  Options o = PolicyOptions("");
  CHECK(Policy::Open(o).ok());
  o.auth.enforce_new_defaults = false;
  CHECK(Policy::Open(o).ok());
}

TEST_CASE("policy personas: admin, project member and project reader under Cinder's defaults") {
  auto policy = OpenPolicy(PolicyOptions(""));
  RequestContext admin_q = Ctx("Q", {"admin", "member", "reader"});
  RequestContext member_p = Ctx("P", {"member", "reader"});
  RequestContext reader_p = Ctx("P", {"reader"});
  PolicyTarget vol_p = {{"project_id", "P"}, {"user_id", "someone"}};
  PolicyTarget vol_q = {{"project_id", "Q"}};

  SUBCASE("an admin of any project passes admin_api") {
    CHECK(policy->Allowed(admin_q, "admin_api", vol_p));
    CHECK(policy->Allowed(admin_q, "volume_extension:volume_admin_actions:reset_status", vol_p));
    CHECK(policy->Allowed(admin_q, "volume:force_delete", vol_p));
    CHECK(policy->Allowed(admin_q, "context_is_admin", {}));
    RequestContext admin_elsewhere = admin_q;
    admin_elsewhere.is_admin = false;  // role:admin and is_admin_project:True is enough
    CHECK(policy->Allowed(admin_elsewhere, "admin_api", vol_p));
    admin_elsewhere.is_admin_project = false;
    CHECK_FALSE(policy->Allowed(admin_elsewhere, "admin_api", vol_p));
  }
  SUBCASE("a member may extend a volume of its project and not another's") {
    CHECK(policy->Enforce(member_p, "volume:extend", vol_p).ok());
    Status st = policy->Enforce(member_p, "volume:extend", vol_q);
    CHECK(st.code() == Code::kPermissionDenied);
    CHECK(st.message() == "Policy doesn't allow volume:extend to be performed.");
    CHECK(policy->Allowed(member_p, "volume:create", {}));
    CHECK(policy->Allowed(member_p, "volume_extension:volume_actions:initialize_connection", vol_p));
  }
  SUBCASE("a member may not reset a status or force-delete") {
    CHECK_FALSE(policy->Allowed(member_p, "volume_extension:volume_admin_actions:reset_status", vol_p));
    CHECK_FALSE(policy->Allowed(member_p, "volume_extension:volume_admin_actions:force_delete", vol_p));
    CHECK_FALSE(policy->Allowed(member_p, "volume_extension:volume_host_attribute", vol_p));
    CHECK_FALSE(policy->Allowed(member_p, "volume_extension:quotas:update", vol_p));
  }
  SUBCASE("a reader may get and list but not create or change") {
    CHECK(policy->Allowed(reader_p, "volume:get", vol_p));
    CHECK(policy->Allowed(reader_p, "volume:get_all", {}));
    CHECK(policy->Allowed(reader_p, "volume_extension:volume_tenant_attribute", vol_p));
    CHECK_FALSE(policy->Allowed(reader_p, "volume:get", vol_q));
    Status st = policy->Enforce(reader_p, "volume:create", {});
    CHECK(st.code() == Code::kPermissionDenied);
    CHECK(st.message() == "Policy doesn't allow volume:create to be performed.");
    CHECK_FALSE(policy->Allowed(reader_p, "volume:delete", vol_p));
    CHECK_FALSE(policy->Allowed(reader_p, "volume:create_snapshot", vol_p));
  }
  SUBCASE("an unknown rule is denied") {
    Status st = policy->Enforce(admin_q, "volume:no_such_rule", {});
    CHECK(st.code() == Code::kPermissionDenied);
    CHECK(st.message() == "Policy doesn't allow volume:no_such_rule to be performed.");
  }
}

TEST_CASE("policy: enforce_new_defaults = false also passes by the deprecated rule") {
  Options o = PolicyOptions("");
  RequestContext no_role_p = Ctx("P", {"custom"});
  PolicyTarget vol_p = {{"project_id", "P"}};
  auto strict = OpenPolicy(o);
  CHECK_FALSE(strict->Allowed(no_role_p, "volume:get", vol_p));
  CHECK_FALSE(strict->Allowed(no_role_p, "volume:create", {}));
  o.auth.enforce_new_defaults = false;
  auto legacy = OpenPolicy(o);
  CHECK(legacy->Allowed(no_role_p, "volume:get", vol_p));  // rule:admin_or_owner
  CHECK(legacy->Allowed(no_role_p, "volume:create", {}));  // "": anyone
  CHECK_FALSE(legacy->Allowed(no_role_p, "volume:get", {{"project_id", "Q"}}));
  CHECK_FALSE(legacy->Allowed(no_role_p, "volume:force_delete", vol_p));  // no deprecated rule
  CHECK_FALSE(legacy->Allowed(Ctx("P", {"reader"}), "volume_extension:types_extra_specs:create", {}));
}

// --- The policy file -----------------------------------------------------------------------------

TEST_CASE("policy file: overrides the rules it lists; the others keep their defaults") {
  testing::TempDir dir;
  std::string path = dir.path() + "/policy.yaml";
  WriteFile(path,
            "# readers may create too\n"
            "\"volume:create\": \"role:reader and project_id:%(project_id)s\"\n"
            "volume:delete: '!'\n"
            "custom_rule: role:auditor\n"
            "volume:get_all: rule:custom_rule\n");
  auto policy = OpenPolicy(PolicyOptions(path));
  RequestContext reader_p = Ctx("P", {"reader"});
  CHECK(policy->Allowed(reader_p, "volume:create", {}));
  CHECK_FALSE(policy->Allowed(Ctx("P", {"admin", "member", "reader"}), "volume:delete", {{"project_id", "P"}}));
  CHECK(policy->Allowed(Ctx("P", {"auditor"}), "volume:get_all", {}));
  CHECK_FALSE(policy->Allowed(reader_p, "volume:get_all", {}));
  CHECK(policy->Allowed(reader_p, "volume:get", {{"project_id", "P"}}));  // unlisted: default
}

TEST_CASE("policy file: JSON, the list syntax, null, and the name a rule had before") {
  testing::TempDir dir;
  std::string path = dir.path() + "/policy.json";
  WriteFile(path,
            "{\"volume:create\": [[\"role:a\", \"role:b\"], [\"role:c\"]],\n"
            " \"volume:update\": null,\n"
            " \"volume_extension:types_manage\": \"role:typer\"}\n");
  auto policy = OpenPolicy(PolicyOptions(path));
  CHECK(policy->Allowed(Ctx("P", {"a", "b"}), "volume:create", {}));
  CHECK_FALSE(policy->Allowed(Ctx("P", {"a"}), "volume:create", {}));
  CHECK(policy->Allowed(Ctx("P", {"c"}), "volume:create", {}));
  CHECK(policy->Allowed(Ctx("P", {}), "volume:update", {{"project_id", "Q"}}));  // null: always (oslo)
  // volume_extension:type_create was volume_extension:types_manage: that override still holds.
  CHECK(policy->Allowed(Ctx("P", {"typer"}), "volume_extension:type_create", {}));
  CHECK_FALSE(policy->Allowed(Ctx("P", {"admin"}), "volume_extension:type_create", {}));
}

TEST_CASE("policy file: a relative name is looked for beside the configuration file") {
  testing::TempDir dir;
  WriteFile(dir.path() + "/cinder.conf", "[DEFAULT]\n");
  WriteFile(dir.path() + "/policy.yaml", "volume:create: role:reader\n");
  Options o = PolicyOptions("policy.yaml");
  o.origin = dir.path() + "/cinder.conf";
  CHECK(OpenPolicy(o)->Allowed(Ctx("P", {"reader"}), "volume:create", {}));
  o.origin = "defaults";  // options made in code: no file
  CHECK_FALSE(OpenPolicy(o)->Allowed(Ctx("P", {"reader"}), "volume:create", {}));
  o.auth.policy_file = "absent.yaml";
  o.origin = dir.path() + "/cinder.conf";
  CHECK_FALSE(OpenPolicy(o)->Allowed(Ctx("P", {"reader"}), "volume:create", {}));  // absent: defaults
}

TEST_CASE("policy file: one that does not parse is refused at Open, naming the file and the rule") {
  testing::TempDir dir;
  std::string path = dir.path() + "/policy.yaml";
  WriteFile(path, "volume:get: role:reader\nvolume:create: role:member or\n");
  auto p = Policy::Open(PolicyOptions(path));
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Code::kInvalidArgument);
  CHECK(p.status().message().find(path) != std::string::npos);
  CHECK(p.status().message().find("\"volume:create\"") != std::string::npos);

  WriteFile(path, "a: rule:b\nb: rule:a\n");
  p = Policy::Open(PolicyOptions(path));
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message().find("cyclical") != std::string::npos);

  WriteFile(path, "volume:get: [unclosed\n");
  CHECK_FALSE(Policy::Open(PolicyOptions(path)).ok());
  WriteFile(path, "- just a list\n");
  CHECK_FALSE(Policy::Open(PolicyOptions(path)).ok());
}

TEST_CASE("policy file: a change is read within a second, without a restart") {
  testing::TempDir dir;
  std::string path = dir.path() + "/policy.yaml";
  WriteFile(path, "volume:create: '!'\n");
  FakeClock clock;
  auto policy = OpenPolicy(PolicyOptions(path, &clock));
  RequestContext reader_p = Ctx("P", {"reader"});
  CHECK_FALSE(policy->Allowed(reader_p, "volume:create", {}));

  WriteFile(path, "volume:create: role:reader\n");
  BumpMtime(path);
  CHECK_FALSE(policy->Allowed(reader_p, "volume:create", {}));  // looked at once a second at most
  clock.Advance(std::chrono::milliseconds(1000));
  CHECK(policy->Allowed(reader_p, "volume:create", {}));

  SUBCASE("a file that stops parsing keeps the last good rules") {
    WriteFile(path, "volume:create: role:reader and\n");
    BumpMtime(path);
    clock.Advance(std::chrono::milliseconds(1000));
    CHECK(policy->Allowed(reader_p, "volume:create", {}));
    clock.Advance(std::chrono::milliseconds(1000));
    CHECK(policy->Allowed(reader_p, "volume:create", {}));
    WriteFile(path, "volume:create: role:nobody\n");
    BumpMtime(path);
    clock.Advance(std::chrono::milliseconds(1000));
    CHECK_FALSE(policy->Allowed(reader_p, "volume:create", {}));
  }
  SUBCASE("a file that goes away leaves the defaults") {
    std::filesystem::remove(path);
    clock.Advance(std::chrono::milliseconds(1000));
    CHECK_FALSE(policy->Allowed(reader_p, "volume:create", {}));
    CHECK(policy->Allowed(Ctx("P", {"member"}), "volume:create", {}));
  }
}

TEST_CASE("policy file: the real clock, and readers racing a reload") {
  testing::TempDir dir;
  std::string path = dir.path() + "/policy.yaml";
  WriteFile(path, "volume:create: role:reader\n");
  auto policy = OpenPolicy(PolicyOptions(path));
  RequestContext reader_p = Ctx("P", {"reader"});
  RequestContext member_p = Ctx("P", {"member"});
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        // Old rules or new, never neither: a reader, or a member, passes.
        bool r = policy->Allowed(reader_p, "volume:create", {});
        bool m = policy->Allowed(member_p, "volume:create", {});
        if (!r && !m) wrong.fetch_add(1);
      }
    });
  }
  WriteFile(path, "volume:create: role:member\n");
  BumpMtime(path);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (policy->Allowed(reader_p, "volume:create", {}) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  for (auto& t : threads) t.join();
  CHECK_FALSE(policy->Allowed(reader_p, "volume:create", {}));
  CHECK(policy->Allowed(member_p, "volume:create", {}));
  CHECK(wrong.load() == 0);
}

// --- Keystone's identity rules -------------------------------------------------------------------

TEST_CASE("policy identity rules: admins administer, users read themselves and their tokens") {
  auto policy = OpenPolicy(PolicyOptions(""));
  RequestContext admin = Ctx("admin-project", {"admin", "member", "reader"}, "root");
  RequestContext alice = Ctx("P", {"member", "reader"}, "alice");
  alice.project_domain_id = "default";
  alice.user_domain_id = "default";
  for (const char* rule : {"identity:create_project", "identity:create_user", "identity:delete_user",
                           "identity:create_role", "identity:create_grant", "identity:list_users"}) {
    INFO(rule);
    CHECK(policy->Allowed(admin, rule, {}));
    CHECK_FALSE(policy->Allowed(alice, rule, {{"target.domain_id", "other"}}));
  }
  CHECK(policy->Allowed(alice, "identity:get_user", {{"target.user.id", "alice"}}));
  CHECK_FALSE(policy->Allowed(alice, "identity:get_user", {{"target.user.id", "bob"}}));
  CHECK(policy->Allowed(alice, "identity:get_project", {{"target.project.id", "P"}}));
  CHECK_FALSE(policy->Allowed(alice, "identity:get_project", {{"target.project.id", "Q"}}));
  // token.project.domain.id is the context's project_domain_id.
  CHECK(policy->Allowed(alice, "identity:get_domain", {{"target.domain.id", "default"}}));
  CHECK_FALSE(policy->Allowed(alice, "identity:get_domain", {{"target.domain.id", "other"}}));
  CHECK(policy->Allowed(alice, "identity:validate_token", {{"target.token.user_id", "alice"}}));
  CHECK(policy->Allowed(alice, "identity:revoke_token", {{"target.token.user_id", "alice"}}));
  CHECK_FALSE(policy->Allowed(alice, "identity:revoke_token", {{"target.token.user_id", "bob"}}));
  CHECK(policy->Allowed(admin, "identity:revoke_token", {{"target.token.user_id", "bob"}}));
  CHECK(policy->Allowed(Ctx("S", {"service"}), "service_or_admin", {}));
  CHECK(policy->Allowed(alice, "identity:list_groups_for_user", {{"user_id", "alice"}}));
  CHECK_FALSE(policy->Allowed(alice, "identity:list_groups_for_user", {{"user_id", "bob"}}));
}

}  // namespace cinder::auth

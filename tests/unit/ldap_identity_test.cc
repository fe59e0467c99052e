// The LDAP identity driver (libcinder/auth/ldap) against a real slapd: scripts/slapd-harness.sh,
// started by the ctest fixture "slapd" (CINDER_TEST_SLAPD_DIR names its folder). Each test
// loads a subtree of its own (ou=Users and ou=UserGroups under a fresh ou, used as the driver's
// suffix) with ldapadd as the directory's root, and deletes it afterwards. The tests that stop
// the directory start a second slapd of their own through the same harness.
//
// The stock schemas have no Keystone "enabled" attribute: the tests use inetOrgPerson's
// employeeType for a boolean flag (TRUE/FALSE, and inverted as a lock flag) and nis's
// shadowAccount shadowFlag (an integer) for Active Directory's userAccountControl bit mask.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth/identity_driver.h"
#include "auth/ldap/ldap_identity.h"
#include "common/digest.h"
#include "common/log.h"
#include "unit/test_util.h"

namespace cinder::auth {
namespace {

using testing::RunShell;
using testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string s(std::istreambuf_iterator<char>(in), {});
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// A slapd started by the harness: its URL, root DN and password file, suffix, pid.
struct Slapd {
  std::string dir;
  std::string url;
  std::string rootdn;
  std::string rootpw_file;
  std::string suffix;
  std::string harness;
  std::string cacert;  // "" when the harness has no TLS
  pid_t pid = 0;

  static Slapd Load(const std::string& dir) {
    Slapd s;
    s.dir = dir;
    s.url = ReadFile(dir + "/url");
    REQUIRE_MESSAGE(!s.url.empty(), dir << " holds no running slapd harness (no url)");
    s.rootdn = ReadFile(dir + "/rootdn");
    s.rootpw_file = dir + "/rootpw";
    s.suffix = ReadFile(dir + "/suffix");
    s.harness = ReadFile(dir + "/harness");
    if (std::filesystem::exists(dir + "/cacert")) s.cacert = dir + "/cacert";
    s.pid = static_cast<pid_t>(std::atoi(ReadFile(dir + "/pid").c_str()));
    REQUIRE(s.pid > 0);
    return s;
  }
  std::string rootpw() const { return ReadFile(rootpw_file); }
  // The harness's pid file changes when it starts slapd again.
  void Reload() { pid = static_cast<pid_t>(std::atoi(ReadFile(dir + "/pid").c_str())); }
};

// The fixture's slapd, or nullopt (with the reason) when the tests must skip.
std::optional<Slapd> HarnessSlapd(std::string* why) {
  const char* dir = std::getenv("CINDER_TEST_SLAPD_DIR");
  if (dir == nullptr) {
    *why = "CINDER_TEST_SLAPD_DIR is not set (run through ctest, or start scripts/slapd-harness.sh)";
    return std::nullopt;
  }
  if (std::filesystem::exists(std::string(dir) + "/unavailable")) {
    *why = ReadFile(std::string(dir) + "/unavailable");
    return std::nullopt;
  }
  return Slapd::Load(dir);
}

#define SLAPD_OR_SKIP(var)                      \
  std::string skip_reason_;                     \
  auto var##_opt = HarnessSlapd(&skip_reason_); \
  if (!var##_opt) {                             \
    MESSAGE("skipped: " << skip_reason_);       \
    return;                                     \
  }                                             \
  Slapd& var = *var##_opt

// "attr: value", or "attr:: <base64>" when LDIF wants it (RFC 2849: non-ASCII, NUL, CR, LF, or a
// leading space, colon or '<', or a trailing space).
std::string LdifLine(const std::string& attr, const std::string& value) {
  bool safe =
      value.empty() || (value.front() != ' ' && value.front() != ':' && value.front() != '<' && value.back() != ' ');
  for (unsigned char c : value) {
    if (c == 0 || c == '\n' || c == '\r' || c >= 0x80) safe = false;
  }
  return safe ? attr + ": " + value + "\n" : attr + ":: " + ToBase64(value) + "\n";
}

// Runs an LDAP tool as the directory's root with `ldif` as its input; REQUIREs success.
void RootTool(const Slapd& s, const std::string& tool, const std::string& ldif, const std::string& args = "") {
  TempDir tmp;
  std::string file = tmp.path() + "/in.ldif";
  std::ofstream(file, std::ios::binary) << ldif;
  std::string out;
  std::string cmd = tool + " -x -H '" + s.url + "' -D '" + s.rootdn + "' -y '" + s.rootpw_file + "' " + args +
                    (ldif.empty() ? "" : " -f '" + file + "'");
  int rc = RunShell(cmd, &out);
  REQUIRE_MESSAGE(rc == 0, tool << " failed (" << rc << "): " << out << "\ninput:\n" << ldif);
}
void Ldapadd(const Slapd& s, const std::string& ldif) { RootTool(s, "ldapadd", ldif); }
void Ldapmodify(const Slapd& s, const std::string& ldif) { RootTool(s, "ldapmodify", ldif); }
void Ldapdelete(const Slapd& s, const std::string& dn) { RootTool(s, "ldapdelete", "", "'" + dn + "'"); }
// Sets a user's password with ldappasswd (the server hashes it, {SSHA} by default).
void Ldappasswd(const Slapd& s, const std::string& dn, const std::string& password) {
  TempDir tmp;
  std::string file = tmp.path() + "/pw";
  std::ofstream(file, std::ios::binary) << password;
  RootTool(s, "ldappasswd", "", "-T '" + file + "' '" + dn + "'");
}

// A subtree of its own under the suffix: ou=Users and ou=UserGroups below a fresh ou, deleted
// (with everything in it) at the end of the scope.
class Tree {
 public:
  explicit Tree(const Slapd& s) : s_(s) {
    static std::atomic<int> counter{0};
    dn_ = "ou=t" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "," + s.suffix;
    Ldapadd(s, "dn: " + dn_ + "\nobjectClass: organizationalUnit\nou: " + dn_.substr(3, dn_.find(',') - 3) +
                   "\n\ndn: " + users() + "\nobjectClass: organizationalUnit\nou: Users\n\ndn: " + groups() +
                   "\nobjectClass: organizationalUnit\nou: UserGroups\n");
  }
  ~Tree() {
    std::string out;
    RunShell("ldapdelete -r -x -H '" + s_.url + "' -D '" + s_.rootdn + "' -y '" + s_.rootpw_file + "' '" + dn_ + "'",
             &out);
  }
  const std::string& dn() const { return dn_; }
  std::string users() const { return "ou=Users," + dn_; }
  std::string groups() const { return "ou=UserGroups," + dn_; }
  std::string user_dn(const std::string& cn) const { return "cn=" + cn + "," + users(); }
  std::string group_dn(const std::string& cn) const { return "cn=" + cn + "," + groups(); }

  // An inetOrgPerson cn=<id> (ids here need no DN escaping), sn=<name>, with a plain-text
  // userPassword when one is given and `extra` LDIF lines.
  void AddUser(const std::string& id, const std::string& name, const std::string& password = "",
               const std::string& extra = "") const {
    std::string ldif = LdifLine("dn", user_dn(id)) + "objectClass: inetOrgPerson\n" + LdifLine("cn", id) +
                       LdifLine("sn", name) + (password.empty() ? "" : LdifLine("userPassword", password)) + extra;
    Ldapadd(s_, ldif);
  }
  // A groupOfNames cn=<id>, ou=<name>, with these member DNs (groupOfNames needs one at least).
  void AddGroup(const std::string& id, const std::string& name, const std::vector<std::string>& members,
                const std::string& extra = "") const {
    std::string ldif = LdifLine("dn", group_dn(id)) + "objectClass: groupOfNames\n" + LdifLine("cn", id) +
                       (name.empty() ? "" : LdifLine("ou", name)) + extra;
    for (const auto& m : members) ldif += LdifLine("member", m);
    Ldapadd(s_, ldif);
  }

 private:
  const Slapd& s_;
  std::string dn_;
};

// The driver's options for `tree`, the query bind as the directory's root.
LdapOptions OptionsFor(const Slapd& s, const Tree& tree) {
  LdapOptions o;
  o.url = s.url;
  o.user = s.rootdn;
  o.password = s.rootpw();
  o.suffix = tree.dn();
  o.connection_timeout = 5;
  o.pool_size = 2;
  return o;
}

std::unique_ptr<IdentityDriver> Open(const LdapOptions& o, const std::string& domain = "default") {
  auto d = OpenLdapIdentity(o, domain);
  REQUIRE_MESSAGE(d.ok(), d.status().ToString());
  return std::move(d).value();
}

std::set<std::string> Ids(const std::vector<User>& users) {
  std::set<std::string> ids;
  for (const auto& u : users) ids.insert(u.id);
  return ids;
}
std::set<std::string> Ids(const std::vector<Group>& groups) {
  std::set<std::string> ids;
  for (const auto& g : groups) ids.insert(g.id);
  return ids;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A second slapd of the test's own (so that stopping it disturbs no other test), stopped and
// removed at the end of the scope.
class PrivateSlapd {
 public:
  explicit PrivateSlapd(const Slapd& shared) : harness_(shared.harness), dir_(tmp_.path() + "/slapd") {
    REQUIRE_MESSAGE(!harness_.empty(), "the harness did not write its path to " << shared.dir << "/harness");
    Harness("start");
    slapd_ = Slapd::Load(dir_);
  }
  ~PrivateSlapd() {
    if (stopped_) kill(slapd_.pid, SIGCONT);
    std::string out;
    RunShell("'" + harness_ + "' stop '" + dir_ + "'", &out);
  }
  Slapd& slapd() { return slapd_; }
  void Harness(const std::string& command) {
    std::string out;
    int rc = RunShell("'" + harness_ + "' " + command + " '" + dir_ + "'", &out);
    REQUIRE_MESSAGE(rc == 0, "slapd-harness.sh " << command << ": " << out);
    if (command == "resume") slapd_.Reload();
  }
  // SIGSTOP: the directory still accepts TCP connections (the kernel does) but answers nothing.
  // kill() returns before the group stop has reached every thread of slapd; a worker thread
  // not yet stopped could still answer the next request. Wait until every thread shows 'T'.
  void Freeze() {
    REQUIRE(kill(slapd_.pid, SIGSTOP) == 0);
    stopped_ = true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!AllThreadsStopped()) {
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "slapd did not stop");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  void Thaw() {
    REQUIRE(kill(slapd_.pid, SIGCONT) == 0);
    stopped_ = false;
  }

 private:
  bool AllThreadsStopped() const {
    std::error_code ec;
    std::filesystem::path tasks = "/proc/" + std::to_string(slapd_.pid) + "/task";
    int seen = 0;
    for (const auto& e : std::filesystem::directory_iterator(tasks, ec)) {
      std::ifstream f(e.path() / "stat");
      std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      // "pid (comm) S ...": the state follows the last ')'.
      auto close = stat.rfind(')');
      if (close == std::string::npos || close + 2 >= stat.size()) return false;
      char state = stat[close + 2];
      if (state != 'T' && state != 't') return false;
      ++seen;
    }
    return !ec && seen > 0;
  }

  TempDir tmp_;
  std::string harness_;
  std::string dir_;
  Slapd slapd_;
  bool stopped_ = false;
};

// ------------------------------------------------------------------------------------------
// Without a directory.

TEST_CASE("ldap: filter values are escaped as RFC 4515 says") {
  using ldap::EscapeFilterValue;
  CHECK(EscapeFilterValue("alice") == "alice");
  CHECK(EscapeFilterValue("*") == "\\2a");
  CHECK(EscapeFilterValue("a*b(c)d\\e") == "a\\2ab\\28c\\29d\\5ce");
  CHECK(EscapeFilterValue(std::string("x\0y", 3)) == "x\\00y");
  CHECK(EscapeFilterValue("*)(|(cn=*") == "\\2a\\29\\28|\\28cn=\\2a");
  // UTF-8 passes as it is; so do the characters that are special only in DNs.
  CHECK(EscapeFilterValue("Zoë 山田, x=y+z") == "Zoë 山田, x=y+z");
  // Whatever a value holds, its escaped form has no parenthesis, star or NUL left.
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string escaped = EscapeFilterValue(all);
  CHECK(escaped.find_first_of(std::string("*()\0", 4)) == std::string::npos);
  CHECK(escaped.size() == 256 + 5 * 2);
}

TEST_CASE("ldap: configured filters must be one parenthesised filter") {
  using ldap::IsWellFormedFilter;
  CHECK(IsWellFormedFilter(""));
  CHECK(IsWellFormedFilter("(employeeType=staff)"));
  CHECK(IsWellFormedFilter("(&(objectClass=person)(!(cn=guest)))"));
  CHECK(IsWellFormedFilter("(cn=a\\29b)"));
  CHECK_FALSE(IsWellFormedFilter("employeeType=staff"));
  CHECK_FALSE(IsWellFormedFilter("(cn=a))"));
  CHECK_FALSE(IsWellFormedFilter("(cn=a)(cn=b)"));  // two filters: (&...) them
  CHECK_FALSE(IsWellFormedFilter("((cn=a)"));
  CHECK_FALSE(IsWellFormedFilter("(cn=a\\2)"));
}

TEST_CASE("ldap: the enabled flag is read as Keystone reads it") {
  LdapOptions o;
  using ldap::UserEnabled;
  // A boolean attribute; the default ("True") when the entry has none.
  CHECK(UserEnabled(o, std::string("TRUE")));
  CHECK(UserEnabled(o, std::string("true")));
  CHECK_FALSE(UserEnabled(o, std::string("FALSE")));
  CHECK_FALSE(UserEnabled(o, std::string("no")));
  CHECK(UserEnabled(o, std::nullopt));
  o.user_enabled_default = "False";
  CHECK_FALSE(UserEnabled(o, std::nullopt));
  // Inverted: a lock flag. The default is inverted too, as Keystone does.
  o.user_enabled_default = "True";
  o.user_enabled_invert = true;
  CHECK_FALSE(UserEnabled(o, std::string("TRUE")));
  CHECK(UserEnabled(o, std::string("FALSE")));
  CHECK_FALSE(UserEnabled(o, std::nullopt));
  // Active Directory: userAccountControl, bit 2 = ACCOUNTDISABLE; invert is ignored.
  o.user_enabled_mask = 2;
  o.user_enabled_default = "512";
  CHECK(UserEnabled(o, std::string("512")));
  CHECK_FALSE(UserEnabled(o, std::string("514")));
  CHECK(UserEnabled(o, std::string("66048")));  // 512 + DONT_EXPIRE_PASSWORD
  CHECK_FALSE(UserEnabled(o, std::string("66050")));
  CHECK(UserEnabled(o, std::nullopt));  // the default, 512
  CHECK_FALSE(UserEnabled(o, std::string("junk")));
  o.user_enabled_default = "True";  // left at Keystone's default
  CHECK(UserEnabled(o, std::nullopt));
}

TEST_CASE("ldap: opening checks the options and never connects") {
  LdapOptions o;
  o.url = "ldap://127.0.0.1:1/";  // nothing listens there: opening must not care
  auto d = OpenLdapIdentity(o, "default");
  REQUIRE(d.ok());
  CHECK_FALSE((*d)->writable());

  auto bad = [](auto change) {
    LdapOptions x;
    change(x);
    auto r = OpenLdapIdentity(x, "default");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    return r.status().message();
  };
  CHECK(bad([](LdapOptions& x) { x.url = "http://example.com/"; }).find("url") != std::string::npos);
  CHECK(bad([](LdapOptions& x) { x.query_scope = "base"; }).find("query_scope") != std::string::npos);
  CHECK(bad([](LdapOptions& x) { x.pool_size = 0; }).find("pool_size") != std::string::npos);
  CHECK(bad([](LdapOptions& x) { x.tls_req_cert = "hard"; }).find("tls_req_cert") != std::string::npos);
  CHECK(bad([](LdapOptions& x) { x.user_filter = "objectClass=person"; }).find("user_filter") != std::string::npos);
  CHECK(bad([](LdapOptions& x) { x.group_filter = "(cn=a"; }).find("group_filter") != std::string::npos);
  CHECK(bad([](LdapOptions& x) { x.user_id_attribute = "cn)(uid=*"; }).find("user_id_attribute") != std::string::npos);
  CHECK(bad([](LdapOptions& x) { x.use_tls = true; }).find("tls_cacertfile") != std::string::npos);
  CHECK(bad([](LdapOptions& x) {
          x.use_tls = true;
          x.tls_cacertfile = "/nonexistent/ca.pem";
        }).find("/nonexistent/ca.pem") != std::string::npos);
  CHECK(bad([](LdapOptions& x) {
          x.url = "ldaps://127.0.0.1:1/";
          x.use_tls = true;
          x.tls_cacertdir = "/";
        }).find("ldaps") != std::string::npos);
}

TEST_CASE("ldap: the driver is the module's, and its lines go to the program's log") {
  TempDir dir;
  log::LogOptions lo;
  lo.log_file = dir.path() + "/test.log";
  lo.use_stderr = false;
  REQUIRE(log::Configure(lo).ok());
  LdapOptions o;
  o.url = "ldap://127.0.0.1:1/";  // nothing listens there
  o.connection_timeout = 2;
  auto d = OpenLdapIdentity(o, "default");
  REQUIRE(d.ok());
  auto user = (*d)->GetUser("someone");
  REQUIRE(log::Configure(log::LogOptions()).ok());
  CHECK(user.status().code() == Code::kUnavailable);
  std::string logged = ReadFile(lo.log_file);
  CHECK_MESSAGE(logged.find(" WARNING ldap ") != std::string::npos, logged);
  CHECK(logged.find("ldap://127.0.0.1:1/") != std::string::npos);
  // This binary links no libldap: the driver came from libcinder_ldap.so, loaded beside it.
  std::string maps = ReadFile("/proc/self/maps");
  CHECK(maps.find("/libcinder_ldap.so") != std::string::npos);
}

// ------------------------------------------------------------------------------------------
// Against the harness's slapd.

TEST_CASE("ldap: users are found by id and by name with Keystone's attribute mapping") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  t.AddUser("alice", "Liddell", "wonderland-1", "mail: alice@example.org\ndescription: Curiouser and curiouser\n");
  t.AddUser("bob", "Builder", "can-we-fix-it");
  auto d = Open(OptionsFor(s, t), "ldapdomain");

  auto alice = d->GetUser("alice");
  REQUIRE_MESSAGE(alice.ok(), alice.status().ToString());
  CHECK(alice->id == "alice");      // user_id_attribute = cn
  CHECK(alice->name == "Liddell");  // user_name_attribute = sn
  CHECK(alice->email == "alice@example.org");
  CHECK(alice->description == "Curiouser and curiouser");
  CHECK(alice->enabled);  // no "enabled" attribute: user_enabled_default
  CHECK(alice->domain_id == "ldapdomain");
  CHECK(alice->from_ldap);

  auto by_name = d->GetUserByName("Liddell");
  REQUIRE(by_name.ok());
  CHECK(by_name->id == "alice");
  // The directory's matching rules decide: sn matches without regard to case.
  auto by_lower = d->GetUserByName("liddell");
  REQUIRE(by_lower.ok());
  CHECK(by_lower->id == "alice");

  auto missing = d->GetUser("carol");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().message() == "Could not find user: carol.");
  CHECK(d->GetUserByName("Nobody").status().code() == Code::kNotFound);
  // An id is matched whole: no prefix, no substring.
  CHECK(d->GetUser("ali").status().code() == Code::kNotFound);
  CHECK(d->GetUser("").status().code() == Code::kNotFound);

  // Other attribute choices: uid as the id, cn as the name.
  t.AddUser("carol.k", "King", "", "objectClass: uidObject\nuid: ck42\n");
  LdapOptions o = OptionsFor(s, t);
  o.user_id_attribute = "uid";
  o.user_name_attribute = "cn";
  auto d2 = Open(o);
  auto carol = d2->GetUser("ck42");
  REQUIRE_MESSAGE(carol.ok(), carol.status().ToString());
  CHECK(carol->name == "carol.k");
  // Users without the id attribute are not users for this configuration.
  auto listed = d2->ListUsers({});
  REQUIRE(listed.ok());
  CHECK(Ids(*listed) == std::set<std::string>{"ck42"});
}

TEST_CASE("ldap: users are listed, filtered by name and by the enabled flag") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  t.AddUser("u1", "Smith", "", "employeeType: TRUE\n");
  t.AddUser("u2", "Smith", "", "employeeType: FALSE\n");
  t.AddUser("u3", "Jones", "");  // no flag: the default
  t.AddUser("u4", "   ", "");    // a blank name: Keystone skips it
  // Not users: another object class, and an entry below another ou with scope one.
  Ldapadd(s, "dn: cn=printer," + t.users() + "\nobjectClass: device\ncn: printer\n");
  Ldapadd(s, "dn: ou=Contractors," + t.users() + "\nobjectClass: organizationalUnit\nou: Contractors\n\n" +
                 "dn: cn=u5,ou=Contractors," + t.users() + "\nobjectClass: inetOrgPerson\ncn: u5\nsn: Temp\n");

  LdapOptions o = OptionsFor(s, t);
  o.user_enabled_attribute = "employeeType";
  auto d = Open(o);

  auto all = d->ListUsers({});
  REQUIRE_MESSAGE(all.ok(), all.status().ToString());
  CHECK(Ids(*all) == std::set<std::string>{"u1", "u2", "u3"});
  for (const auto& u : *all) {
    CHECK(u.enabled == (u.id != "u2"));
    CHECK(u.from_ldap);
  }

  IdentityFilter smith;
  smith.name = "Smith";
  auto smiths = d->ListUsers(smith);
  REQUIRE(smiths.ok());
  CHECK(Ids(*smiths) == std::set<std::string>{"u1", "u2"});

  IdentityFilter enabled_smiths = smith;
  enabled_smiths.enabled = true;
  CHECK(Ids(d->ListUsers(enabled_smiths).value()) == std::set<std::string>{"u1"});
  IdentityFilter disabled;
  disabled.enabled = false;
  CHECK(Ids(d->ListUsers(disabled).value()) == std::set<std::string>{"u2"});
  IdentityFilter nobody;
  nobody.name = "Nobody";
  CHECK(d->ListUsers(nobody).value().empty());
  CHECK(d->GetUser("u4").status().code() == Code::kNotFound);

  // query_scope = sub reaches below the user tree's children.
  o.query_scope = "sub";
  auto sub = Open(o)->ListUsers({});
  REQUIRE(sub.ok());
  CHECK(Ids(*sub) == std::set<std::string>{"u1", "u2", "u3", "u5"});

  // The lock-flag reading (invert): TRUE means locked.
  o.query_scope = "one";
  o.user_enabled_invert = true;
  auto inverted = Open(o);
  CHECK_FALSE(inverted->GetUser("u1")->enabled);
  CHECK(inverted->GetUser("u2")->enabled);
  CHECK_FALSE(inverted->GetUser("u3")->enabled);  // the default inverted, as Keystone does

  // A user tree that does not exist lists nobody.
  o.user_tree_dn = "ou=Nowhere," + t.dn();
  auto none = Open(o)->ListUsers({});
  REQUIRE(none.ok());
  CHECK(none->empty());

  // A user disabled in the directory is disabled at once.
  Ldapmodify(s, "dn: " + t.user_dn("u1") + "\nchangetype: modify\nreplace: employeeType\nemployeeType: FALSE\n");
  CHECK_FALSE(d->GetUser("u1")->enabled);
  CHECK(Ids(d->ListUsers(disabled).value()) == std::set<std::string>{"u1", "u2"});
}

TEST_CASE("ldap: Active Directory's enabled bit mask on an integer attribute") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  // shadowFlag (nis schema, an integer) stands in for userAccountControl.
  t.AddUser("ad1", "Enabled", "", "objectClass: shadowAccount\nuid: ad1\nshadowFlag: 512\n");
  t.AddUser("ad2", "Disabled", "", "objectClass: shadowAccount\nuid: ad2\nshadowFlag: 514\n");
  t.AddUser("ad3", "NoFlag", "");
  LdapOptions o = OptionsFor(s, t);
  o.user_enabled_attribute = "shadowFlag";
  o.user_enabled_mask = 2;
  o.user_enabled_default = "512";
  o.user_enabled_invert = true;  // ignored with a mask
  auto d = Open(o);
  CHECK(d->GetUser("ad1")->enabled);
  CHECK_FALSE(d->GetUser("ad2")->enabled);
  CHECK(d->GetUser("ad3")->enabled);
  IdentityFilter enabled;
  enabled.enabled = true;
  CHECK(Ids(d->ListUsers(enabled).value()) == std::set<std::string>{"ad1", "ad3"});
}

TEST_CASE("ldap: user_filter hides users from lookups by id, lists and password checks") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  t.AddUser("staff1", "Staff", "pw-staff", "employeeType: staff\n");
  t.AddUser("guest1", "Guest", "pw-guest", "employeeType: guest\n");
  LdapOptions o = OptionsFor(s, t);
  o.user_filter = "(employeeType=staff)";
  auto d = Open(o);
  CHECK(Ids(d->ListUsers({}).value()) == std::set<std::string>{"staff1"});
  CHECK(d->GetUser("staff1").ok());
  CHECK(d->GetUser("guest1").status().code() == Code::kNotFound);
  CHECK(d->CheckPassword("staff1", "pw-staff").ok());
  // Keystone's by-name search does not apply user_filter; the password check, by id, does,
  // so a filtered-out user still cannot log in.
  CHECK(d->GetUserByName("Guest").ok());
  CHECK(d->CheckPassword("guest1", "pw-guest").code() == Code::kUnauthenticated);
}

TEST_CASE("ldap: passwords are checked by binding as the user") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  t.AddUser("alice", "Liddell", "wonderland-1");
  t.AddUser("bob", "Builder");
  const std::string unicode_pw = "pässwörd ✓ 鍵";
  Ldappasswd(s, t.user_dn("bob"), unicode_pw);  // stored hashed ({SSHA})
  t.AddUser("carol", "NoPassword");             // no userPassword at all
  auto d = Open(OptionsFor(s, t));

  CHECK(d->CheckPassword("alice", "wonderland-1").ok());
  CHECK(d->CheckPassword("bob", unicode_pw).ok());

  std::vector<Status> refused = {
      d->CheckPassword("alice", "wonderland-2"),
      d->CheckPassword("alice", "Wonderland-1"),
      d->CheckPassword("alice", "wonderland-1 "),
      d->CheckPassword("alice", std::string("wonderland-1\0x", 14)),
      d->CheckPassword("bob", "pässwörd"),
      d->CheckPassword("carol", "anything"),
      d->CheckPassword("nosuchuser", "wonderland-1"),
      d->CheckPassword("", "wonderland-1"),
      d->CheckPassword("alice", ""),
  };
  for (const auto& st : refused) {
    CHECK(st.code() == Code::kUnauthenticated);
    // One message, whatever was wrong; never the password.
    CHECK(st.message() == "Invalid user / password");
  }

  // The directory itself accepts an "unauthenticated" bind (a DN with an empty password), as
  // Active Directory does: the driver must refuse an empty password before binding.
  std::string out;
  int rc = RunShell("ldapwhoami -x -H '" + s.url + "' -D '" + t.user_dn("alice") + "' -w ''", &out);
  REQUIRE_MESSAGE(rc == 0, "the harness's slapd should allow unauthenticated binds: " << out);
  CHECK(d->CheckPassword("alice", "").code() == Code::kUnauthenticated);

  // A password check leaves the query connections as they were: searches go on, repeatedly.
  for (int i = 0; i < 3; ++i) {
    CHECK(d->CheckPassword("alice", "wonderland-1").ok());
    CHECK(d->CheckPassword("alice", "nope").code() == Code::kUnauthenticated);
    CHECK(d->GetUser("bob").ok());
  }

  // A password changed in the directory takes effect at once.
  Ldappasswd(s, t.user_dn("alice"), "through-the-looking-glass");
  CHECK(d->CheckPassword("alice", "wonderland-1").code() == Code::kUnauthenticated);
  CHECK(d->CheckPassword("alice", "through-the-looking-glass").ok());
}

TEST_CASE("ldap: a user deleted from the directory is gone at once") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  t.AddUser("dave", "Gone", "pw-dave");
  t.AddUser("erin", "Stays", "pw-erin");
  t.AddGroup("team", "Team", {t.user_dn("dave"), t.user_dn("erin")});
  auto d = Open(OptionsFor(s, t));
  REQUIRE(d->GetUser("dave").ok());
  REQUIRE(d->CheckPassword("dave", "pw-dave").ok());
  REQUIRE(d->GroupsOfUser("dave").value().size() == 1);

  Ldapdelete(s, t.user_dn("dave"));
  CHECK(d->GetUser("dave").status().code() == Code::kNotFound);
  CHECK(d->GetUserByName("Gone").status().code() == Code::kNotFound);
  CHECK(d->CheckPassword("dave", "pw-dave").code() == Code::kUnauthenticated);
  CHECK(Ids(d->ListUsers({}).value()) == std::set<std::string>{"erin"});
  // The group still names the deleted DN; the user's groups are nonetheless none.
  CHECK(d->GroupsOfUser("dave").value().empty());
  CHECK(d->CheckPassword("erin", "pw-erin").ok());
}

TEST_CASE("ldap: values cannot change the search filter (injection)") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  t.AddUser("alice", "Liddell", "pw-alice");
  t.AddUser("bob", "Builder", "pw-bob");
  // An id made of the special characters themselves (escaped in its DN) must be found exactly.
  Ldapadd(s, "dn: cn=star\\2a\\28paren\\29\\5c," + t.users() + "\nobjectClass: inetOrgPerson\n" +
                 LdifLine("cn", "star*(paren)\\") + "sn: Special\nuserPassword: pw-special\n");
  t.AddGroup("g1", "Group One", {t.user_dn("alice")});
  auto d = Open(OptionsFor(s, t));

  const std::vector<std::string> attacks = {
      "*",
      "a*",
      "*e",
      "alice)(cn=*",
      "*)(|(cn=*",
      "alice)(|(objectClass=*)",
      "x)(objectClass=*))(&(cn=x",
      "\\2a",
      "alice\\29",
      std::string("alice\0", 6),
      std::string("\0", 1),
      "(cn=*)",
  };
  for (const auto& a : attacks) {
    CAPTURE(a);
    CHECK(d->GetUser(a).status().code() == Code::kNotFound);
    CHECK(d->GetUserByName(a).status().code() == Code::kNotFound);
    CHECK(d->CheckPassword(a, "pw-alice").code() == Code::kUnauthenticated);
    CHECK(d->GroupsOfUser(a).value().empty());
    CHECK(d->GetGroup(a).status().code() == Code::kNotFound);
    IdentityFilter f;
    f.name = a;
    CHECK(d->ListUsers(f).value().empty());
    CHECK(d->ListGroups(f).value().empty());
  }

  auto special = d->GetUser("star*(paren)\\");
  REQUIRE_MESSAGE(special.ok(), special.status().ToString());
  CHECK(special->id == "star*(paren)\\");
  CHECK(d->CheckPassword("star*(paren)\\", "pw-special").ok());
  CHECK(d->CheckPassword("star*(paren)\\", "pw-alice").code() == Code::kUnauthenticated);
  CHECK(d->GetUser("star").status().code() == Code::kNotFound);
}

TEST_CASE("ldap: unicode names and ids") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  const std::string id = "zoë";
  const std::string name = "Zoë Ünïcødé 山田";
  t.AddUser(id, name, "mot de passé", LdifLine("description", "Ωmega — ✓"));
  t.AddGroup("équipe", "Équipe 日本", {t.user_dn(id)});
  auto d = Open(OptionsFor(s, t));

  auto u = d->GetUser(id);
  REQUIRE_MESSAGE(u.ok(), u.status().ToString());
  CHECK(u->name == name);
  CHECK(u->description == "Ωmega — ✓");
  auto by_name = d->GetUserByName(name);
  REQUIRE(by_name.ok());
  CHECK(by_name->id == id);
  IdentityFilter f;
  f.name = name;
  CHECK(Ids(d->ListUsers(f).value()) == std::set<std::string>{id});
  CHECK(d->CheckPassword(id, "mot de passé").ok());
  CHECK(d->CheckPassword(id, "mot de passe").code() == Code::kUnauthenticated);
  auto groups = d->GroupsOfUser(id);
  REQUIRE(groups.ok());
  REQUIRE(groups->size() == 1);
  CHECK(groups->front().id == "équipe");
  CHECK(groups->front().name == "Équipe 日本");
}

TEST_CASE("ldap: groups, and the groups of a user") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  t.AddUser("alice", "Liddell");
  t.AddUser("bob", "Builder");
  t.AddUser("carol", "Lonely");
  // A member DN written in another case and spacing still names alice (the directory compares
  // DNs, not strings).
  std::string alice_upper = "CN=Alice, OU=Users," + t.dn();
  t.AddGroup("admins", "Administrators", {alice_upper}, "description: The ones in charge\n");
  t.AddGroup("devs", "Developers", {t.user_dn("alice"), t.user_dn("bob")}, "businessCategory: engineering\n");
  t.AddGroup("nameless", "", {t.user_dn("bob")});  // no ou: no name, Keystone skips it
  auto d = Open(OptionsFor(s, t), "dom");

  auto all = d->ListGroups({});
  REQUIRE_MESSAGE(all.ok(), all.status().ToString());
  CHECK(Ids(*all) == std::set<std::string>{"admins", "devs"});

  auto admins = d->GetGroup("admins");
  REQUIRE(admins.ok());
  CHECK(admins->name == "Administrators");
  CHECK(admins->description == "The ones in charge");
  CHECK(admins->domain_id == "dom");
  CHECK(d->GetGroup("nameless").status().code() == Code::kNotFound);
  auto missing = d->GetGroup("nope");
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().message() == "Could not find group: nope.");

  IdentityFilter by_name;
  by_name.name = "Developers";
  CHECK(Ids(d->ListGroups(by_name).value()) == std::set<std::string>{"devs"});

  CHECK(Ids(d->GroupsOfUser("alice").value()) == std::set<std::string>{"admins", "devs"});
  CHECK(Ids(d->GroupsOfUser("bob").value()) == std::set<std::string>{"devs"});
  CHECK(d->GroupsOfUser("carol").value().empty());
  CHECK(d->GroupsOfUser("nobody").value().empty());

  // group_filter applies to every group query.
  LdapOptions o = OptionsFor(s, t);
  o.group_filter = "(businessCategory=engineering)";
  auto filtered = Open(o);
  CHECK(Ids(filtered->ListGroups({}).value()) == std::set<std::string>{"devs"});
  CHECK(Ids(filtered->GroupsOfUser("alice").value()) == std::set<std::string>{"devs"});
  CHECK(filtered->GetGroup("admins").status().code() == Code::kNotFound);

  // The name from cn instead: the nameless group appears.
  o.group_filter.clear();
  o.group_name_attribute = "cn";
  CHECK(Ids(Open(o)->ListGroups({}).value()) == std::set<std::string>{"admins", "devs", "nameless"});
}

TEST_CASE("ldap: posixGroup members given as user ids (group_members_are_ids)") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  t.AddUser("alice", "Liddell");
  t.AddUser("bob", "Builder");
  Ldapadd(s, "dn: " + t.group_dn("ops") + "\nobjectClass: posixGroup\ncn: ops\ngidNumber: 5001\n" +
                 "description: Operations\nmemberUid: alice\n\n" + "dn: " + t.group_dn("dev") +
                 "\nobjectClass: posixGroup\ncn: dev\ngidNumber: 5002\nmemberUid: alice\nmemberUid: bob\n");
  LdapOptions o = OptionsFor(s, t);
  o.group_objectclass = "posixGroup";
  o.group_name_attribute = "cn";
  o.group_member_attribute = "memberUid";
  o.group_members_are_ids = true;
  auto d = Open(o);
  CHECK(Ids(d->GroupsOfUser("alice").value()) == std::set<std::string>{"ops", "dev"});
  CHECK(Ids(d->GroupsOfUser("bob").value()) == std::set<std::string>{"dev"});
  CHECK(d->GetGroup("ops")->description == "Operations");
}

TEST_CASE("ldap: paged results list past the directory's size limit") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  // The harness limits anonymous searches to 20 entries unless they are paged.
  std::string ldif;
  for (int i = 0; i < 25; ++i) {
    std::string id = "p" + std::to_string(i);
    ldif += "dn: " + t.user_dn(id) + "\nobjectClass: inetOrgPerson\ncn: " + id + "\nsn: Paged\n\n";
  }
  Ldapadd(s, ldif);
  LdapOptions o = OptionsFor(s, t);
  o.user.clear();  // anonymous query bind
  o.password.clear();
  auto unpaged = Open(o)->ListUsers({});
  REQUIRE_FALSE(unpaged.ok());
  CHECK(unpaged.status().code() == Code::kResourceExhausted);
  CHECK(unpaged.status().message().find("page_size") != std::string::npos);

  o.page_size = 7;
  auto d = Open(o);
  auto paged = d->ListUsers({});
  REQUIRE_MESSAGE(paged.ok(), paged.status().ToString());
  CHECK(paged->size() == 25);
  CHECK(Ids(*paged).size() == 25);
  // Single lookups page too (one page).
  CHECK(d->GetUser("p13").ok());
}

TEST_CASE("ldap: many threads share the pool") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  for (int i = 0; i < 4; ++i) t.AddUser("m" + std::to_string(i), "Many", "pw-" + std::to_string(i));
  LdapOptions o = OptionsFor(s, t);
  o.pool_size = 2;
  auto d = Open(o);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 8; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < 25; ++i) {
        std::string id = "m" + std::to_string((th + i) % 4);
        auto u = d->GetUser(id);
        if (!u.ok() || u->id != id) ++failures;
        bool right = (i % 3) != 0;
        Status st = d->CheckPassword(id, right ? "pw-" + id.substr(1) : "wrong");
        if (st.ok() != right) ++failures;
        if (i % 5 == 0 && d->ListUsers({}).value().size() != 4) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("ldap: a bad query bind password is Unavailable, naming the URL and not the password") {
  SLAPD_OR_SKIP(s);
  Tree t(s);
  t.AddUser("alice", "Liddell", "pw-alice");
  LdapOptions o = OptionsFor(s, t);
  o.password = "Not-The-Root-Password-7731";
  auto d = Open(o);
  for (const Status& st : {d->GetUser("alice").status(), d->ListUsers({}).status(), d->CheckPassword("alice", "x"),
                           d->ListGroups({}).status()}) {
    CHECK(st.code() == Code::kUnavailable);
    CHECK(st.message().find(s.url) != std::string::npos);
    CHECK(st.message().find("query bind") != std::string::npos);
    CHECK(st.message().find("Not-The-Root-Password-7731") == std::string::npos);
    CHECK(st.message().find(s.rootpw()) == std::string::npos);
  }
  // A query user that does not exist fares the same.
  o.user = "cn=ghost," + s.suffix;
  CHECK(Open(o)->GetUser("alice").status().code() == Code::kUnavailable);
  // A list of URLs is tried in order: a dead one first costs nothing but its refusal.
  o.user = s.rootdn;
  o.password = s.rootpw();
  o.url = "ldap://127.0.0.1:1/," + s.url;
  CHECK(Open(o)->GetUser("alice").ok());
  o.url = s.url;
  // Anonymous (no user, or no password: Keystone binds anonymously then) reads what the
  // directory lets anonymous users read.
  o.password.clear();
  CHECK(Open(o)->GetUser("alice").ok());
  CHECK(Open(o)->CheckPassword("alice", "pw-alice").ok());
}

TEST_CASE("ldap: StartTLS with the directory's CA") {
  SLAPD_OR_SKIP(s);
  if (s.cacert.empty()) {
    MESSAGE("skipped: the harness has no TLS (openssl is missing)");
    return;
  }
  Tree t(s);
  t.AddUser("alice", "Liddell", "pw-alice");
  LdapOptions o = OptionsFor(s, t);
  o.use_tls = true;
  o.tls_cacertfile = s.cacert;
  auto d = Open(o);
  auto u = d->GetUser("alice");
  REQUIRE_MESSAGE(u.ok(), u.status().ToString());
  CHECK(d->CheckPassword("alice", "pw-alice").ok());
  CHECK(d->CheckPassword("alice", "pw-bob").code() == Code::kUnauthenticated);

  // A CA that did not sign the directory's certificate: refused with demand...
  TempDir tmp;
  std::string out;
  std::string other_ca = tmp.path() + "/other-ca.pem";
  int rc = RunShell(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
      "'/CN=another CA' -keyout '" +
          tmp.path() + "/k' -out '" + other_ca + "'",
      &out);
  REQUIRE_MESSAGE(rc == 0, out);
  o.tls_cacertfile = other_ca;
  auto refused = Open(o)->GetUser("alice");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kUnavailable);
  CHECK(refused.status().message().find("StartTLS") != std::string::npos);
  CHECK(refused.status().message().find(s.url) != std::string::npos);
  // ... and accepted when the certificate is not checked (tls_req_cert = never).
  o.tls_req_cert = "never";
  CHECK(Open(o)->GetUser("alice").ok());
}

TEST_CASE("ldap: a directory that goes away is Unavailable quickly, and is used again when back") {
  SLAPD_OR_SKIP(shared);
  PrivateSlapd priv(shared);
  Slapd& s = priv.slapd();
  Tree t(s);
  t.AddUser("alice", "Liddell", "pw-alice");
  LdapOptions o = OptionsFor(s, t);
  o.connection_timeout = 1;
  o.pool_size = 2;
  auto d = Open(o);
  REQUIRE(d->GetUser("alice").ok());  // a pooled connection now exists

  // Restarted: the pooled connection was dropped; the driver reconnects once, unseen.
  priv.Harness("crash");
  priv.Harness("resume");
  auto again = d->GetUser("alice");
  CHECK_MESSAGE(again.ok(), again.status().ToString());
  CHECK(d->CheckPassword("alice", "pw-alice").ok());

  // Down: every call is Unavailable at once, naming the URL and no password.
  priv.Harness("crash");
  for (int i = 0; i < 2; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<Status> down = {d->GetUser("alice").status(),      d->GetUserByName("Liddell").status(),
                                d->ListUsers({}).status(),         d->CheckPassword("alice", "pw-alice"),
                                d->GroupsOfUser("alice").status(), d->GetGroup("g").status()};
    CHECK(SecondsSince(t0) < 2.0);
    for (const auto& st : down) {
      CHECK(st.code() == Code::kUnavailable);
      CHECK(st.message().find(s.url) != std::string::npos);
      CHECK(st.message().find(s.rootpw()) == std::string::npos);
      CHECK(st.message().find("pw-alice") == std::string::npos);
    }
  }

  // Back: used again without reopening the driver.
  priv.Harness("resume");
  CHECK(d->GetUser("alice").ok());

  // Hung (accepts connections, answers nothing): no call waits much past connection_timeout,
  // on a pooled connection or a new one.
  priv.Freeze();
  auto t0 = std::chrono::steady_clock::now();
  auto hung = d->GetUser("alice");
  double pooled_wait = SecondsSince(t0);
  CHECK(hung.status().code() == Code::kUnavailable);
  CHECK(hung.status().message().find(s.url) != std::string::npos);
  CHECK(pooled_wait >= 0.9);
  CHECK(pooled_wait < 3.0);
  auto fresh = Open(o);
  t0 = std::chrono::steady_clock::now();
  CHECK(fresh->CheckPassword("alice", "pw-alice").code() == Code::kUnavailable);
  CHECK(SecondsSince(t0) < 3.0);
  priv.Thaw();
  CHECK(d->GetUser("alice").ok());

  // Nothing listening at all.
  LdapOptions nowhere = o;
  std::string port = ReadFile(s.dir + "/port");
  priv.Harness("crash");
  t0 = std::chrono::steady_clock::now();
  auto refused = Open(nowhere)->GetUser("alice");
  CHECK(refused.status().code() == Code::kUnavailable);
  CHECK(refused.status().message().find("127.0.0.1:" + port) != std::string::npos);
  CHECK(SecondsSince(t0) < 2.0);
}

}  // namespace
}  // namespace cinder::auth

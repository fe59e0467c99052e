// The LDAP identity backend: users and groups read from a directory, as Keystone's
// identity/backends/ldap reads them (read-only), over OpenLDAP's libldap. The only code in the
// project that links libldap: it is built into the module libcinder_ldap.so (ldap_module.h),
// which a program loads only when it is configured with [identity] driver = ldap.
//
// Searches run on a small pool of connections bound as the query user ([ldap] user/password,
// anonymous when unset). A connection the directory dropped is replaced once, at once; a
// directory that cannot be reached is Unavailable, its message naming the URL. A password is
// checked by a simple bind as the user's DN on a connection of its own, closed right after.
#include "auth/ldap/ldap_identity.h"

#include <lber.h>
#include <ldap.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/identity_driver.h"
#include "common/log.h"
#include "common/util.h"

namespace cinder::auth {

namespace {

constexpr char kLog[] = "ldap";
// Keystone's one answer for every failed password check.
constexpr char kBadCredentials[] = "Invalid user / password";
// How long a pooled connection is used before it is replaced (Keystone's
// pool_connection_lifetime default).
constexpr std::chrono::seconds kConnectionLifetime{600};

// libldap writes with write(2): a connection the directory closed raises SIGPIPE, which would
// kill a program that left it at its default. Blocks it in this thread for the scope, and takes
// back a SIGPIPE raised meanwhile, so the library does not depend on the program's choice.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
  }
  ~ScopedSigpipeBlock() {
    if (!blocked_) return;
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
  bool blocked_ = false;
};

struct LdapCloser {
  void operator()(LDAP* ld) const {
    if (ld != nullptr) ldap_unbind_ext_s(ld, nullptr, nullptr);
  }
};
using LdapHandle = std::unique_ptr<LDAP, LdapCloser>;

// One search result entry: its DN and its attributes, names in lower case.
struct Entry {
  std::string dn;
  std::map<std::string, std::vector<std::string>> attrs;

  const std::vector<std::string>* Values(const std::string& attr) const {
    auto it = attrs.find(ToLower(attr));
    return it == attrs.end() || it->second.empty() ? nullptr : &it->second;
  }
  std::optional<std::string> First(const std::string& attr) const {
    const auto* v = Values(attr);
    if (v == nullptr) return std::nullopt;
    return v->front();
  }
};

// A client-side failure of the connection itself (as opposed to an answer of the directory).
bool ConnectionLost(int rc) { return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR; }

// The server's diagnostic message for the last operation on `ld` ("" when none).
std::string Diagnostic(LDAP* ld) {
  char* msg = nullptr;
  std::string out;
  if (ld != nullptr && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS && msg != nullptr) {
    out = msg;
    ldap_memfree(msg);
  }
  return out;
}

// The id attribute's value of `entry`. A multi-valued id is taken from the DN's first RDN when
// that names the same attribute, as Keystone does; nullopt when there is none.
std::optional<std::string> EntryId(const Entry& entry, const std::string& id_attr) {
  const auto* values = entry.Values(id_attr);
  if (values == nullptr) return std::nullopt;
  if (values->size() == 1) return values->front();
  LDAPDN dn = nullptr;
  std::optional<std::string> from_dn;
  if (ldap_str2dn(entry.dn.c_str(), &dn, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && dn != nullptr && dn[0] != nullptr &&
      dn[0][0] != nullptr) {
    const LDAPAVA* ava = dn[0][0];
    if (ToLower(std::string_view(ava->la_attr.bv_val, ava->la_attr.bv_len)) == ToLower(id_attr)) {
      from_dn = std::string(ava->la_value.bv_val, ava->la_value.bv_len);
    }
  }
  if (dn != nullptr) ldap_dnfree(dn);
  if (from_dn) return from_dn;
  CINDER_LOG(kWarning, kLog) << "the id attribute " << id_attr << " of " << entry.dn
                             << " has several values; using the first";
  return values->front();
}

// A non-blank value of `attr`, as Keystone requires of a name: entries without one are skipped.
bool HasName(const Entry& entry, const std::string& name_attr) {
  auto name = entry.First(name_attr);
  return name && !Trim(*name).empty();
}

class LdapIdentity final : public IdentityDriver {
 public:
  LdapIdentity(LdapOptions options, std::string domain_id)
      : o_(std::move(options)),
        domain_id_(std::move(domain_id)),
        user_tree_dn_(o_.user_tree_dn.empty() ? "ou=Users," + o_.suffix : o_.user_tree_dn),
        group_tree_dn_(o_.group_tree_dn.empty() ? "ou=UserGroups," + o_.suffix : o_.group_tree_dn),
        scope_(o_.query_scope == "sub" ? LDAP_SCOPE_SUBTREE : LDAP_SCOPE_ONELEVEL),
        tls_(o_.use_tls || UsesLdaps(o_.url)) {
    for (const std::string* a : {&o_.user_id_attribute, &o_.user_name_attribute, &o_.user_mail_attribute,
                                 &o_.user_description_attribute, &o_.user_enabled_attribute}) {
      AddAttr(&user_attrs_, *a);
    }
    for (const std::string* a : {&o_.group_id_attribute, &o_.group_name_attribute, &o_.group_desc_attribute}) {
      AddAttr(&group_attrs_, *a);
    }
  }

  ~LdapIdentity() override {
    ScopedSigpipeBlock guard;
    for (const Pooled& conn : idle_) LdapCloser()(conn.ld);
  }

  static bool UsesLdaps(const std::string& url) {
    std::string lower = ToLower(url);
    return lower.find("ldaps://") != std::string::npos;
  }

  bool writable() const override { return false; }

  Result<User> GetUser(const std::string& user_id) override {
    CINDER_ASSIGN_OR_RETURN(std::optional<Entry> entry, FindUserEntry(user_id));
    if (!entry) return NotFound("Could not find user: " + user_id + ".");
    auto user = ToUser(*entry);
    if (!user) return NotFound("Could not find user: " + user_id + ".");
    return *std::move(user);
  }

  Result<User> GetUserByName(const std::string& name) override {
    // Keystone's get_by_name: user_filter is not applied here (GetUser and CheckPassword do).
    std::string filter = "(&(" + o_.user_name_attribute + "=" + ldap::EscapeFilterValue(name) +
                         ")(objectClass=" + o_.user_objectclass + ")(" + o_.user_id_attribute + "=*))";
    CINDER_ASSIGN_OR_RETURN(std::vector<Entry> entries, Search(user_tree_dn_, filter, user_attrs_));
    std::vector<User> users;
    for (const Entry& e : entries) {
      if (!HasName(e, o_.user_name_attribute)) continue;
      if (auto user = ToUser(e)) users.push_back(*std::move(user));
    }
    if (users.empty()) return NotFound("Could not find user: " + name + ".");
    if (users.size() > 1) {
      CINDER_LOG(kWarning, kLog) << users.size() << " users in " << user_tree_dn_ << " are named \"" << name
                                 << "\"; using " << users.front().id;
    }
    return std::move(users.front());
  }

  Result<std::vector<User>> ListUsers(const IdentityFilter& filter) override {
    std::string query = "(&";
    if (!filter.name.empty()) {
      query += "(" + o_.user_name_attribute + "=" + ldap::EscapeFilterValue(filter.name) + ")";
    }
    query += o_.user_filter + "(objectClass=" + o_.user_objectclass + ")(" + o_.user_id_attribute + "=*))";
    CINDER_ASSIGN_OR_RETURN(std::vector<Entry> entries, Search(user_tree_dn_, query, user_attrs_));
    std::vector<User> users;
    for (const Entry& e : entries) {
      if (!HasName(e, o_.user_name_attribute)) continue;
      auto user = ToUser(e);
      if (!user) continue;
      // Keystone leaves the enabled filter to its controller: the attribute's meaning depends
      // on the enabled options.
      if (filter.enabled && user->enabled != *filter.enabled) continue;
      users.push_back(*std::move(user));
    }
    return users;
  }

  Status CheckPassword(const std::string& user_id, const std::string& password) override {
    // An empty password would make a simple bind "unauthenticated" (RFC 4513 5.1.2), which
    // many directories (Active Directory among them) answer with success.
    if (user_id.empty() || password.empty()) return Unauthenticated(kBadCredentials);
    CINDER_ASSIGN_OR_RETURN(std::optional<Entry> entry, FindUserEntry(user_id));
    // With no such user, bind as the user tree's own entry (it has no password) all the same,
    // so that a wrong name costs what a wrong password costs.
    bool found = entry.has_value() && ToUser(*entry).has_value();
    const std::string& dn = found ? entry->dn : user_tree_dn_;
    ScopedSigpipeBlock guard;
    CINDER_ASSIGN_OR_RETURN(LdapHandle conn, OpenConnection());
    int rc = Bind(conn.get(), dn, password);
    if (rc == LDAP_SUCCESS && found) return Status::OK();
    if (ConnectionLost(rc) || rc == LDAP_TIMEOUT || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY) {
      return DirectoryError(conn.get(), rc, "did not answer a bind");
    }
    CINDER_LOG(kDebug, kLog) << "password check for user " << user_id
                             << " failed: " << (found ? ldap_err2string(rc) : "no such user");
    return Unauthenticated(kBadCredentials);
  }

  Result<std::vector<Group>> ListGroups(const IdentityFilter& filter) override {
    std::string query = "(&";
    if (!filter.name.empty()) {
      query += "(" + o_.group_name_attribute + "=" + ldap::EscapeFilterValue(filter.name) + ")";
    }
    query += o_.group_filter + "(objectClass=" + o_.group_objectclass + ")(" + o_.group_id_attribute + "=*))";
    return SearchGroups(query);
  }

  Result<Group> GetGroup(const std::string& group_id) override {
    std::string query = "(&(" + o_.group_id_attribute + "=" + ldap::EscapeFilterValue(group_id) + ")" +
                        o_.group_filter + "(objectClass=" + o_.group_objectclass + "))";
    CINDER_ASSIGN_OR_RETURN(std::vector<Entry> entries, Search(group_tree_dn_, query, group_attrs_));
    // Keystone reads the first entry only, and only when it has a name.
    if (!entries.empty() && HasName(entries.front(), o_.group_name_attribute)) {
      if (auto group = ToGroup(entries.front())) return *std::move(group);
    }
    return NotFound("Could not find group: " + group_id + ".");
  }

  Result<std::vector<Group>> GroupsOfUser(const std::string& user_id) override {
    CINDER_ASSIGN_OR_RETURN(std::optional<Entry> entry, FindUserEntry(user_id));
    if (!entry) return std::vector<Group>{};
    auto user = ToUser(*entry);
    if (!user) return std::vector<Group>{};
    // The member attribute holds the user's DN (groupOfNames) or its id (posixGroup's memberUid).
    const std::string& member = o_.group_members_are_ids ? user->id : entry->dn;
    std::string query = "(&(" + o_.group_member_attribute + "=" + ldap::EscapeFilterValue(member) + ")" +
                        o_.group_filter + "(objectClass=" + o_.group_objectclass + ")(" + o_.group_id_attribute +
                        "=*))";
    return SearchGroups(query);
  }

 private:
  static void AddAttr(std::vector<std::string>* attrs, const std::string& a) {
    if (a.empty()) return;
    for (const auto& have : *attrs) {
      if (ToLower(have) == ToLower(a)) return;
    }
    attrs->push_back(a);
  }

  // The user entry with this id that user_filter admits (Keystone's _ldap_get: the first
  // match, and only when it has a name); nullopt when there is none.
  Result<std::optional<Entry>> FindUserEntry(const std::string& user_id) {
    std::string query = "(&(" + o_.user_id_attribute + "=" + ldap::EscapeFilterValue(user_id) + ")" + o_.user_filter +
                        "(objectClass=" + o_.user_objectclass + "))";
    CINDER_ASSIGN_OR_RETURN(std::vector<Entry> entries, Search(user_tree_dn_, query, user_attrs_));
    if (entries.empty() || !HasName(entries.front(), o_.user_name_attribute)) return std::optional<Entry>();
    return std::optional<Entry>(std::move(entries.front()));
  }

  std::optional<User> ToUser(const Entry& e) const {
    auto id = EntryId(e, o_.user_id_attribute);
    if (!id) return std::nullopt;
    User u;
    u.id = *id;
    u.name = e.First(o_.user_name_attribute).value_or("");
    u.email = e.First(o_.user_mail_attribute).value_or("");
    u.description = e.First(o_.user_description_attribute).value_or("");
    u.enabled = ldap::UserEnabled(o_, e.First(o_.user_enabled_attribute));
    u.domain_id = domain_id_;
    u.from_ldap = true;
    return u;
  }

  std::optional<Group> ToGroup(const Entry& e) const {
    auto id = EntryId(e, o_.group_id_attribute);
    if (!id) return std::nullopt;
    Group g;
    g.id = *id;
    g.name = e.First(o_.group_name_attribute).value_or("");
    g.description = e.First(o_.group_desc_attribute).value_or("");
    g.domain_id = domain_id_;
    return g;
  }

  Result<std::vector<Group>> SearchGroups(const std::string& query) {
    CINDER_ASSIGN_OR_RETURN(std::vector<Entry> entries, Search(group_tree_dn_, query, group_attrs_));
    std::vector<Group> groups;
    for (const Entry& e : entries) {
      if (!HasName(e, o_.group_name_attribute)) continue;
      if (auto group = ToGroup(e)) groups.push_back(*std::move(group));
    }
    return groups;
  }

  // --- Connections.

  // Unavailable, naming the URL and what failed (never a password).
  Status DirectoryError(LDAP* ld, int rc, std::string_view what) const {
    std::string message = "The LDAP directory at " + o_.url + " " + std::string(what) + ": " + ldap_err2string(rc);
    if (rc == LDAP_TIMEOUT && o_.connection_timeout > 0) {
      message += " (no answer within " + std::to_string(o_.connection_timeout) + " s)";
    }
    std::string diag = Diagnostic(ld);
    if (!diag.empty() && diag != "(unknown error code)") message += " (" + diag + ")";
    CINDER_LOG(kWarning, kLog) << message;
    return Unavailable(message);
  }

  // A new connection with every option set and, with use_tls, StartTLS done; not bound.
  Result<LdapHandle> OpenConnection() const {
    LDAP* raw = nullptr;
    int rc = ldap_initialize(&raw, o_.url.c_str());
    if (rc != LDAP_SUCCESS || raw == nullptr) {
      return InvalidArgument("[ldap] url " + o_.url + " is not a valid LDAP URL: " + ldap_err2string(rc));
    }
    LdapHandle ld(raw);
    int version = LDAP_VERSION3;
    ldap_set_option(raw, LDAP_OPT_PROTOCOL_VERSION, &version);
    // Referrals are not followed (they would be with an anonymous bind to another server);
    // Keystone ignores the references a search returns as well.
    ldap_set_option(raw, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    if (o_.connection_timeout > 0) {
      struct timeval tv = {o_.connection_timeout, 0};
      ldap_set_option(raw, LDAP_OPT_NETWORK_TIMEOUT, &tv);  // connect(2), the TLS handshake
      ldap_set_option(raw, LDAP_OPT_TIMEOUT, &tv);          // every synchronous call's answer
    }
    if (tls_) {
      // Options on this handle only, then a TLS context of its own for them (NEWCTX).
      // Making a context initialises the TLS library: one at a time.
      static std::mutex tls_mu;
      std::lock_guard<std::mutex> lock(tls_mu);
      if (!o_.tls_cacertfile.empty()) ldap_set_option(raw, LDAP_OPT_X_TLS_CACERTFILE, o_.tls_cacertfile.c_str());
      if (!o_.tls_cacertdir.empty()) ldap_set_option(raw, LDAP_OPT_X_TLS_CACERTDIR, o_.tls_cacertdir.c_str());
      int req = o_.tls_req_cert == "never"   ? LDAP_OPT_X_TLS_NEVER
                : o_.tls_req_cert == "allow" ? LDAP_OPT_X_TLS_ALLOW
                                             : LDAP_OPT_X_TLS_DEMAND;
      ldap_set_option(raw, LDAP_OPT_X_TLS_REQUIRE_CERT, &req);
      int server = 0;
      rc = ldap_set_option(raw, LDAP_OPT_X_TLS_NEWCTX, &server);
      if (rc != LDAP_OPT_SUCCESS) {
        return Unavailable("cannot set up TLS for the LDAP directory at " + o_.url + " (check [ldap] tls_cacertfile" +
                           " and tls_cacertdir): " + ldap_err2string(rc));
      }
    }
    if (o_.use_tls) {
      rc = ldap_start_tls_s(raw, nullptr, nullptr);
      if (rc != LDAP_SUCCESS) {
        return DirectoryError(raw, rc,
                              "refused or failed StartTLS (is its certificate signed by a CA in [ldap] "
                              "tls_cacertfile or tls_cacertdir, for the host in the url?)");
      }
    }
    return ld;
  }

  // A simple bind; "" binds anonymously. Returns the result code.
  static int Bind(LDAP* ld, const std::string& dn, const std::string& password) {
    struct berval cred;
    cred.bv_val = const_cast<char*>(password.data());
    cred.bv_len = password.size();
    return ldap_sasl_bind_s(ld, dn.empty() ? nullptr : dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
  }

  // A new connection of the pool: bound as the query user, or anonymously (Keystone binds
  // anonymously unless both the user and the password are set).
  Result<LdapHandle> ConnectQuery() const {
    CINDER_ASSIGN_OR_RETURN(LdapHandle ld, OpenConnection());
    bool named = !o_.user.empty() && !o_.password.empty();
    int rc = Bind(ld.get(), named ? o_.user : "", named ? o_.password : "");
    if (rc == LDAP_SUCCESS) return ld;
    if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH || rc == LDAP_UNWILLING_TO_PERFORM) {
      std::string who = named ? "as " + o_.user : "anonymously";
      return DirectoryError(ld.get(), rc, "refused the query bind " + who + " (check [ldap] user and password)");
    }
    return DirectoryError(ld.get(), rc, "cannot be reached");
  }

  // A connection of the pool and when it was made.
  struct Pooled {
    LDAP* ld = nullptr;
    std::chrono::steady_clock::time_point born;
  };

  // A connection of the pool, for one operation; given back (or closed) when it goes.
  class Lease {
   public:
    Lease(LdapIdentity* owner, Pooled conn, bool fresh) : owner_(owner), conn_(conn), fresh_(fresh) {}
    Lease(Lease&& o) noexcept
        : owner_(o.owner_), conn_(std::exchange(o.conn_, Pooled{})), fresh_(o.fresh_), broken_(o.broken_) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_.ld != nullptr) owner_->Release(conn_, !broken_);
    }
    LDAP* get() const { return conn_.ld; }
    bool fresh() const { return fresh_; }
    void set_broken() { broken_ = true; }

   private:
    LdapIdentity* owner_;
    Pooled conn_;
    bool fresh_;
    bool broken_ = false;
  };

  // An idle connection, or a new one while fewer than pool_size are open; otherwise waits for
  // one to be given back. A connection older than kConnectionLifetime is closed instead of used
  // (Keystone's pool_connection_lifetime): one a firewall forgot would otherwise hang a call.
  Result<Lease> Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return !idle_.empty() || open_ < std::max(1, o_.pool_size); });
      if (idle_.empty()) break;
      Pooled conn = idle_.back();
      idle_.pop_back();
      if (std::chrono::steady_clock::now() - conn.born < kConnectionLifetime) return Lease(this, conn, false);
      --open_;
      lock.unlock();
      LdapCloser()(conn.ld);
      lock.lock();
    }
    ++open_;
    lock.unlock();
    auto conn = ConnectQuery();
    if (!conn.ok()) {
      lock.lock();
      --open_;
      cv_.notify_one();
      return conn.status();
    }
    return Lease(this, Pooled{conn->release(), std::chrono::steady_clock::now()}, true);
  }

  void Release(Pooled conn, bool healthy) {
    if (healthy) {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(conn);
    } else {
      LdapCloser()(conn.ld);
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
    }
    cv_.notify_one();
  }

  // After a dropped connection, the idle ones went with it most likely: closes them.
  void DropIdle() {
    std::vector<Pooled> idle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle.swap(idle_);
      open_ -= static_cast<int>(idle.size());
    }
    for (const Pooled& conn : idle) LdapCloser()(conn.ld);
    cv_.notify_all();
  }

  // --- Searches.

  // Runs one search (every page of it with page_size) on `ld`, appending the entries to *out.
  // Returns the LDAP result code.
  int SearchOn(LDAP* ld, const std::string& base, const std::string& filter, const std::vector<std::string>& attrs,
               std::vector<Entry>* out) const {
    std::vector<char*> attrv;
    for (const auto& a : attrs) attrv.push_back(const_cast<char*>(a.c_str()));
    attrv.push_back(nullptr);
    struct timeval limit = {o_.connection_timeout, 0};
    struct timeval* tvp = o_.connection_timeout > 0 ? &limit : nullptr;
    std::string cookie;
    bool paged = o_.page_size > 0;
    for (;;) {
      LDAPControl* page = nullptr;
      if (paged) {
        struct berval ck;
        ck.bv_val = cookie.empty() ? nullptr : cookie.data();
        ck.bv_len = cookie.size();
        // Not critical: a directory without paging answers everything at once.
        int rc = ldap_create_page_control(ld, o_.page_size, cookie.empty() ? nullptr : &ck, 0, &page);
        if (rc != LDAP_SUCCESS) return rc;
      }
      LDAPControl* sctrls[] = {page, nullptr};
      LDAPMessage* res = nullptr;
      int rc = ldap_search_ext_s(ld, base.c_str(), scope_, filter.c_str(), attrv.data(), 0,
                                 page != nullptr ? sctrls : nullptr, nullptr, tvp, LDAP_NO_LIMIT, &res);
      if (page != nullptr) ldap_control_free(page);
      if (res != nullptr) CollectEntries(ld, res, out);
      cookie.clear();
      if (paged && rc == LDAP_SUCCESS && res != nullptr) {
        LDAPControl** ctrls = nullptr;
        int err = LDAP_SUCCESS;
        if (ldap_parse_result(ld, res, &err, nullptr, nullptr, nullptr, &ctrls, 0) == LDAP_SUCCESS &&
            ctrls != nullptr) {
          LDAPControl* reply = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, nullptr);
          struct berval next = {0, nullptr};
          ber_int_t estimate = 0;
          if (reply != nullptr && ldap_parse_pageresponse_control(ld, reply, &estimate, &next) == LDAP_SUCCESS) {
            if (next.bv_val != nullptr) {
              cookie.assign(next.bv_val, next.bv_len);
              ber_memfree(next.bv_val);
            }
          }
          ldap_controls_free(ctrls);
        }
      }
      if (res != nullptr) ldap_msgfree(res);
      if (rc != LDAP_SUCCESS || cookie.empty()) return rc;
    }
  }

  static void CollectEntries(LDAP* ld, LDAPMessage* res, std::vector<Entry>* out) {
    for (LDAPMessage* e = ldap_first_entry(ld, res); e != nullptr; e = ldap_next_entry(ld, e)) {
      Entry entry;
      if (char* dn = ldap_get_dn(ld, e)) {
        entry.dn = dn;
        ldap_memfree(dn);
      }
      BerElement* ber = nullptr;
      for (char* a = ldap_first_attribute(ld, e, &ber); a != nullptr; a = ldap_next_attribute(ld, e, ber)) {
        std::vector<std::string>& values = entry.attrs[ToLower(a)];
        if (struct berval** vals = ldap_get_values_len(ld, e, a)) {
          for (int i = 0; vals[i] != nullptr; ++i) values.emplace_back(vals[i]->bv_val, vals[i]->bv_len);
          ldap_value_free_len(vals);
        }
        ldap_memfree(a);
      }
      if (ber != nullptr) ber_free(ber, 0);
      out->push_back(std::move(entry));
    }
  }

  // One search through the pool. A pooled connection found dropped (the directory restarted,
  // or closed it when idle) is replaced once; a base that does not exist is no entries.
  Result<std::vector<Entry>> Search(const std::string& base, const std::string& filter,
                                    const std::vector<std::string>& attrs) {
    ScopedSigpipeBlock guard;
    CINDER_LOG(kDebug, kLog) << "search base=" << base << " scope=" << o_.query_scope << " filter=" << filter;
    for (int attempt = 0;; ++attempt) {
      CINDER_ASSIGN_OR_RETURN(Lease conn, Acquire());
      std::vector<Entry> entries;
      int rc = SearchOn(conn.get(), base, filter, attrs, &entries);
      switch (rc) {
        case LDAP_SUCCESS: return entries;
        case LDAP_NO_SUCH_OBJECT: return std::vector<Entry>{};
        case LDAP_REFERRAL:  // the base is elsewhere: referrals are not followed
          CINDER_LOG(kWarning, kLog) << "the LDAP directory at " << o_.url << " referred a search of " << base
                                     << " elsewhere; referrals are not followed";
          return std::vector<Entry>{};
        case LDAP_SIZELIMIT_EXCEEDED:
          return ResourceExhausted("The LDAP directory at " + o_.url + " holds more entries under " + base +
                                   " than its size limit lets it return; set [ldap] page_size (e.g. 500)");
        case LDAP_FILTER_ERROR:
          return InvalidArgument("The LDAP search filter " + filter +
                                 " is not valid (check [ldap] user_filter, group_filter and the attribute options)");
        default: break;
      }
      if (rc < 0) conn.set_broken();  // a client-side failure: the connection is not reusable
      if (ConnectionLost(rc)) {
        bool reused = !conn.fresh();
        Status st = DirectoryError(conn.get(), rc, "cannot be reached");
        { Lease gone = std::move(conn); }  // closed before the others are dropped
        DropIdle();
        if (reused && attempt == 0) continue;
        return st;
      }
      if (rc == LDAP_TIMEOUT || rc == LDAP_TIMELIMIT_EXCEEDED) return DirectoryError(conn.get(), rc, "did not answer");
      return DirectoryError(conn.get(), rc, "failed a search of " + base);
    }
  }

  const LdapOptions o_;
  const std::string domain_id_;
  const std::string user_tree_dn_;
  const std::string group_tree_dn_;
  const int scope_;
  const bool tls_;  // use_tls or an ldaps:// URL
  std::vector<std::string> user_attrs_;
  std::vector<std::string> group_attrs_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pooled> idle_;  // bound as the query user
  int open_ = 0;              // idle and in use
};

Status ValidateOptions(const LdapOptions& o) {
  if (o.url.empty()) return InvalidArgument("[ldap] url is empty");
  LDAP* probe = nullptr;
  int rc = ldap_initialize(&probe, o.url.c_str());  // parses the URL list; connects to nothing
  if (probe != nullptr) ldap_unbind_ext_s(probe, nullptr, nullptr);
  if (rc != LDAP_SUCCESS) return InvalidArgument("[ldap] url " + o.url + " is not a valid LDAP URL list");
  if (o.query_scope != "one" && o.query_scope != "sub") {
    return InvalidArgument("[ldap] query_scope must be one or sub, not " + o.query_scope);
  }
  if (o.page_size < 0) return InvalidArgument("[ldap] page_size must be 0 or more");
  if (o.pool_size < 1) return InvalidArgument("[ldap] pool_size must be 1 or more");
  if (o.user_enabled_mask < 0) return InvalidArgument("[ldap] user_enabled_mask must be 0 or more");
  if (o.connection_timeout < -1) return InvalidArgument("[ldap] connection_timeout must be -1 or more");
  if (o.tls_req_cert != "demand" && o.tls_req_cert != "allow" && o.tls_req_cert != "never") {
    return InvalidArgument("[ldap] tls_req_cert must be demand, allow or never, not " + o.tls_req_cert);
  }
  for (const auto& [name, value] : {std::pair<const char*, const std::string*>{"user_objectclass", &o.user_objectclass},
                                    {"user_id_attribute", &o.user_id_attribute},
                                    {"user_name_attribute", &o.user_name_attribute},
                                    {"group_objectclass", &o.group_objectclass},
                                    {"group_id_attribute", &o.group_id_attribute},
                                    {"group_name_attribute", &o.group_name_attribute},
                                    {"group_member_attribute", &o.group_member_attribute}}) {
    if (value->empty()) return InvalidArgument(std::string("[ldap] ") + name + " is empty");
    // Attribute and class names go into filters unescaped: only what an attribute
    // description may hold (RFC 4512 2.5: a name or an OID, options after ';').
    for (char c : *value) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != ';') {
        return InvalidArgument(std::string("[ldap] ") + name + " " + *value + " is not an attribute name");
      }
    }
  }
  if (!ldap::IsWellFormedFilter(o.user_filter)) {
    return InvalidArgument("[ldap] user_filter " + o.user_filter + " is not one parenthesised LDAP filter");
  }
  if (!ldap::IsWellFormedFilter(o.group_filter)) {
    return InvalidArgument("[ldap] group_filter " + o.group_filter + " is not one parenthesised LDAP filter");
  }
  bool ldaps = ToLower(o.url).find("ldaps://") != std::string::npos;
  if (o.use_tls && ldaps) {
    return InvalidArgument("[ldap] use_tls (StartTLS) and an ldaps:// url cannot be combined: choose one");
  }
  if (o.use_tls || ldaps) {
    if (o.tls_cacertfile.empty() && o.tls_cacertdir.empty()) {
      return InvalidArgument("[ldap] use_tls or an ldaps:// url needs tls_cacertfile or tls_cacertdir");
    }
    struct stat st;
    if (!o.tls_cacertfile.empty() && (stat(o.tls_cacertfile.c_str(), &st) != 0 || !S_ISREG(st.st_mode))) {
      return InvalidArgument("[ldap] tls_cacertfile " + o.tls_cacertfile + " is not a file");
    }
    if (!o.tls_cacertdir.empty() && (stat(o.tls_cacertdir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
      return InvalidArgument("[ldap] tls_cacertdir " + o.tls_cacertdir + " is not a directory");
    }
  }
  return Status::OK();
}

}  // namespace

namespace ldap {

Result<std::unique_ptr<IdentityDriver>> NewLdapIdentity(const LdapOptions& options, const std::string& domain_id) {
  CINDER_RETURN_IF_ERROR(ValidateOptions(options));
  // libldap reads its global defaults (ldap.conf) on first use: once, here, not in racing threads.
  static std::once_flag init;
  std::call_once(init, [] {
    int version = 0;
    ldap_get_option(nullptr, LDAP_OPT_PROTOCOL_VERSION, &version);
  });
  return std::unique_ptr<IdentityDriver>(std::make_unique<LdapIdentity>(options, domain_id));
}

}  // namespace ldap

}  // namespace cinder::auth

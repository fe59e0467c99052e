// IdentityDriver: where users (and groups) come from, Keystone's identity driver. The SQL one
// lives in auth/ (over the Store); the LDAP one in auth/ldap/, the only code linking libldap,
// built as a module (libcinder_ldap.so) that OpenLdapIdentity loads at run time.
// Projects, roles, assignments and tokens are always the database's.
#ifndef CINDER_AUTH_IDENTITY_DRIVER_H_
#define CINDER_AUTH_IDENTITY_DRIVER_H_

#include <memory>
#include <string>
#include <vector>

#include "cinder/auth_manager.h"
#include "cinder/options.h"
#include "cinder/status.h"

namespace cinder::auth {

// Thread-safe. Every call may block on the directory; Unavailable when it cannot be reached
// (its text names the URL, never a password).
class IdentityDriver {
 public:
  virtual ~IdentityDriver() = default;
  // False: users and groups cannot be created, changed or deleted through it (LDAP).
  virtual bool writable() const = 0;
  // NotFound when there is no such user.
  virtual Result<User> GetUser(const std::string& user_id) = 0;
  virtual Result<User> GetUserByName(const std::string& name) = 0;
  // Users matching the filter's name and enabled (its domain_id is the caller's business).
  virtual Result<std::vector<User>> ListUsers(const IdentityFilter& filter) = 0;
  // OK when `password` is the user's; Unauthenticated otherwise (a wrong password, no such
  // user, an empty password: never which). LDAP: a simple bind as the user's DN.
  virtual Status CheckPassword(const std::string& user_id, const std::string& password) = 0;
  virtual Result<std::vector<Group>> ListGroups(const IdentityFilter& filter) = 0;
  virtual Result<Group> GetGroup(const std::string& group_id) = 0;
  // The groups `user_id` is a member of (empty when none, or no such user).
  virtual Result<std::vector<Group>> GroupsOfUser(const std::string& user_id) = 0;
};

// The LDAP driver (auth/ldap/ldap_identity.cc). Users' domain_id is `domain_id`, from_ldap true.
// Connects lazily: opening never fails for a directory that is down. Loads the module
// libcinder_ldap.so on first use (auth/ldap_loader.cc), from the running program's directory or
// the library path: FailedPrecondition, naming it, when it cannot be loaded.
Result<std::unique_ptr<IdentityDriver>> OpenLdapIdentity(const LdapOptions& options, const std::string& domain_id);

}  // namespace cinder::auth

#endif  // CINDER_AUTH_IDENTITY_DRIVER_H_

// The LDAP identity driver (ldap_identity.cc, in the module libcinder_ldap.so), and the pieces of
// it that its tests check on their own (ldap_values.cc, no libldap): how a value goes into a
// search filter, and how Keystone reads a user's enabled flag.
#ifndef CINDER_AUTH_LDAP_LDAP_IDENTITY_H_
#define CINDER_AUTH_LDAP_LDAP_IDENTITY_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/identity_driver.h"
#include "cinder/options.h"

namespace cinder::auth::ldap {

// The driver itself, as the module's entry point makes it (programs call OpenLdapIdentity, which
// loads the module): InvalidArgument for bad options; never connects.
Result<std::unique_ptr<IdentityDriver>> NewLdapIdentity(const LdapOptions& options, const std::string& domain_id);

// `value` as an assertion value inside a search filter (RFC 4515 section 3): '*', '(', ')',
// '\' and NUL become \2a, \28, \29, \5c and \00; every other byte (UTF-8 included) stays. So a
// value can never add a wildcard, close the filter or open another one.
std::string EscapeFilterValue(std::string_view value);

// True when `filter` is "" or one parenthesised LDAP filter with balanced parentheses (a \xx
// escape is not a parenthesis): [ldap] user_filter and group_filter are checked with it.
bool IsWellFormedFilter(std::string_view filter);

// Whether a user is enabled, as Keystone's UserApi reads it from `value` (the
// user_enabled_attribute's first value; nullopt when the entry has none, and then
// user_enabled_default is read instead):
// - user_enabled_mask != 0 (Active Directory's userAccountControl, mask 2): the value is an
//   integer, and the user is enabled unless every bit of the mask is set in it. A default that
//   is not an integer counts as a boolean ("True"); a value that is not one disables the user.
// - otherwise "true" in any case (LDAP's TRUE) or a non-zero integer is enabled, anything else
//   disabled; user_enabled_invert negates the result (the default too, as Keystone does).
bool UserEnabled(const LdapOptions& options, const std::optional<std::string>& value);

}  // namespace cinder::auth::ldap

#endif  // CINDER_AUTH_LDAP_LDAP_IDENTITY_H_

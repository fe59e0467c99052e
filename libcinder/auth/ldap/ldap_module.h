// The LDAP identity module (libcinder_ldap.so: ldap_identity.cc and ldap_module.cc) as the loader
// in auth/ (ldap_loader.cc, OpenLdapIdentity) sees it. The module is the only code linking
// libldap, and only a program configured with [identity] driver = ldap loads it.
//
// Its two entry points are C functions, found by name with dlsym. C++ objects cross by pointer:
// the module is built from the same sources by the same compiler in the same build as the
// program, and the loader refuses a module whose kAbiStamp differs (another compiler, or a
// changed type) rather than misread its objects.
#ifndef CINDER_AUTH_LDAP_LDAP_MODULE_H_
#define CINDER_AUTH_LDAP_LDAP_MODULE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/identity_driver.h"
#include "common/log.h"

namespace cinder::auth::ldap {

inline constexpr char kModuleFile[] = "libcinder_ldap.so";

// What the module takes from the program that loads it, so that process-wide state stays the
// program's: the module's log lines go to the program's log (common/log.cc, as configured), not
// to a second copy of it inside the module.
struct ModuleHost {
  bool (*log_enabled)(log::Level level);
  void (*log_write)(log::Level level, std::string_view service, std::string_view message);
};

// FNV-1a over the compiler's version and the sizes of the types that cross.
constexpr uint64_t AbiStamp() {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  for (unsigned char c : std::string_view(__VERSION__)) mix(c);
  for (uint64_t size : {sizeof(ModuleHost), sizeof(LdapOptions), sizeof(User), sizeof(Group), sizeof(IdentityFilter),
                        sizeof(Status), sizeof(std::string)}) {
    mix(size);
  }
  return h;
}
inline constexpr uint64_t kAbiStamp = AbiStamp();

}  // namespace cinder::auth::ldap

extern "C" {

// The module's kAbiStamp: called first, before any C++ object crosses.
uint64_t cinder_ldap_module_abi();

// A new LDAP identity driver (users' domain_id is `*domain_id`), or nullptr with `*error` set
// (InvalidArgument for bad options). The caller owns the driver; `*host` is copied.
cinder::auth::IdentityDriver* cinder_open_ldap_identity(const cinder::auth::ldap::ModuleHost* host,
                                                        const cinder::LdapOptions* options,
                                                        const std::string* domain_id, cinder::Status* error);
}

#endif  // CINDER_AUTH_LDAP_LDAP_MODULE_H_

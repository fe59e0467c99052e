// The LDAP identity module's entry points (ldap_module.h), and its log: cinder::log::Enabled and
// Write defined here hand each line to the program that loaded the module, so the module holds no
// log state of its own (common/log.cc is not linked into it; if it ever were, these two
// definitions would clash with it at link time).
#include "auth/ldap/ldap_module.h"

#include <atomic>
#include <memory>

#include "auth/ldap/ldap_identity.h"

namespace cinder::log {
namespace {

// The program's functions, set by each open (always to the same ones); no lines before the first.
std::atomic<bool (*)(Level)> host_enabled{nullptr};
std::atomic<void (*)(Level, std::string_view, std::string_view)> host_write{nullptr};

}  // namespace

bool Enabled(Level level) {
  auto enabled = host_enabled.load(std::memory_order_acquire);
  return enabled != nullptr && enabled(level);
}

void Write(Level level, std::string_view service, std::string_view message) {
  if (auto write = host_write.load(std::memory_order_acquire)) write(level, service, message);
}

}  // namespace cinder::log

#define CINDER_MODULE_EXPORT __attribute__((visibility("default")))

extern "C" CINDER_MODULE_EXPORT uint64_t cinder_ldap_module_abi() { return cinder::auth::ldap::kAbiStamp; }

extern "C" CINDER_MODULE_EXPORT cinder::auth::IdentityDriver* cinder_open_ldap_identity(
    const cinder::auth::ldap::ModuleHost* host, const cinder::LdapOptions* options, const std::string* domain_id,
    cinder::Status* error) {
  cinder::log::host_write.store(host->log_write, std::memory_order_release);
  cinder::log::host_enabled.store(host->log_enabled, std::memory_order_release);
  auto driver = cinder::auth::ldap::NewLdapIdentity(*options, *domain_id);
  if (!driver.ok()) {
    *error = driver.status();
    return nullptr;
  }
  return std::move(driver).value().release();
}

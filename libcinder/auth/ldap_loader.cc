// OpenLdapIdentity: the LDAP driver lives in a module of its own (libcinder_ldap.so,
// auth/ldap/ldap_module.h), loaded with dlopen the first time a program opens it, so that only a
// program configured with [identity] driver = ldap maps libldap and its TLS and SASL libraries.
//
// The module is looked for beside the running program first (the build's bin/, where the daemons
// and the test binaries are), then in the installed layout (cmake/install.cmake): beside the
// shared libcinder.so that holds this code, and in the lib/ beside the program's bin/ (the
// installed daemons); then by the dynamic linker's own search (LD_LIBRARY_PATH, the system's
// directories). Once loaded, the module stays loaded: the drivers it made run its code.
#include <dlfcn.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "auth/identity_driver.h"
#include "auth/ldap/ldap_module.h"
#include "common/log.h"

namespace cinder::auth {
namespace {

using AbiFn = decltype(&cinder_ldap_module_abi);
using OpenFn = decltype(&cinder_open_ldap_identity);

std::vector<std::string> ModulePaths() {
  std::vector<std::string> paths;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) paths.push_back((exe.parent_path() / ldap::kModuleFile).string());
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&ModulePaths), &self) != 0 && self.dli_fname != nullptr) {
    std::filesystem::path object = std::filesystem::absolute(self.dli_fname, ec);
    if (!ec && object != exe) paths.push_back((object.parent_path() / ldap::kModuleFile).string());
  }
  if (!exe.empty()) paths.push_back((exe.parent_path().parent_path() / "lib" / ldap::kModuleFile).string());
  paths.push_back(ldap::kModuleFile);  // no slash: the dynamic linker's search
  return paths;
}

// The module's open function, loading it on first use; FailedPrecondition naming the file and
// why each place failed when it cannot be loaded (the next call tries again).
Result<OpenFn> LoadModule() {
  static std::mutex mu;
  static OpenFn open = nullptr;
  std::lock_guard<std::mutex> lock(mu);
  if (open != nullptr) return open;
  std::string failures;
  for (const std::string& path : ModulePaths()) {
    void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    std::string failure;
    if (module == nullptr) {
      const char* error = dlerror();
      failure = error != nullptr ? error : path + ": dlopen failed";
    } else {
      auto abi = reinterpret_cast<AbiFn>(dlsym(module, "cinder_ldap_module_abi"));
      auto fn = reinterpret_cast<OpenFn>(dlsym(module, "cinder_open_ldap_identity"));
      if (abi == nullptr || fn == nullptr) {
        failure = path + ": not libcinder's LDAP module (no cinder_open_ldap_identity)";
      } else if (abi() != ldap::kAbiStamp) {
        failure = path + ": built by another build of libcinder (its ABI stamp differs): rebuild it with the program";
      } else {
        CINDER_LOG(kDebug, "ldap") << "loaded the LDAP identity module " << path;
        open = fn;
        return open;
      }
      dlclose(module);
    }
    failures += (failures.empty() ? "" : "; ") + failure;
  }
  return FailedPrecondition(std::string("[identity] driver = ldap needs the LDAP identity module ") +
                            ldap::kModuleFile +
                            " beside the program or on LD_LIBRARY_PATH, and it could not be loaded: " + failures);
}

}  // namespace

Result<std::unique_ptr<IdentityDriver>> OpenLdapIdentity(const LdapOptions& options, const std::string& domain_id) {
  CINDER_ASSIGN_OR_RETURN(OpenFn open, LoadModule());
  static const ldap::ModuleHost host{&log::Enabled, &log::Write};
  Status error = Internal("the LDAP identity module made no driver");
  IdentityDriver* driver = open(&host, &options, &domain_id, &error);
  if (driver == nullptr) return error;
  return std::unique_ptr<IdentityDriver>(driver);
}

}  // namespace cinder::auth

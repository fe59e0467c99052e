#include <dlfcn.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "cinder/driver_module.h"
#include "cinder/volume_driver.h"
#include "volume/drivers/file/file_driver.h"

namespace cinder {

namespace {

constexpr char kModuleOption[] = "volume_driver_module";

// The drivers a module named by volume_driver_module adds (cinder/driver_module.h), loaded once
// per path for the life of the process (its drivers run its code).
Result<const DriverRegistry*> LoadDriverModule(const std::string& section, const std::string& path) {
  static std::mutex mu;
  static auto* loaded = new std::map<std::string, std::unique_ptr<DriverRegistry>>;
  std::lock_guard<std::mutex> l(mu);
  if (auto it = loaded->find(path); it != loaded->end()) return it->second.get();
  const std::string where = "[" + section + "] " + kModuleOption + " " + path + ": ";
  if (path.empty() || path[0] != '/') return InvalidArgument(where + "give the module's absolute path");
  void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) {
    const char* error = dlerror();
    return InvalidArgument(where + "cannot be loaded: " + (error != nullptr ? error : "dlopen failed"));
  }
  using AbiFn = const char* (*)();
  using RegisterFn = void (*)(DriverRegistry*);
  auto abi = reinterpret_cast<AbiFn>(dlsym(module, "cinder_volume_driver_module_abi"));
  auto reg = reinterpret_cast<RegisterFn>(dlsym(module, "cinder_register_volume_drivers"));
  if (abi == nullptr || reg == nullptr) {
    dlclose(module);
    return InvalidArgument(where + "not a volume driver module (no CINDER_VOLUME_DRIVER_MODULE in it)");
  }
  if (std::string(abi()) != CINDER_DRIVER_MODULE_ABI) {
    const std::string theirs = abi();
    dlclose(module);
    return InvalidArgument(where + "built for \"" + theirs + "\", this libcinder needs \"" + CINDER_DRIVER_MODULE_ABI +
                           "\": rebuild it against these headers");
  }
  auto registry = std::make_unique<DriverRegistry>();
  reg(registry.get());
  if (registry->Names().empty()) return InvalidArgument(where + "adds no volume driver");
  const DriverRegistry* out = registry.get();
  loaded->emplace(path, std::move(registry));
  return out;
}

}  // namespace

void DriverRegistry::Register(const std::string& name, DriverInfo info) { drivers_[name] = std::move(info); }

const DriverInfo* DriverRegistry::Find(const std::string& name) const {
  auto it = drivers_.find(name);
  return it == drivers_.end() ? nullptr : &it->second;
}

std::vector<std::string> DriverRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& kv : drivers_) out.push_back(kv.first);
  return out;
}

void RegisterBuiltinDrivers(DriverRegistry* registry) { registry->Register("file", FileDriverInfo()); }

const DriverRegistry& DriverRegistry::Builtin() {
  static const DriverRegistry* kBuiltin = [] {
    auto* r = new DriverRegistry;
    RegisterBuiltinDrivers(r);
    return r;
  }();
  return *kBuiltin;
}

Result<std::unique_ptr<VolumeDriver>> OpenDriver(const DriverRegistry& registry, const DriverContext& ctx) {
  const BackendOptions& b = ctx.backend;
  const DriverRegistry* from = &registry;
  if (auto module = b.driver_options.find(kModuleOption); module != b.driver_options.end()) {
    CINDER_ASSIGN_OR_RETURN(from, LoadDriverModule(b.name, module->second));
  }
  const DriverInfo* info = from->Find(b.volume_driver);
  if (!info) {
    std::string names;
    for (const auto& n : from->Names()) names += (names.empty() ? "" : ", ") + n;
    return InvalidArgument("[" + b.name + "] volume_driver: unknown driver '" + b.volume_driver + "' (" +
                           (from == &registry ? "available" : "its volume_driver_module adds") + ": " + names + ")");
  }
  for (const auto& [opt, value] : b.driver_options) {
    if (opt == kModuleOption) continue;
    if (std::find(info->options.begin(), info->options.end(), opt) == info->options.end()) {
      std::string accepted;
      for (const auto& n : info->options) accepted += (accepted.empty() ? "" : ", ") + n;
      return InvalidArgument("[" + b.name + "] " + opt + ": unknown option for volume driver '" + b.volume_driver +
                             "' (accepted: volume_driver, volume_backend_name, "
                             "max_over_subscription_ratio, reserved_percentage, filter_function, "
                             "goodness_function, backend_availability_zone, extra_capabilities, volume_driver_module" +
                             (accepted.empty() ? "" : ", " + accepted) + ")");
    }
  }
  return info->factory(ctx);
}

Result<BackendStats> VolumeDriver::GetStats() {
  CINDER_ASSIGN_OR_RETURN(BackendCapacity cap, GetCapacity());
  BackendStats stats;
  PoolStats pool;
  pool.total_capacity_gb = cap.total_capacity_gb;
  pool.free_capacity_gb = cap.free_capacity_gb;
  stats.pools.push_back(pool);
  return stats;
}

Result<std::vector<std::string>> VolumeDriver::ListVolumes() {
  return Unimplemented("this volume driver does not list its volumes");
}

Status VolumeDriver::CreateSnapshot(const std::string&, const std::string&) {
  return Unimplemented("this volume driver does not take snapshots");
}

Status VolumeDriver::DeleteSnapshot(const std::string&, const std::string&) {
  return Unimplemented("this volume driver does not take snapshots");
}

Status VolumeDriver::CreateVolumeFromSnapshot(const std::string&, int64_t, const std::string&) {
  return Unimplemented("this volume driver cannot create volumes from snapshots");
}

Status VolumeDriver::CreateClonedVolume(const std::string&, int64_t, const std::string&) {
  return Unimplemented("this volume driver cannot clone volumes");
}

Status VolumeDriver::RevertToSnapshot(const std::string&, const std::string&, int64_t) {
  return Unimplemented("this volume driver cannot revert volumes to snapshots");
}

Result<std::vector<ManageableObject>> VolumeDriver::ListManageableVolumes() {
  return Unimplemented("this volume driver cannot list manageable volumes");
}

Result<std::vector<ManageableObject>> VolumeDriver::ListManageableSnapshots() {
  return Unimplemented("this volume driver cannot list manageable snapshots");
}

Result<int64_t> VolumeDriver::ManageExisting(const std::string&, const std::string&) {
  return Unimplemented("this volume driver cannot manage existing volumes");
}

Result<int64_t> VolumeDriver::ManageExistingSnapshot(const std::string&, const std::string&, const std::string&) {
  return Unimplemented("this volume driver cannot manage existing snapshots");
}

Status VolumeDriver::UnmanageVolume(const std::string&) {
  return Unimplemented("this volume driver cannot unmanage volumes");
}

Status VolumeDriver::UnmanageSnapshot(const std::string&, const std::string&) {
  return Unimplemented("this volume driver cannot unmanage snapshots");
}

}  // namespace cinder

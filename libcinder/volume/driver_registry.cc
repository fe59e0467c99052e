#include <algorithm>

#include "cinder/volume_driver.h"
#include "volume/drivers/file/file_driver.h"

namespace cinder {

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
  const DriverInfo* info = registry.Find(b.volume_driver);
  if (!info) {
    std::string names;
    for (const auto& n : registry.Names()) names += (names.empty() ? "" : ", ") + n;
    return InvalidArgument("[" + b.name + "] volume_driver: unknown driver '" + b.volume_driver +
                           "' (available: " + names + ")");
  }
  for (const auto& [opt, value] : b.driver_options) {
    if (std::find(info->options.begin(), info->options.end(), opt) == info->options.end()) {
      std::string accepted;
      for (const auto& n : info->options) accepted += (accepted.empty() ? "" : ", ") + n;
      return InvalidArgument("[" + b.name + "] " + opt + ": unknown option for volume driver '" + b.volume_driver +
                             "' (accepted: volume_driver, volume_backend_name, "
                             "max_over_subscription_ratio, reserved_percentage, filter_function, "
                             "goodness_function, backend_availability_zone, extra_capabilities" +
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

// VolumeDriver: what a backend must do to hold volumes. Drivers are registered by name.
#ifndef CINDER_VOLUME_DRIVER_H_
#define CINDER_VOLUME_DRIVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cinder/options.h"
#include "cinder/status.h"

namespace cinder {

struct BackendCapacity {
  double total_capacity_gb = 0;
  double free_capacity_gb = 0;
};

// One pool as the driver measures it (a pool of Cinder's get_volume_stats).
struct PoolStats {
  std::string pool_name;         // "": the backend's volume_backend_name
  double total_capacity_gb = 0;  // +infinity: "infinite"
  double free_capacity_gb = 0;
  // Apparent size of what the pool holds; unset: the sizes of its volumes (Cinder's default).
  std::optional<double> provisioned_capacity_gb;
  bool thin_provisioning_support = false;
  bool thick_provisioning_support = false;
  // Any other capability the pool reports (values as Python's str() prints them).
  std::map<std::string, std::string> capabilities;
};

// A backend object that may be brought under libcinder's management (Cinder's
// get_manageable_volumes / get_manageable_snapshots entries, before the volume service adds
// what only the database knows).
struct ManageableObject {
  std::string reference;  // what {"source-name": reference} names
  int64_t size_gb = 0;    // its size in GiB, rounded up
  // The volume (or snapshot) id its name says it holds, as Cinder's extract_id_from_volume_name:
  // it is "already managed" while that volume (snapshot) lives.
  std::optional<std::string> cinder_id;
  // Snapshots: the reference of the volume it is a snapshot of, when known.
  std::optional<std::string> source_reference;
  // Why it may not be managed whoever holds it ("volume in use"), when so.
  std::optional<std::string> reason_not_safe;
};

struct BackendStats {
  std::string vendor_name = "Open Source";  // what Cinder's own drivers (LVM, NFS) report
  std::string driver_version = "1.0";
  std::string storage_protocol;  // empty: the protocol of the backend's target helper ("iSCSI" or "file")
  std::vector<PoolStats> pools;
};

// Implementations must be safe for concurrent calls on different volumes; libcinder never
// runs two operations on the same volume at once.
class VolumeDriver {
 public:
  virtual ~VolumeDriver() = default;
  // Creates the volume `id` of `size_gb` GiB. AlreadyExists if it exists.
  virtual Status CreateVolume(const std::string& id, int64_t size_gb) = 0;
  // Grows the volume to `new_size_gb`. NotFound if it does not exist.
  virtual Status ExtendVolume(const std::string& id, int64_t new_size_gb) = 0;
  // Removes the volume. Deleting a volume that does not exist succeeds.
  virtual Status DeleteVolume(const std::string& id) = 0;
  // Returns true if the volume exists on the backend.
  virtual bool VolumeExists(const std::string& id) = 0;
  // A path or URL where the volume's data can be reached locally ("" if none).
  virtual std::string LocalPath(const std::string& id) = 0;
  virtual Result<BackendCapacity> GetCapacity() = 0;

  // Snapshots and copies. The defaults answer Unimplemented (the volume or snapshot goes to
  // error with a message). A snapshot is a point-in-time image of its volume: writing the
  // volume afterwards never changes it.
  // Takes the snapshot `snapshot_id` of the volume `volume_id`. AlreadyExists if it exists;
  // NotFound if the volume does not.
  virtual Status CreateSnapshot(const std::string& volume_id, const std::string& snapshot_id);
  // Removes the snapshot. Deleting a snapshot that does not exist succeeds.
  virtual Status DeleteSnapshot(const std::string& volume_id, const std::string& snapshot_id);
  // Where the snapshot's data can be read locally ("" if nowhere: the default), for a backup
  // of it.
  virtual std::string SnapshotLocalPath(const std::string& snapshot_id) { return ""; }
  // Creates the volume `id` of `size_gb` GiB (at least the snapshot's size) holding the
  // snapshot's data.
  virtual Status CreateVolumeFromSnapshot(const std::string& id, int64_t size_gb, const std::string& snapshot_id);
  // Creates the volume `id` of `size_gb` GiB (at least the source's size) holding a copy of
  // the volume `source_id`.
  virtual Status CreateClonedVolume(const std::string& id, int64_t size_gb, const std::string& source_id);
  // Makes the volume hold the snapshot's data again, keeping its size `size_gb` (at least the
  // snapshot's). The volume changes all at once or not at all.
  virtual Status RevertToSnapshot(const std::string& volume_id, const std::string& snapshot_id, int64_t size_gb);
  // The backend's pools for the schedulers. By default one pool with GetCapacity()'s figures
  // that supports neither thin nor thick provisioning (Cinder's defaults).
  virtual Result<BackendStats> GetStats();
  // The ids of every volume the backend holds, so that the volume service can remove what
  // belongs to no volume of its own (a copy a migration left when its host died). The
  // default answers Unimplemented: nothing is reconciled.
  virtual Result<std::vector<std::string>> ListVolumes();

  // Manage existing (Cinder's manage_existing, unmanage and get_manageable_*). The defaults
  // answer Unimplemented. The objects of the backend that are not (or no longer) its volumes
  // or snapshots, and its own ones (with their cinder_id), sorted by reference.
  virtual Result<std::vector<ManageableObject>> ListManageableVolumes();
  virtual Result<std::vector<ManageableObject>> ListManageableSnapshots();
  // Makes the object `ref` (a reference ListManageable* shows) the volume `id` and returns its
  // size in GiB (rounded up; the volume is that size afterwards). NotFound when `ref` names
  // nothing; the object is as it was when this fails.
  virtual Result<int64_t> ManageExisting(const std::string& id, const std::string& ref);
  // The same for the snapshot `snapshot_id` of the volume `volume_id`.
  virtual Result<int64_t> ManageExistingSnapshot(const std::string& volume_id, const std::string& snapshot_id,
                                                 const std::string& ref);
  // Leaves the volume (snapshot) on the backend, no longer its own: it is then one of the
  // objects ListManageable* shows, under a reference no volume (snapshot) id names.
  virtual Status UnmanageVolume(const std::string& id);
  virtual Status UnmanageSnapshot(const std::string& volume_id, const std::string& snapshot_id);
};

class Env;

// Everything a driver factory gets: its backend section and the service-wide options.
struct DriverContext {
  BackendOptions backend;
  std::string state_path;
  // What the driver's clock and file calls go through (cinder/env.h), for as long as the
  // driver lives; nullptr: Env::Default(). The volume service passes Options::env.
  Env* env = nullptr;
};

using DriverFactory = std::function<Result<std::unique_ptr<VolumeDriver>>(const DriverContext&)>;

struct DriverInfo {
  DriverFactory factory;
  std::vector<std::string> options;  // option names the driver accepts in its section
};

// Maps driver names (the volume_driver option) to factories.
class DriverRegistry {
 public:
  void Register(const std::string& name, DriverInfo info);
  const DriverInfo* Find(const std::string& name) const;
  std::vector<std::string> Names() const;
  // The registry with every built-in driver ("file").
  static const DriverRegistry& Builtin();

 private:
  std::map<std::string, DriverInfo> drivers_;
};

// Adds the built-in volume drivers to `registry`.
void RegisterBuiltinDrivers(DriverRegistry* registry);

// Opens the driver named by `ctx.backend.volume_driver`; InvalidArgument for an unknown name
// or a driver option it does not accept.
Result<std::unique_ptr<VolumeDriver>> OpenDriver(const DriverRegistry& registry, const DriverContext& ctx);

}  // namespace cinder

#endif  // CINDER_VOLUME_DRIVER_H_

// What the API-side classes of this folder share: Cinder's checks of names and metadata, and
// what a snapshot of a volume needs of it and starts as (a single snapshot, or a group snapshot's
// member).
#ifndef CINDER_VOLUME_API_COMMON_H_
#define CINDER_VOLUME_API_COMMON_H_

#include <optional>
#include <string>

#include "cinder/context.h"
#include "cinder/status.h"
#include "cinder/volume.h"
#include "common/util.h"
#include "db/store.h"

namespace cinder {

inline Status CheckLength(const std::string& what, const std::string& value, size_t max) {
  if (value.size() > max) {
    return InvalidArgument("Invalid input received: " + what + " has " + std::to_string(value.size()) +
                           " characters, more than " + std::to_string(max) + ".");
  }
  return Status::OK();
}

inline Status CheckMetadata(const Metadata& md) {
  for (const auto& [k, v] : md) {
    if (k.empty()) return InvalidArgument("Invalid input received: Metadata property key blank.");
    if (k.size() > 255) {
      return InvalidArgument("Invalid input received: Metadata property key greater than 255 characters.");
    }
    if (v.size() > 255) {
      return InvalidArgument("Invalid input received: Metadata property value greater than 255 characters.");
    }
  }
  return Status::OK();
}

// cinder/volume/api.py _create_snapshot_in_db_validate, in its order, but for the volume's
// status, which its callers check against their own lists.
inline Status CheckSnapshotSource(const Volume& v) {
  auto invalid = [](const std::string& reason) { return FailedPrecondition("Invalid volume: " + reason); };
  if (v.host.empty()) {
    return invalid("The snapshot cannot be created because volume has not been scheduled to any host.");
  }
  if (v.status == "maintenance")
    return invalid("The snapshot cannot be created when the volume is in maintenance mode.");
  if (v.migration_status && v.migration_status->rfind("migrating", 0) == 0) {
    return invalid("Snapshot cannot be created while volume is migrating.");
  }
  if (v.status == volume_status::kError) {
    return invalid("The snapshot cannot be created when the volume is in error status.");
  }
  return Status::OK();
}

// Cinder's assert_not_frozen: no delete or snapshot on a frozen backend (os-services/freeze).
inline Status CheckNotFrozen(Store& store, const Volume& v) {
  if (v.host.empty()) return Status::OK();
  CINDER_ASSIGN_OR_RETURN(bool frozen, store.IsBackendFrozen(v.host, v.cluster_name));
  if (frozen) {
    return InvalidArgument(
        "Invalid input received: Modification operations are not allowed on frozen storage backends.");
  }
  return Status::OK();
}

// A new snapshot of `v` as it is recorded: `creating`, 0%, the volume's size and type, ctx's.
inline Snapshot NewSnapshotOf(const RequestContext& ctx, const Volume& v, const std::optional<std::string>& name,
                              const std::optional<std::string>& description) {
  Snapshot sn;
  sn.id = NewUuid();
  sn.volume_id = v.id;
  sn.name = name;
  sn.description = description;
  sn.status = snapshot_status::kCreating;
  sn.progress = "0%";
  sn.size = v.size;
  sn.project_id = ctx.project_id;
  sn.user_id = ctx.user_id;
  sn.volume_type_id = v.volume_type_id;
  return sn;
}

}  // namespace cinder

#endif  // CINDER_VOLUME_API_COMMON_H_

// Volume records and the requests that create, change and list them.
#ifndef CINDER_VOLUME_H_
#define CINDER_VOLUME_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cinder {

using Metadata = std::map<std::string, std::string>;

// Status strings are Cinder's (cinder/objects/fields.py VolumeStatus).
namespace volume_status {
inline constexpr const char kCreating[] = "creating";
inline constexpr const char kAvailable[] = "available";
inline constexpr const char kDeleting[] = "deleting";
inline constexpr const char kError[] = "error";
inline constexpr const char kErrorDeleting[] = "error_deleting";
inline constexpr const char kExtending[] = "extending";
inline constexpr const char kErrorExtending[] = "error_extending";
inline constexpr const char kInUse[] = "in-use";
inline constexpr const char kRetyping[] = "retyping";
inline constexpr const char kReverting[] = "reverting";
inline constexpr const char kReserved[] = "reserved";
inline constexpr const char kAttaching[] = "attaching";
inline constexpr const char kDetaching[] = "detaching";
inline constexpr const char kMaintenance[] = "maintenance";
}  // namespace volume_status

// A volume's and an attachment's attach_status (cinder/objects/fields.py VolumeAttachStatus).
namespace attach_status {
inline constexpr const char kDetached[] = "detached";
inline constexpr const char kReserved[] = "reserved";
inline constexpr const char kAttaching[] = "attaching";
inline constexpr const char kAttached[] = "attached";
inline constexpr const char kDetaching[] = "detaching";
inline constexpr const char kErrorAttaching[] = "error_attaching";
inline constexpr const char kErrorDetaching[] = "error_detaching";
}  // namespace attach_status

// A volume's attachment to an instance or a host (Cinder's volume_attachment row).
struct Attachment {
  std::string id;
  std::string volume_id;
  std::optional<std::string> instance_uuid;
  std::optional<std::string> attached_host;  // the connector's host
  std::optional<std::string> mountpoint;
  std::optional<std::string> attach_time;  // ISO 8601, as created_at
  std::optional<std::string> detach_time;
  std::string attach_status;                   // attach_status::*
  std::optional<std::string> attach_mode;      // "rw", "ro", "null" (none asked), or unset
  std::optional<std::string> connection_info;  // JSON object text: how to reach the volume
  std::optional<std::string> connector;        // JSON object text: the connector it was made for
  std::string created_at;
};

// Returns true if `status` is one of Cinder's volume statuses.
bool IsValidVolumeStatus(const std::string& status);

struct Volume {
  std::string id;
  std::string name;  // may be empty (shown as null)
  bool has_name = false;
  std::string description;  // may be empty (shown as null)
  bool has_description = false;
  int64_t size = 0;  // GiB
  std::string status;
  std::string attach_status = "detached";
  std::optional<std::string> migration_status;
  std::string availability_zone;
  std::string host;  // host@backend#pool, empty until placed
  std::string project_id;
  std::string user_id;
  std::string volume_type_id;
  std::string volume_type_name;
  std::optional<std::string> snapshot_id;
  std::optional<std::string> source_volid;
  bool bootable = false;
  bool multiattach = false;
  Metadata metadata;
  std::string created_at;  // ISO 8601, microseconds, UTC: 2024-01-02T03:04:05.123456
  std::optional<std::string> updated_at;
  // Cinder's admin metadata the views show among the metadata: "readonly" ("True"/"False",
  // set by os-update_readonly_flag and os-attach) and "attached_mode" (a legacy attach's mode).
  std::optional<std::string> readonly;
  std::optional<std::string> attached_mode;
  std::vector<Attachment> attachments;  // those attached (attach_status "attached")
  std::optional<std::string> group_id;  // the generic volume group it belongs to (3.13)
  // The cluster of the volume service that holds it (`cluster = NAME` in cinder.conf:
  // NAME@backend), unset when that service is in none; shown to admins from 3.61.
  std::optional<std::string> cluster_name;
};

// Cinder's scheduler hints (OS-SCH-HNT:scheduler_hints).
struct SchedulerHints {
  std::vector<std::string> same_host;       // volume ids: on the same pool as one of them
  std::vector<std::string> different_host;  // volume ids: on a pool none of them is on
  std::optional<std::string> query;         // JsonFilter's query (JSON text)
};

struct VolumeCreate {
  int64_t size = 0;                         // 0 with a snapshot or source volume: the same size as it
  std::optional<std::string> snapshot_id;   // a new volume holding this snapshot's data
  std::optional<std::string> source_volid;  // a clone of this volume
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> volume_type;  // name or id; the default type when unset
  std::optional<std::string> availability_zone;
  Metadata metadata;
  SchedulerHints hints;
  std::optional<std::string> group_id;  // a volume of this group (3.13), on the group's backend
};

// Fields left unset are not changed. A name or description set to an empty optional is
// cleared (shown as null), as a JSON null does in Cinder.
struct VolumeUpdate {
  std::optional<std::optional<std::string>> name;
  std::optional<std::optional<std::string>> description;
  std::optional<Metadata> metadata;  // replaces all metadata when set
  std::optional<bool> bootable;      // os-set_bootable
};

// One comparison of a time filter (3.60, `created_at=gt:2024-01-02T03:04:05`): `op` is one of
// gt, gte, eq, neq, lt, lte; `time` is UTC in the store's format (NowIso()).
struct TimeComparison {
  std::string op;
  std::string time;
};

struct SortKey {
  std::string key;  // API name: created_at, id, name, size, status, ...
  bool ascending = false;
};

struct AttachmentListQuery {
  std::optional<std::string> volume_id;
  std::optional<std::string> instance_uuid;
  std::optional<std::string> attach_status;
  bool all_tenants = false;               // admin only: every project
  std::optional<std::string> project_id;  // admin with all_tenants: only this project
  std::vector<SortKey> sort;              // default created_at desc, id desc
  int64_t limit = -1;
  std::optional<std::string> marker;
  int64_t offset = 0;
};

// Snapshot status strings are Cinder's (cinder/objects/fields.py SnapshotStatus).
namespace snapshot_status {
inline constexpr const char kCreating[] = "creating";
inline constexpr const char kAvailable[] = "available";
inline constexpr const char kDeleting[] = "deleting";
inline constexpr const char kError[] = "error";
inline constexpr const char kErrorDeleting[] = "error_deleting";
inline constexpr const char kRestoring[] = "restoring";
}  // namespace snapshot_status

// A point-in-time image of a volume.
struct Snapshot {
  std::string id;
  std::string volume_id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string status;
  std::string progress = "0%";
  int64_t size = 0;  // GiB: the volume's size when it was taken
  std::string project_id;
  std::string user_id;
  bool use_quota = true;
  // The volume's type when it was taken (what the snapshot's per-type quota counts for).
  std::string volume_type_id;
  std::string volume_type_name;
  Metadata metadata;
  std::string created_at;
  std::optional<std::string> updated_at;
  std::optional<std::string> group_snapshot_id;  // the group snapshot it was taken for (3.14)
};

struct SnapshotCreate {
  std::string volume_id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  Metadata metadata;
  bool force = false;  // also of an in-use volume
};

struct SnapshotListQuery {
  std::optional<std::string> name;
  std::optional<std::string> status;
  std::optional<std::string> volume_id;
  std::optional<std::string> availability_zone;  // its volume's
  Metadata metadata;                             // every pair must match
  std::optional<bool> use_quota;                 // 3.65 consumes_quota
  // Substring filters (3.34, `name~=abc`), by API name: name, description, status.
  Metadata like;
  bool all_tenants = false;               // admin only: every project
  std::optional<std::string> project_id;  // admin with all_tenants: only this project
  std::vector<SortKey> sort;              // default created_at desc, id desc
  int64_t limit = -1;
  std::optional<std::string> marker;
  int64_t offset = 0;
  bool with_count = false;
};

struct SnapshotList {
  std::vector<Snapshot> snapshots;
  bool more = false;
  int64_t count = 0;
};

// A volume type: what a volume asks of its backend (extra specs), as Cinder's.
struct VolumeType {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  bool is_public = true;
  Metadata extra_specs;
  std::optional<std::string> qos_specs_id;
  std::string created_at;
};

// A volume type's encryption (Cinder's encryption table: /types/{id}/encryption).
struct VolumeTypeEncryption {
  std::string volume_type_id;
  std::string encryption_id;
  std::string provider;
  std::optional<std::string> cipher;
  std::optional<int64_t> key_size;
  std::string control_location;  // "front-end" or "back-end"
  std::string created_at;
  std::optional<std::string> updated_at;
};

// The fields an encryption create or update sets; unset ones are left alone (create: null).
struct VolumeTypeEncryptionUpdate {
  std::optional<std::string> provider;
  std::optional<std::optional<std::string>> cipher;
  std::optional<std::optional<int64_t>> key_size;
  std::optional<std::string> control_location;
};

// A group type (3.11): what a generic volume group is, by its group specs (Cinder's group_types).
struct GroupType {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  bool is_public = true;
  Metadata group_specs;
  std::string created_at;
};

// Group statuses (cinder/objects/fields.py GroupStatus).
namespace group_status {
inline constexpr const char kCreating[] = "creating";
inline constexpr const char kAvailable[] = "available";
inline constexpr const char kUpdating[] = "updating";
inline constexpr const char kDeleting[] = "deleting";
inline constexpr const char kError[] = "error";
inline constexpr const char kErrorDeleting[] = "error_deleting";
}  // namespace group_status

// A generic volume group (3.13): volumes of the group's volume types on one backend.
struct VolumeGroup {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string status;
  std::string availability_zone;
  std::string host;  // host@backend#pool, empty until placed
  std::string project_id;
  std::string user_id;
  std::string group_type_id;
  std::vector<std::string> volume_type_ids;
  std::vector<std::string> volume_ids;  // its volumes (read by GetGroup only)
  std::string created_at;
  std::optional<std::string> updated_at;
  std::optional<std::string> group_snapshot_id;  // made from this group snapshot (3.14)
  std::optional<std::string> source_group_id;    // cloned from this group (3.14)
};

// A group made from a group snapshot's snapshots or a group's volumes (3.14, create-from-src):
// exactly one of the two sources.
struct GroupCreateFromSource {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> group_snapshot_id;
  std::optional<std::string> source_group_id;
};

// Group snapshot statuses (cinder/objects/fields.py GroupSnapshotStatus).
namespace group_snapshot_status {
inline constexpr const char kCreating[] = "creating";
inline constexpr const char kAvailable[] = "available";
inline constexpr const char kDeleting[] = "deleting";
inline constexpr const char kError[] = "error";
inline constexpr const char kErrorDeleting[] = "error_deleting";
}  // namespace group_snapshot_status

// A group snapshot (3.14): one snapshot of each volume of a group, taken together.
struct GroupSnapshot {
  std::string id;
  std::string group_id;
  std::string group_type_id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string status;
  std::string project_id;
  std::string user_id;
  std::string created_at;
  std::optional<std::string> updated_at;
  std::vector<std::string> snapshot_ids;  // its snapshots (read by GetGroupSnapshot only)
};

struct GroupSnapshotCreate {
  std::string group_id;
  std::optional<std::string> name;
  std::optional<std::string> description;
};

struct GroupSnapshotListQuery {
  // Filters by column: name, status, group_id, id, description (another key matches nothing).
  std::map<std::string, std::string> filters;
  bool all_tenants = false;  // admin only
  std::vector<SortKey> sort;
  int64_t limit = -1;
  std::optional<std::string> marker;
  int64_t offset = 0;
};

struct GroupCreate {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string group_type;                 // name or id
  std::vector<std::string> volume_types;  // names or ids
  std::optional<std::string> availability_zone;
};

// Fields left unset are not changed. add/remove_volumes: comma-separated volume ids.
struct GroupUpdate {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> add_volumes;
  std::optional<std::string> remove_volumes;
};

struct GroupListQuery {
  // Filters by column: name, status, availability_zone, group_type_id, host (any other key
  // matches nothing, as Cinder's model filters).
  std::map<std::string, std::string> filters;
  bool all_tenants = false;  // admin only
  std::vector<SortKey> sort;
  int64_t limit = -1;
  std::optional<std::string> marker;
};

// QoS specs: limits for volumes of the types associated with them (Cinder's qos-specs).
struct QosSpecs {
  std::string id;
  std::string name;
  std::string consumer = "back-end";  // "front-end", "back-end" or "both"
  Metadata specs;
  std::string created_at;
};

// A volume offered to another project (Cinder's volume transfers).
struct Transfer {
  std::string id;
  std::string volume_id;
  std::optional<std::string> name;
  std::string auth_key;  // only in the answer to its creation
  bool no_snapshots = false;
  std::string source_project_id;
  std::optional<std::string> destination_project_id;
  bool accepted = false;
  std::string created_at;
};

struct VolumeListQuery {
  std::optional<std::string> name;
  std::optional<std::string> status;
  std::optional<std::string> availability_zone;
  std::optional<std::string> migration_status;
  std::optional<bool> bootable;
  // 3.65 consumes_quota: every volume here counts against its project's quota (no temporary
  // volumes are made), so false matches none.
  std::optional<bool> use_quota;
  std::optional<std::string> size;  // as given: one that is not a whole number matches nothing
  Metadata metadata;                // every pair must match
  Metadata glance_metadata;         // image metadata (3.4): every pair must match
  // Time filters (3.60): a volume matches when ANY comparison of a field holds (Cinder ORs
  // them); both fields' filters must match.
  std::vector<TimeComparison> created_at;
  std::vector<TimeComparison> updated_at;
  std::optional<std::string> group_id;  // 3.10: only the volumes of this group
  // Substring filters (3.34, `name~=abc`, case-insensitive as Cinder on MySQL), by API name:
  // name, description, status, availability_zone, migration_status.
  Metadata like;
  bool all_tenants = false;               // admin only: every project
  std::optional<std::string> project_id;  // admin with all_tenants: only this project
  std::vector<SortKey> sort;              // default created_at desc, id desc
  int64_t limit = -1;                     // -1: up to the configured maximum
  std::optional<std::string> marker;      // id of the last volume of the previous page
  bool with_count = false;
};

struct VolumeList {
  std::vector<Volume> volumes;
  bool more = false;  // there is a next page
  int64_t count = 0;  // total matching, when with_count
};

// What one project (or "(total)") holds on a volume host (os-hosts/{host}).
struct HostProjectUsage {
  std::string project;
  int64_t volume_count = 0;
  int64_t total_volume_gb = 0;
  int64_t snapshot_count = 0;
  int64_t total_snapshot_gb = 0;
};

// A service as the services table records it (cinder-volume, cinder-scheduler, ...).
struct ServiceInfo {
  std::string host;    // cinder-volume: host@backend
  std::string binary;  // "cinder-volume", "cinder-scheduler"
  std::string topic;
  std::string availability_zone;
  bool disabled = false;
  std::optional<std::string> disabled_reason;
  std::string endpoint;  // where it is reached over a transport ("" in process)
  int rpc_version = 0;
  std::string created_at;
  std::optional<std::string> updated_at;  // the last heartbeat
  bool up = false;                        // heard from within service_down_time
  // The cluster it belongs to (cinder.conf `cluster = NAME`: NAME@backend), if any; then the
  // cluster's disabled flag, not its own, decides whether it gets new volumes (Cinder's rule).
  std::optional<std::string> cluster_name;
  bool cluster_disabled = false;
  bool frozen = false;  // os-services/freeze: no new volumes, no deletes or snapshots
};

// A cluster of volume services (API 3.7): those of one `cluster` setting and backend.
struct ClusterInfo {
  std::string name;  // NAME@backend
  std::string binary;
  bool disabled = false;
  std::optional<std::string> disabled_reason;
  bool frozen = false;
  int num_hosts = 0;                          // its services
  int num_down_hosts = 0;                     // of them, those not heard from within service_down_time
  bool up = false;                            // at least one service up
  std::optional<std::string> last_heartbeat;  // its services' latest
  std::string created_at;
  std::optional<std::string> updated_at;
};

// GET /clusters filters (Cinder's allowed_list_keys).
struct ClusterQuery {
  std::optional<std::string> name;
  std::optional<std::string> binary;
  std::optional<bool> is_up;
  std::optional<bool> disabled;
  std::optional<int> num_hosts;
  std::optional<int> num_down_hosts;
};

// workers/cleanup: the request's filters (unset: not filtered; is_up defaults to false, as
// Cinder's CleanupRequest) and the services that were asked to clean and those that could not be.
struct WorkCleanupFilters {
  std::optional<int64_t> service_id;
  std::optional<std::string> cluster_name, host, binary, resource_id, resource_type;
  std::optional<bool> is_up = false;
  std::optional<bool> disabled;
};
struct WorkCleanupResult {
  struct Service {
    int64_t id = 0;
    std::string host, binary;
    std::optional<std::string> cluster_name;
  };
  std::vector<Service> cleaning, unavailable;
};

}  // namespace cinder

#endif  // CINDER_VOLUME_H_

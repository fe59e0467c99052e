// Store: libcinder's SQL database (SQLite or PostgreSQL through SOCI).
//
// Only this folder sees SOCI. Every status change is one conditional UPDATE on the expected
// status (compare-and-swap); rows are soft-deleted (deleted, deleted_at) and purged later.
// A Store is safe for concurrent use: it keeps a small pool of connections.
#ifndef CINDER_DB_STORE_H_
#define CINDER_DB_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cinder/backup.h"
#include "cinder/message.h"
#include "cinder/status.h"
#include "cinder/volume.h"

namespace cinder {

// A pool as its volume service last reported it (the pools table).
struct PoolRecord {
  std::string host;          // host@backend#pool
  std::string backend_host;  // host@backend
  std::map<std::string, std::string> capabilities;
  // GiB of the volumes whose space the report's figures include (those not being created when
  // it was measured): what was claimed since is the pool's allocation now less this.
  double allocated_at_report = 0;
  std::string reported_at;
};

// Live volumes on one host@backend#pool.
struct HostUsage {
  int64_t count = 0;
  double gb = 0;
};

enum class ClaimResult { kClaimed, kNoRoom, kVolumeGone };

// Which project's rows a read may see; nullopt means every project (admin all_tenants).
using ProjectScope = std::optional<std::string>;

// One column to change alongside a status (value nullopt writes NULL).
using FieldUpdate = std::pair<std::string, std::optional<std::string>>;

// What a volume of `size` GiB of the type named `type_name` counts for in quotas (volumes,
// gigabytes, volumes_TYPE, gigabytes_TYPE), times `sign`; and a snapshot (snapshots,
// snapshots_TYPE and, when `count_gigabytes`, gigabytes and gigabytes_TYPE).
std::map<std::string, int64_t> VolumeQuotaDeltas(const std::string& type_name, int64_t size, int sign);
std::map<std::string, int64_t> SnapshotQuotaDeltas(const std::string& type_name, int64_t size, int sign,
                                                   bool count_gigabytes);
// What a backup of `size` GiB counts for (backups, backup_gigabytes), times `sign`.
std::map<std::string, int64_t> BackupQuotaDeltas(int64_t size, int sign);

// A create's quota: the deltas it adds to `project`'s usage. The limits they must fit are read
// in the create's transaction: the project's own, else (with `use_default_class`) the quota
// class "default"'s, else `default_limits` (absent or -1: unlimited). With `volume_size`, a
// volume larger than its per_volume_gigabytes limit does not fit either.
struct QuotaCharge {
  std::string project;
  std::map<std::string, int64_t> deltas;
  std::map<std::string, int64_t> default_limits;
  bool use_default_class = true;
  std::optional<int64_t> volume_size;
  // The volume type whose name the per-type deltas carry (Aborted if it was renamed since).
  std::string type_id;
  std::string type_name;
};

class Store {
 public:
  static constexpr int kLatestVersion = 19;
  static constexpr const char kDefaultVolumeType[] = "__DEFAULT__";

  // url: sqlite:///relative.db, sqlite:////abs/path.db, sqlite:// (memory),
  // postgresql://user:pass@host:port/db[?host=/socket/dir].
  static Result<std::unique_ptr<Store>> Open(const std::string& url);
  ~Store();

  // Applies every migration not yet applied; idempotent.
  Status Migrate();
  Result<int> SchemaVersion();
  // FailedPrecondition unless the schema is at kLatestVersion.
  Status CheckSchema();

  // Volume types (types.cc), with their extra specs. GetVolumeType takes an id or a name.
  Result<VolumeType> GetVolumeType(const std::string& name_or_id);
  // `is_public` filters; `with_access_for`: also the private types that project may use.
  Result<std::vector<VolumeType>> ListVolumeTypes(const std::optional<bool>& is_public,
                                                  const std::optional<std::string>& with_access_for = std::nullopt);
  // Projects that may use a private type; AlreadyExists / NotFound with Cinder's messages.
  Result<std::vector<std::string>> ListTypeAccess(const std::string& type_id);
  Status AddTypeAccess(const std::string& type_id, const std::string& project_id);
  // Projects' own default types: project id -> type id.
  Status SetProjectDefaultType(const std::string& project_id, const std::string& type_id);
  Result<std::optional<std::string>> GetProjectDefaultType(const std::string& project_id);
  Result<std::vector<std::pair<std::string, std::string>>> ListProjectDefaultTypes();
  Status UnsetProjectDefaultType(const std::string& project_id);
  Status RemoveTypeAccess(const std::string& type_id, const std::string& project_id);
  // AlreadyExists when a live type has the name.
  Status CreateVolumeType(const VolumeType& t);
  // Changes what is given; NotFound / AlreadyExists (name taken).
  Status UpdateVolumeType(const std::string& id, const std::optional<std::string>& name,
                          const std::optional<std::string>& description, const std::optional<bool>& is_public);
  // FailedPrecondition while live volumes use it; NotFound.
  Status DeleteVolumeType(const std::string& id);
  // Merges `specs` into the type's extra specs; NotFound for an unknown type.
  Status SetExtraSpecs(const std::string& type_id, const Metadata& specs);
  // Returns false when the key was not set.
  Result<bool> DeleteExtraSpec(const std::string& type_id, const std::string& key);

  struct QuotaUsage {
    int64_t in_use = 0;
    int64_t reserved = 0;
  };
  struct QuotaReservation {
    std::vector<std::string> ids;
    std::vector<std::string> over;
    std::map<std::string, QuotaUsage> usages;  // of the resources in `deltas`, before
    std::map<std::string, int64_t> limits;     // a charge's: the limits that applied
  };

  // Volumes. InsertVolume adds `charge` (its quota) to the usage in the same transaction, iff
  // it fits: otherwise it records nothing, answers ResourceExhausted and fills `over`. A volume
  // made from a snapshot or volume is recorded only while that source is usable
  // (FailedPrecondition with Cinder's message otherwise).
  Status InsertVolume(const Volume& v, const QuotaCharge* charge = nullptr, QuotaReservation* over = nullptr);
  Result<Volume> GetVolume(const std::string& id, const ProjectScope& scope);
  // Applies filters, sort and paging; `max_limit` caps the page. A project's lists are kept
  // in a bounded cache and answered from it while the project's list generation (which every
  // change of what they show bumps in its transaction, schema 10) is the one they were read
  // at: one small query instead of the rows. Lists of every project (scope nullopt) are not.
  Result<VolumeList> ListVolumes(const VolumeListQuery& q, const ProjectScope& scope, int64_t max_limit);
  // The list cache: what it answered and holds; its bound (default 256 lists, 10,000 volumes
  // in total; zero lists turns it off and empties it).
  struct ListCacheStats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    std::size_t entries = 0;
    std::size_t volumes = 0;
  };
  ListCacheStats GetListCacheStats() const;
  void SetListCacheLimits(std::size_t max_entries, std::size_t max_volumes);
  // The generation of `project`'s lists plus the global one (a type renamed): it only grows,
  // and grows with every committed change of a row those lists show.
  Result<int64_t> ListGeneration(const std::string& project);
  // Sets status (and `fields`) iff the volume exists, its status is one of `expected` (any
  // status when `expected` is empty), when given it is on `expected_host`, and the SQL
  // expressions of `conditions` hold these values (e.g. {"size", "5"}: what the caller's quota
  // change was computed from is still true). Returns whether the row changed. A change that
  // moves the volume out of a status whose operation holds more than the volume gives that
  // back in the same transaction: out of "extending" or "retyping", the reservations the
  // operation held (see CasVolumeStatusHolding); out of "reverting", the snapshot it was
  // reverting to ("restoring" -> "available").
  Result<bool> CasVolumeStatus(const std::string& id, const std::vector<std::string>& expected,
                               const std::string& new_status, const std::vector<FieldUpdate>& fields = {},
                               const std::optional<std::string>& expected_host = std::nullopt,
                               const std::vector<std::pair<std::string, std::string>>& conditions = {});
  // CasVolumeStatus (without a host) into a status whose operation holds quota reservations
  // ("extending", "retyping"): when it wins, `reservations` become the volume's in the same
  // transaction, so that they are settled exactly once however the operation ends: committed
  // by the CasVolumeStatusCommit of its success, rolled back by any other change that moves the
  // volume out of that status (its failure, a reset-status, a force-delete, a sweep).
  Result<bool> CasVolumeStatusHolding(const std::string& id, const std::vector<std::string>& expected,
                                      const std::string& new_status, const std::vector<FieldUpdate>& fields,
                                      const std::vector<std::pair<std::string, std::string>>& conditions,
                                      const std::vector<std::string>& reservations);
  // Changes `fields` (and replaces the metadata when given) in one transaction, without
  // touching status; returns whether the volume exists.
  Result<bool> UpdateVolume(const std::string& id, const std::vector<FieldUpdate>& fields,
                            const std::optional<Metadata>& metadata);
  // CasVolumeStatus that also commits `reservations` when the row changes, in one transaction;
  // `conditions`: columns that must hold these values too. False (nothing changes) when any of
  // `reservations` was settled meanwhile: the operation they were for was ended by another
  // change (a reset-status, a force-delete) and may not finish the one the volume is in now.
  Result<bool> CasVolumeStatusCommit(const std::string& id, const std::vector<std::string>& expected,
                                     const std::string& new_status, const std::vector<FieldUpdate>& fields,
                                     const std::vector<std::string>& reservations,
                                     const std::vector<std::pair<std::string, std::string>>& conditions = {});
  // Sets a volume in status `from` back to its previous_status (available when unset) and
  // clears that; only on `expected_host` when given.
  Result<bool> RestorePreviousStatus(const std::string& id, const std::string& from,
                                     const std::optional<std::string>& expected_host = std::nullopt);
  // Ends the operation a volume in status `from` is in without its effect (its process died):
  // the volume goes to `to` (its previous_status, available when unset, when `to` is empty;
  // previous_status is cleared), only on `expected_host` when given; the reservations the
  // operation held are rolled back with it (as every change out of "extending" or "retyping"
  // other than the operation's success does). Returns whether the row changed.
  Result<bool> AbandonVolumeOperation(const std::string& id, const std::string& from, const std::string& to,
                                      const std::optional<std::string>& expected_host = std::nullopt);
  // Starts deleting a volume: status "deleting" iff it is in `expected` (any when empty), no
  // volume is being made from it or its snapshots, and it has no snapshots; with `cascade` its
  // snapshots go to "deleting" with it, if they are available or error (any, with
  // `any_snapshot_status`) and, unless `other_projects_snapshots`, all of its own project.
  // `new_status`: "unmanaging" for an unmanage (never with `cascade`).
  Result<bool> StartVolumeDelete(const std::string& id, const std::vector<std::string>& expected, bool cascade,
                                 bool any_snapshot_status, bool other_projects_snapshots,
                                 const std::string& new_status = "deleting");
  // Makes a volume in `status` look abandoned to its host's orphan sweep (updated_at long
  // past), so that the next sweep finishes what that status means (cinder-manage volume
  // delete hands a deletion over this way); false when it is not in that status.
  Result<bool> HandToSweep(const std::string& id, const std::string& status);
  // Soft-deletes the volume and its metadata iff its status is `expected`, and gives back its
  // quota usage and what the operation it was in reserved (a force-delete of an extending or
  // retyping volume), in one transaction.
  Result<bool> SoftDeleteVolume(const std::string& id, const std::string& expected);
  // The host and status of each of `ids` that is a live volume (id -> {host, status}).
  Result<std::map<std::string, std::pair<std::string, std::string>>> VolumeHostsAndStatuses(
      const std::vector<std::string>& ids);
  // Volumes (any project) whose host starts with `host_prefix` and whose status is listed.
  Result<std::vector<Volume>> VolumesInStatus(const std::string& host_prefix, const std::vector<std::string>& statuses);
  // db/backlog.cc. Volumes (any project) in `status`.
  Result<int64_t> CountVolumesInStatus(const std::string& status);
  // How many live rows of `table` ("volumes", "snapshots" or "backups") are in each status
  // (for the metrics; one GROUP BY).
  Result<std::map<std::string, int64_t>> CountByStatus(const std::string& table);
  // Volumes in each of `statuses`, by host ("" for a create no scheduler placed yet): how
  // many, and the oldest one's last change.
  struct BacklogEntry {
    std::string host;
    std::string status;
    int64_t count = 0;
    std::string oldest;  // updated_at (or created_at) of the least recently changed
  };
  Result<std::vector<BacklogEntry>> VolumeBacklog(const std::vector<std::string>& statuses);

  // Live volumes of `scope`: how many, their total size, and every metadata key with its
  // distinct values (GET /volumes/summary).
  struct VolumeSummary {
    int64_t count = 0;
    int64_t size = 0;
    std::map<std::string, std::vector<std::string>> metadata;
  };
  Result<VolumeSummary> SummarizeVolumes(const ProjectScope& scope);

  // Snapshots (snapshots.cc). InsertSnapshot records it iff its volume is in one of
  // `volume_statuses` and of the type s.volume_type_id (false otherwise), adding `charge` to
  // the usage as InsertVolume does (ResourceExhausted, `over` filled, when it does not fit).
  Result<bool> InsertSnapshot(const Snapshot& s, const std::vector<std::string>& volume_statuses,
                              const QuotaCharge* charge = nullptr, QuotaReservation* over = nullptr);
  Result<Snapshot> GetSnapshot(const std::string& id, const ProjectScope& scope);
  Result<SnapshotList> ListSnapshots(const SnapshotListQuery& q, const ProjectScope& scope, int64_t max_limit);
  // Live snapshots of a volume, newest first.
  Result<std::vector<Snapshot>> SnapshotsOfVolume(const std::string& volume_id);
  // Live snapshots in `statuses` of the volumes whose host starts with `host_prefix`.
  Result<std::vector<Snapshot>> SnapshotsOnHost(const std::string& host_prefix,
                                                const std::vector<std::string>& statuses);
  Result<bool> CasSnapshotStatus(const std::string& id, const std::vector<std::string>& expected,
                                 const std::string& new_status, const std::vector<FieldUpdate>& fields = {});
  // "deleting" iff in `expected` (any when empty) and no volume is being created from it.
  // `new_status`: "unmanaging" for an unmanage.
  Result<bool> StartSnapshotDelete(const std::string& id, const std::vector<std::string>& expected,
                                   const std::string& new_status = "deleting");
  // Soft-deletes it with its metadata iff in `expected`, giving back its quota usage.
  Result<bool> SoftDeleteSnapshot(const std::string& id, const std::string& expected, bool count_gigabytes);
  Result<bool> UpdateSnapshot(const std::string& id, const std::vector<FieldUpdate>& fields);
  Status SetSnapshotMetadata(const std::string& id, const Metadata& metadata, bool replace);
  Result<bool> DeleteSnapshotMetadataKey(const std::string& id, const std::string& key);
  // Revert (3.40): the volume available -> reverting and the snapshot available -> restoring,
  // together, iff the snapshot is the volume's latest and of the volume's size.
  enum class RevertStart { kStarted, kNotLatest, kVolumeBusy, kSnapshotBusy, kSizeChanged };
  Result<RevertStart> StartRevert(const std::string& volume_id, const std::string& snapshot_id);

  // Attachments (attachments.cc). Every change locks the volume's row first.
  struct AttachmentReserve {
    std::string volume_id;
    ProjectScope scope;
    std::optional<std::string> instance_uuid;
    std::optional<std::string> attach_mode;
    std::optional<std::string> connector;  // JSON: a connect follows (what recovery looks for)
  };
  // Cinder's _attachment_reserve and the new row ("reserved"), in one transaction: the volume
  // goes to "reserved" iff it is available or downloading (a multiattach one also in-use);
  // otherwise only an instance that already has an attachment of it gets a second one, and any
  // other caller FailedPrecondition with Cinder's message naming the current status.
  Result<Attachment> ReserveAttachment(const AttachmentReserve& r);
  // The attachment and its volume's project; NotFound with Cinder's message.
  Result<std::pair<Attachment, std::string>> GetAttachment(const std::string& id, const ProjectScope& scope);
  Result<std::vector<Attachment>> ListAttachments(const AttachmentListQuery& q, const ProjectScope& scope,
                                                  int64_t max_limit);
  // The live attachments of a volume, oldest first.
  Result<std::vector<Attachment>> AttachmentsOfVolume(const std::string& volume_id);
  // Sets (or clears) the connector of a live attachment (only a "reserved" one when asked).
  Result<bool> SetAttachmentConnector(const std::string& id, const std::optional<std::string>& connector,
                                      bool only_if_reserved);
  // What the volume host made of a connector: the attachment "attaching" with its connection,
  // the volume "attaching" (Cinder's volume_attached without mark_attached). False when the
  // attachment is gone.
  struct AttachmentConnection {
    std::string attachment_id;
    std::string volume_id;
    std::string connector;        // JSON
    std::string connection_info;  // JSON
    std::optional<std::string> attached_host;
    std::optional<std::string> mountpoint;
    std::optional<std::string> attach_mode;
  };
  Result<bool> AttachmentConnected(const AttachmentConnection& c);
  // os-complete: the attachment "attached", its volume "in-use"; false when it is gone.
  Result<bool> CompleteAttachment(const std::string& id);
  // Cinder's volume_detached: soft-deletes the attachment (when given; only while its
  // attach_status is one of `expected`, when given: Aborted otherwise) and recomputes the
  // volume's status from those that remain, which it returns.
  Result<std::vector<Attachment>> DetachAttachment(const std::string& volume_id,
                                                   const std::optional<std::string>& attachment_id,
                                                   const std::vector<std::string>& expected = {});
  // The legacy os-attach (Cinder's attach_volume on the host, which has no driver work for a
  // target-based backend): an attached row and the volume "in-use" in one transaction, or the
  // instance's existing attachment again; FailedPrecondition with Cinder's messages.
  struct LegacyAttachRequest {
    std::string volume_id;
    std::optional<std::string> instance_uuid;
    std::optional<std::string> host_name;
    std::string mountpoint;
    std::string mode;  // rw or ro
  };
  Result<Attachment> LegacyAttach(const LegacyAttachRequest& r);
  // A volume's export (provider_location / provider_auth, as Cinder writes them) and its
  // readonly flag.
  struct VolumeExport {
    std::optional<std::string> provider_location;
    std::optional<std::string> provider_auth;
    bool readonly = false;
  };
  Result<VolumeExport> GetVolumeExport(const std::string& volume_id);
  Status SetVolumeExport(const std::string& volume_id, const std::optional<std::string>& provider_location,
                         const std::optional<std::string>& provider_auth);
  // Volumes on hosts starting with `host_prefix` that an attachment needs exported.
  Result<std::vector<std::string>> VolumesNeedingExport(const std::string& host_prefix);
  // Connects that never finished: "reserved" attachments with a connector last changed
  // before `older_than`, of volumes on hosts starting with `host_prefix`.
  Result<std::vector<Attachment>> InterruptedConnects(const std::string& host_prefix, const std::string& older_than);

  // Volume metadata.
  Result<Metadata> GetVolumeMetadata(const std::string& id);
  // Merges (or, when `replace`, replaces) the metadata of a live volume in one transaction;
  // NotFound when the volume does not exist.
  Status SetVolumeMetadata(const std::string& id, const Metadata& metadata, bool replace);
  // Returns false when the key was not set.
  Result<bool> DeleteVolumeMetadataKey(const std::string& id, const std::string& key);

  // Volume image metadata (volume_glance_metadata; image_metadata.cc). Set merges `metadata`
  // in and Delete marks the key deleted, each while the live volume's status is none of
  // `busy` (the volume's row locked for the change): NotFound for no live volume,
  // FailedPrecondition "Invalid volume: <verb> volume metadata is not allowed for volumes in
  // STATUS status." otherwise. Delete returns false when the key was not set.
  Result<Metadata> GetVolumeImageMetadata(const std::string& volume_id);
  Result<std::map<std::string, Metadata>> ListVolumeImageMetadata(const std::vector<std::string>& volume_ids);
  Status SetVolumeImageMetadata(const std::string& volume_id, const Metadata& metadata,
                                const std::vector<std::string>& busy);
  Result<bool> DeleteVolumeImageMetadataKey(const std::string& volume_id, const std::string& key,
                                            const std::vector<std::string>& busy);

  // Volume type encryption (encryption.cc; Cinder's encryption table). Get: nullopt when the
  // type has none. Create / Update / Delete lock the type's row (so a volume create, which
  // share-locks it, cannot slip in between) and are FailedPrecondition "Cannot <verb>
  // encryption specs. Volume type in use." while live volumes have the type; Create:
  // FailedPrecondition (Cinder's VolumeTypeEncryptionExists) when the type has one; Update and
  // Delete: NotFound (VolumeTypeEncryptionNotFound) when it has none. NotFound for no live type.
  Result<std::optional<VolumeTypeEncryption>> GetVolumeTypeEncryption(const std::string& type_id);
  Result<VolumeTypeEncryption> CreateVolumeTypeEncryption(const std::string& type_id,
                                                          const VolumeTypeEncryptionUpdate& values);
  Status UpdateVolumeTypeEncryption(const std::string& type_id, const VolumeTypeEncryptionUpdate& values);
  Status DeleteVolumeTypeEncryption(const std::string& type_id);

  // What the volumes whose host is `host` or one of its pools (host#pool) hold: the total
  // first (project "(total)"), then each project with volumes there, by project id
  // (os-hosts/{host}; services.cc).
  Result<std::vector<HostProjectUsage>> HostVolumeUsage(const std::string& host);

  // Services. Register records a service (again) and counts as a heartbeat; `up` in the
  // answers of ListServices is left false (the caller knows service_down_time).
  Status RegisterService(const ServiceInfo& service);
  // Records a heartbeat; returns false when the service is not registered.
  // `at`: the time to record (NowIso() when empty).
  Result<bool> Heartbeat(const std::string& host, const std::string& binary, const std::string& at = "");
  Result<std::vector<ServiceInfo>> ListServices(const std::optional<std::string>& host,
                                                const std::optional<std::string>& binary);
  // The services' row ids (Cinder's service id, as workers/cleanup shows it), by host and binary.
  Result<std::map<std::pair<std::string, std::string>, int64_t>> ServiceIds();
  // Enables or disables (with an optional reason; enabling keeps the last one); returns false
  // when no such service exists. `host` is exact here (ListServices also matches backends).
  Result<bool> SetServiceDisabled(const std::string& host, const std::string& binary, bool disabled,
                                  const std::optional<std::string>& reason);
  // Removes the row of `binary` on exactly `host` (cinder-manage service remove); false when
  // there is none.
  Result<bool> RemoveService(const std::string& host, const std::string& binary);
  // Clusters (their rows; the manager counts their services). SetClusterDisabled: false when no
  // such cluster exists.
  Result<std::vector<ClusterInfo>> ListClusters();
  Result<bool> SetClusterDisabled(const std::string& name, const std::string& binary, bool disabled,
                                  const std::optional<std::string>& reason);
  // Freezes (or thaws) the volume services of `host` (itself or its backends), or of the
  // cluster `cluster` (NAME@backend), and that cluster's row: Cinder's _replication_db_change
  // of `frozen` from !frozen, with the service disabled (reason "frozen") or enabled (reason "")
  // as its volume manager does. A host in a cluster stands for its whole cluster. Errors as
  // Cinder's: NotFound "No service found with host=H" (or cluster=C), InvalidArgument
  // "Services from different clusters found." or "No service could be changed: ...". Undone
  // as a whole when nothing could be changed.
  Status FreezeBackend(const std::optional<std::string>& host, const std::optional<std::string>& cluster, bool frozen);
  // Cinder's is_backend_frozen: the cluster's row when `cluster_name` is set, else the volume
  // service of `host` (host@backend, any #pool ignored).
  Result<bool> IsBackendFrozen(const std::string& host, const std::optional<std::string>& cluster_name);

  // Group types (groups.cc), with their group specs; Cinder's messages for NotFound and
  // AlreadyExists. GetGroupType takes an id, GetGroupTypeByName a name. Lists are newest first;
  // `is_public` as ListVolumeTypes (with_access_for: also that project's private ones).
  Result<GroupType> GetGroupType(const std::string& id);
  Result<GroupType> GetGroupTypeByName(const std::string& name);
  Result<std::vector<GroupType>> ListGroupTypes(const std::optional<bool>& is_public);
  Status CreateGroupType(const GroupType& t);
  // AlreadyExists when another type has the name.
  Status UpdateGroupType(const std::string& id, const std::optional<std::string>& name,
                         const std::optional<std::string>& description, const std::optional<bool>& is_public);
  // FailedPrecondition while live groups have the type.
  Status DeleteGroupType(const std::string& id);
  // Merges `specs` (NotFound for an unknown type); DeleteGroupTypeSpec: NotFound when unset.
  Status SetGroupTypeSpecs(const std::string& type_id, const Metadata& specs);
  Status DeleteGroupTypeSpec(const std::string& type_id, const std::string& key);

  // Generic volume groups (groups.cc). InsertGroup records the group with its volume types
  // and adds `charge` (the groups quota) in one transaction, iff it fits (ResourceExhausted,
  // `over` filled) and the group type still exists. GetGroup fills volume_ids.
  Status InsertGroup(const VolumeGroup& g, const QuotaCharge* charge = nullptr, QuotaReservation* over = nullptr);
  Result<VolumeGroup> GetGroup(const std::string& id, const ProjectScope& scope);
  // `max_limit` caps the page; NotFound "Group X could not be found." for a marker not seen.
  Result<std::vector<VolumeGroup>> ListGroups(const GroupListQuery& q, const ProjectScope& scope, int64_t max_limit);
  // Sets status (and `fields`) iff the group's status is one of `expected` (any when empty)
  // and, when given, its host is `expected_host` ("" for unplaced).
  Result<bool> CasGroupStatus(const std::string& id, const std::vector<std::string>& expected,
                              const std::string& new_status, const std::vector<FieldUpdate>& fields = {},
                              const std::optional<std::string>& expected_host = std::nullopt);
  // The volume host's end of an update: in one transaction, `add` join the group (each only
  // while in no group, of the group's project, in one of `add_statuses`), `remove` leave it,
  // and the group goes from "updating" to "available". False when the group is no longer
  // updating; FailedPrecondition (nothing changed) when a volume no longer qualifies.
  Result<bool> FinishGroupUpdate(const std::string& id, const std::vector<std::string>& add,
                                 const std::vector<std::string>& remove, const std::vector<std::string>& add_statuses);
  // Starts a group delete: in one transaction the group goes to "deleting" iff its status is
  // one of `expected` (any when empty) and none of its volumes is attached or has snapshots;
  // its volumes go to "deleting" with it. False when that does not hold.
  Result<bool> StartGroupDelete(const std::string& id, const std::vector<std::string>& expected);
  // Soft-deletes a group (and its volume type mappings) and gives back its groups quota, iff
  // it has no live volumes left; false otherwise.
  Result<bool> SoftDeleteGroup(const std::string& id);
  // The live volumes of a group (any project).
  Result<std::vector<Volume>> VolumesOfGroup(const std::string& group_id);
  // Create-from-src (3.14): the group (with its group_snapshot_id or source_group_id, its host
  // set) and its volumes (each "creating", with its snapshot_id or source_volid, on the
  // group's host) and `charge`, in one transaction, iff every source is still usable: the
  // group snapshot "available" with its snapshots, or the source group "available" with its
  // volumes "available" or "in-use" (FailedPrecondition with Cinder's message otherwise).
  Status InsertGroupFromSource(const VolumeGroup& g, const std::vector<Volume>& volumes, const QuotaCharge* charge,
                               QuotaReservation* over);
  // The volume host's end of create-from-src: the group from "creating" to "available" (all
  // its volumes made) or "error". False when it was no longer creating.
  Result<bool> FinishGroupCreate(const std::string& id, bool ok);

  // Group snapshots (group_snapshots.cc). InsertGroupSnapshot records it with `members` (a
  // snapshot "creating" of each live volume of the group, as read) and adds `charge` in one
  // transaction, iff the group is still "available", its live volumes are exactly the
  // members' volumes, and each is in one of `volume_statuses` with the size and type read;
  // false (nothing recorded) otherwise; ResourceExhausted (`over` filled) when over quota.
  Result<bool> InsertGroupSnapshot(const GroupSnapshot& gs, const std::vector<Snapshot>& members,
                                   const std::vector<std::string>& volume_statuses, const QuotaCharge* charge,
                                   QuotaReservation* over);
  // GetGroupSnapshot fills snapshot_ids. NotFound "GroupSnapshot X could not be found.".
  Result<GroupSnapshot> GetGroupSnapshot(const std::string& id, const ProjectScope& scope);
  Result<std::vector<GroupSnapshot>> ListGroupSnapshots(const GroupSnapshotListQuery& q, const ProjectScope& scope,
                                                        int64_t max_limit);
  // The live snapshots of a group snapshot (any project), oldest first.
  Result<std::vector<Snapshot>> SnapshotsOfGroupSnapshot(const std::string& id);
  // Sets the status iff it is one of `expected` (any when empty).
  Result<bool> CasGroupSnapshotStatus(const std::string& id, const std::vector<std::string>& expected,
                                      const std::string& new_status);
  // The volume host's end of a create: in one transaction the group snapshot goes from
  // "creating" to "available" and its "creating" snapshots to "available" (progress 100%), or
  // all of them to "error". False when the group snapshot was no longer creating.
  Result<bool> FinishGroupSnapshotCreate(const std::string& id, bool ok);
  // Starts a delete: the group snapshot goes to "deleting" iff its status is one of `expected`
  // and no group is being created from it, its snapshots to "deleting" with it.
  Result<bool> StartGroupSnapshotDelete(const std::string& id, const std::vector<std::string>& expected);
  // Soft-deletes a "deleting" group snapshot whose snapshots are all gone; false otherwise.
  Result<bool> SoftDeleteGroupSnapshot(const std::string& id);
  // Group snapshots left in `statuses` on backend `host_prefix` (host@backend), for recovery.
  Result<std::vector<GroupSnapshot>> GroupSnapshotsOnHost(const std::string& host_prefix,
                                                          const std::vector<std::string>& statuses);

  // QoS specs (qos.cc). Cinder's messages for NotFound / AlreadyExists / in use.
  Status CreateQosSpecs(const QosSpecs& q);
  Result<QosSpecs> GetQosSpecs(const std::string& id);
  Result<std::vector<QosSpecs>> ListQosSpecs();
  // Merges `specs` (and sets the consumer when given).
  Status SetQosSpecsKeys(const std::string& id, const Metadata& specs, const std::optional<std::string>& consumer);
  // NotFound naming the first key that is not set (the keys before it are removed).
  Status DeleteQosSpecsKeys(const std::string& id, const std::vector<std::string>& keys);
  // FailedPrecondition while types use it, unless `force` (which disassociates them).
  Status DeleteQosSpecs(const std::string& id, bool force);
  // The types associated with it: (id, name).
  Result<std::vector<std::pair<std::string, std::string>>> QosSpecsAssociations(const std::string& id);
  // FailedPrecondition when the type has other QoS specs.
  Status AssociateQosSpecs(const std::string& id, const std::string& type_id);
  Status DisassociateQosSpecs(const std::string& id, const std::optional<std::string>& type_id);

  // Volume transfers (transfers.cc). CreateTransfer moves the volume from available to
  // awaiting-transfer (FailedPrecondition otherwise, and when the snapshots that go with it
  // are not all available); DeleteTransfer moves it back; Accept
  // gives it to `project` (available again) iff the transfer is still open.
  Status CreateTransfer(const Transfer& t, const std::string& salt, const std::string& crypt_hash);
  // The transfer with its salt and hash; `scope` limits it to the source project.
  Result<std::pair<Transfer, std::pair<std::string, std::string>>> GetTransfer(const std::string& id,
                                                                               const ProjectScope& scope);
  Result<std::vector<Transfer>> ListTransfers(const ProjectScope& scope);
  Status DeleteTransfer(const std::string& id, const ProjectScope& scope);
  // Also moves the volume's quota usage (and its snapshots', unless the transfer leaves them)
  // from the donor to `project`, whose reservations `commit_reservations` commit with it.
  // `snapshot_ids`, `volume_size`, `volume_type_id`: what the reservations were made for
  // (Aborted when the snapshots that go along are no longer exactly these, or the volume no
  // longer of that size and type).
  Status AcceptTransfer(const std::string& id, const std::string& project, const std::string& user,
                        const std::vector<std::string>& commit_reservations, bool count_snapshot_gigabytes,
                        const std::vector<std::string>& snapshot_ids, int64_t volume_size,
                        const std::string& volume_type_id);

  // Pools (pools.cc). ReportPools replaces the rows of `backend_host` with `pools`.
  Status ReportPools(const std::string& backend_host, const std::vector<PoolRecord>& pools);
  Result<std::vector<PoolRecord>> ListPools();
  // Live volumes per host@backend#pool; with `exclude_creating`, only those not "creating".
  Result<std::map<std::string, HostUsage>> VolumeUsageByHost(bool exclude_creating = false);
  // Places the volume (status creating, not placed yet) on `pool_host`, serialised with every
  // other claim on that pool: under the pool row's lock, `fits(report, allocated_now)` says
  // whether it still has room given every volume placed there so far. kVolumeGone: the volume
  // is no longer waiting (deleted, or placed by another scheduler).
  Result<ClaimResult> ClaimPool(const std::string& volume_id, const std::string& pool_host,
                                const std::string& availability_zone,
                                const std::function<bool(const PoolRecord&, double allocated_now)>& fits);
  // Takes a creating volume off `pool_host` (to be placed again); false if it is not there.
  Result<bool> ReleaseClaim(const std::string& volume_id, const std::string& pool_host);
  // Puts the volumes of `backend_host` (host@backend, any pool) in `cluster` (none: unset), as
  // Cinder's volume service includes its resources in its cluster when it starts; returns how
  // many changed.
  Result<int64_t> SetVolumesCluster(const std::string& backend_host, const std::optional<std::string>& cluster);

  // User messages (messages.cc). Reads see live messages of `scope`.
  Status InsertMessage(const Message& m);
  Result<Message> GetMessage(const std::string& id, const ProjectScope& scope);
  // InvalidArgument for a bad sort key; NotFound for a marker that is not a visible message.
  Result<MessageList> ListMessages(const MessageListQuery& q, const ProjectScope& scope, int64_t max_limit);
  // Soft-deletes; returns false when no such message is visible.
  Result<bool> DeleteMessage(const std::string& id, const ProjectScope& scope);
  // Removes messages whose expires_at is before `now_iso`; returns how many.
  Result<int64_t> DeleteExpiredMessages(const std::string& now_iso);

  // Quota usage and reservations (quota_usage.cc), as Cinder's quota engine. ReserveQuota
  // locks `project`'s usage rows of the resources in `deltas` and, when every positive delta
  // fits its limit (in_use + reserved + delta <= limit; a resource without a limit or with -1
  // is unlimited), records the reservations (reserved += delta for positive deltas).
  // Otherwise it reserves nothing and names the resources that do not fit in `over`.
  // A reservation not committed or rolled back within `expire_seconds` is rolled back by
  // ExpireQuotaReservations, unless a volume's operation holds it (CasVolumeStatusHolding).
  Result<QuotaReservation> ReserveQuota(const std::string& project, const std::map<std::string, int64_t>& deltas,
                                        const std::map<std::string, int64_t>& limits, int64_t expire_seconds);
  Status CommitQuota(const std::vector<std::string>& reservations);
  Status RollbackQuota(const std::vector<std::string>& reservations);
  // Rolls back reservations that expired before `now_iso` and that no volume's operation in
  // flight holds; returns how many.
  Result<int64_t> ExpireQuotaReservations(const std::string& now_iso);
  Result<std::map<std::string, QuotaUsage>> GetQuotaUsage(const std::string& project);

  // ---- Quota limits (quotas.cc) ----------------------------------------------------------------
  // Projects' own limits (the quotas table) and quota classes' (quota_classes; the class
  // "default" holds the defaults), resource -> hard_limit; a resource without a row is absent.
  Result<std::map<std::string, int64_t>> GetProjectQuotas(const std::string& project);
  // Sets every limit in `limits` for `project` in one transaction (each an upsert on the live
  // (project, resource) row). `check`, when given, runs first in that transaction with the
  // project's usage of those resources (locked against concurrent reservations on PostgreSQL;
  // a resource never used is absent): a non-OK answer changes nothing and is returned.
  Status SetProjectQuotas(const std::string& project, const std::map<std::string, int64_t>& limits,
                          const std::function<Status(const std::map<std::string, QuotaUsage>&)>& check = nullptr);
  // Soft-deletes the project's limits; its usage and reservations stay.
  Status DeleteProjectQuotas(const std::string& project);
  Result<std::map<std::string, int64_t>> GetQuotaClass(const std::string& class_name);
  Status SetQuotaClass(const std::string& class_name, const std::map<std::string, int64_t>& limits);
  // ---- end of quota limits ---------------------------------------------------------------------

  // ---- Backups (backups.cc) --------------------------------------------------------------------
  // A backup's source is held while it is read: the volume in "backing-up" (its status before
  // in previous_status), or, for a backup of a snapshot, the snapshot in "backing-up" (the
  // volume untouched). Whatever ends the backup (FinishBackup, FailBackup, SoftDeleteBackup)
  // gives the source back in its transaction.
  //
  // Records `b` (its status, normally "creating") and, in the same transaction, holds its source:
  // the snapshot b.snapshot_id from "available" (and of volume b.volume_id), else the volume from
  // one of `volume_statuses`; an incremental's parent (b.parent_id) must still be "available";
  // `charge` is added to the usage iff it fits (ResourceExhausted, `over` filled). Nothing is
  // recorded otherwise: FailedPrecondition with Cinder's message ("Invalid volume: Volume to be
  // backed up must be available or in-use, but the current status is \"X\".", "Invalid snapshot:
  // ...", "Invalid backup: No backups available to do an incremental backup."); NotFound for a
  // volume that is gone.
  Status InsertBackup(const Backup& b, const std::vector<std::string>& volume_statuses,
                      const QuotaCharge* charge = nullptr, QuotaReservation* over = nullptr);
  // A live backup with its metadata; NotFound "Backup <id> could not be found.".
  Result<Backup> GetBackup(const std::string& id, const ProjectScope& scope);
  // Filters (the columns of BackupListQuery::filters: name/display_name, status, volume_id,
  // availability_zone, host, project_id, user_id, parent_id, snapshot_id, container,
  // restore_volume_id; others InvalidArgument), sort and paging; NotFound for a bad marker.
  Result<BackupList> ListBackups(const BackupListQuery& q, const ProjectScope& scope, int64_t max_limit);
  // The parent of an incremental, as Cinder's create chooses it: the most recent (data_timestamp,
  // then created_at) "available" backup of the volume that belongs to `project_id` (the
  // caller's project, an admin's too), and, for a backup of a snapshot, whose data_timestamp is
  // before `data_before` (the snapshot's created_at). nullopt when there is none.
  Result<std::optional<Backup>> LatestAvailableBackup(const std::string& volume_id, const std::string& project_id,
                                                      const std::optional<std::string>& data_before = std::nullopt);
  // Changes `fields` (display_name, display_description, ...) and replaces the metadata when
  // given, without touching status; false when the backup is gone.
  Result<bool> UpdateBackup(const std::string& id, const std::vector<FieldUpdate>& fields,
                            const std::optional<Metadata>& metadata);
  // Sets status (and `fields`) iff the backup is live and in `expected` (any when empty).
  // Touches nothing else (see ResetBackupStatus for an admin's reset).
  Result<bool> CasBackupStatus(const std::string& id, const std::vector<std::string>& expected,
                               const std::string& new_status, const std::vector<FieldUpdate>& fields = {});
  // What a finished backup records.
  struct BackupOutcome {
    int64_t object_count = 0;
    std::optional<std::string> container;
    std::optional<std::string> service_metadata;
    std::optional<std::string> service;
  };
  // The backup "creating" -> "available" with `outcome`, fail_reason cleared; its source given
  // back (the volume "backing-up" -> its previous_status, previous_status "backing-up"; the
  // snapshot -> "available"); its parent's num_dependent_backups + 1. One transaction. False
  // (nothing changes) when the backup is no longer "creating" (a force-delete cancelled it).
  Result<bool> FinishBackup(const std::string& id, const BackupOutcome& outcome);
  // The backup -> "error" with `fail_reason` iff it is in `expected`, and its source given back
  // (the volume to its previous_status with previous_status "error_backing-up"; the snapshot
  // "available"). One transaction. Its quota stays charged until it is deleted (Cinder's).
  Result<bool> FailBackup(const std::string& id, const std::string& fail_reason,
                          const std::vector<std::string>& expected = {backup_status::kCreating});
  // os-reset_status: the backup -> `new_status` from whatever status it is in, and, in the same
  // transaction, what the operation it was in holds goes back: a "creating" backup's source is
  // given back (as FailBackup; previous_status "backing-up" when reset to available), a
  // "restoring" backup's target volume ("restoring-backup", or "creating" when it is being made
  // for the restore) goes to "error_restoring" and restore_volume_id is cleared (Cinder's
  // restart cleanup does the same to the volume). False when the backup is gone. The host
  // doing the work sees the backup's status change and stops.
  Result<bool> ResetBackupStatus(const std::string& id, const std::string& new_status);
  // A backup host's restart, or the stale sweep, ends a restore it will never finish: the backup
  // "restoring" -> "available" (restore_volume_id cleared) and its target "restoring-backup" ->
  // "error_restoring" (kReset); but not while the target is a new volume still "creating"
  // (kPending, nothing changes: its volume host hands it over when made, and a failed hand-over
  // frees the backup); kNotRestoring when the backup is not restoring.
  enum class RestoreReset { kReset, kPending, kNotRestoring };
  Result<RestoreReset> ResetRestore(const std::string& id);
  // A restore begins: the backup "available" -> "restoring" with restore_volume_id, and the
  // target volume: an existing one (!volume_is_new) "available" -> "restoring-backup"; a volume
  // created for this restore is locked and, if its host has already made it ("available"),
  // moved to "restoring-backup" (kStartedReady: the caller casts restore_backup); if it is still
  // "creating" it is left so (kStartedPending: the volume host, once it has made it, claims it
  // with ClaimRestoreTarget and casts). One transaction.
  enum class RestoreStart { kStartedReady, kStartedPending, kBackupBusy, kVolumeBusy };
  Result<RestoreStart> StartRestore(const std::string& backup_id, const std::string& volume_id, bool volume_is_new);
  // For the volume host once its driver has made a volume: iff a backup is "restoring" into
  // it, the volume "creating" (`from_creating`: straight from the create, so that no client
  // sees it available before its data) or "available" -> "restoring-backup" and that backup is
  // returned (cast restore_backup with volume_is_new); nullopt otherwise (nothing to do, or
  // StartRestore already took it). Exactly one of the two casts.
  Result<std::optional<Backup>> ClaimRestoreTarget(const std::string& volume_id, bool from_creating = false);
  // A restore ends: the backup "restoring" -> "available" (restore_volume_id cleared), the
  // volume "restoring-backup" -> "available" when `ok`, else "error_restoring" (or "error" when
  // `volume_is_new`). One transaction; false when the backup was no longer restoring into it.
  Result<bool> FinishRestore(const std::string& backup_id, const std::string& volume_id, bool ok, bool volume_is_new);
  // Restores into new volumes that wait on `host`'s backup service: backups "restoring" there
  // whose target volume is not "restoring-backup", with that volume's status ("" when it is
  // gone). A backup host may poll this (instead of, or besides, a volume host's hook): an
  // "available" target is claimed with ClaimRestoreTarget; an "error" or gone one means its
  // create failed, and the backup goes back (CasBackupStatus restoring -> available,
  // restore_volume_id NULL).
  Result<std::vector<std::pair<Backup, std::string>>> PendingRestores(const std::string& host);
  // The backup restoring into `volume_id`, if any (create-from-backup, 3.47).
  Result<std::optional<Backup>> BackupRestoringInto(const std::string& volume_id);
  // Starts deleting: "deleting" iff the backup is in `expected` (any when empty) and no live
  // backup has it as parent, checked in the same transaction (with the row locked, so a new
  // incremental of it either commits first and is seen, or fails on its parent check).
  enum class BackupDeleteStart { kStarted, kNotFound, kBadStatus, kHasDependents };
  Result<BackupDeleteStart> StartBackupDelete(const std::string& id, const std::vector<std::string>& expected);
  // Soft-deletes it (status "deleted") with its metadata iff in `expected`, gives back its
  // quota (backups -1, backup_gigabytes -size), its parent's num_dependent_backups - 1, and its
  // source if it still holds it (a cancelled create). One transaction.
  Result<bool> SoftDeleteBackup(const std::string& id, const std::string& expected = backup_status::kDeleting);
  // Live backups whose host is `host` and whose status is listed (any when empty).
  Result<std::vector<Backup>> BackupsOnHost(const std::string& host, const std::vector<std::string>& statuses);
  // Live backups in `statuses` last changed (updated_at, else created_at) before `older_than`
  // (ISO 8601): the stale sweep's candidates.
  Result<std::vector<Backup>> StaleBackups(const std::vector<std::string>& statuses, const std::string& older_than);
  // Records progress: updated_at = now, progress_bytes; false when the backup is not in
  // `expected` any more (the operation should stop: a force-delete, a reset-status).
  Result<bool> TouchBackupProgress(const std::string& id, int64_t progress_bytes,
                                   const std::vector<std::string>& expected);
  // Import (export/import record): inserts `b` (status "creating") with `charge`, or revives a
  // soft-deleted backup of the same id with b's fields. FailedPrecondition "Invalid backup:
  // Backup already exists in database." when a live backup has the id; ResourceExhausted as
  // InsertBackup.
  Status ImportBackup(const Backup& b, const QuotaCharge* charge = nullptr, QuotaReservation* over = nullptr);
  // For the backup host finishing an import: copies the record's fields into the row (every
  // column named in `fields`, metadata replaced when given) and moves it "creating" ->
  // `new_status`; false when it is no longer "creating".
  Result<bool> CompleteImport(const std::string& id, const std::vector<FieldUpdate>& fields,
                              const std::optional<Metadata>& metadata, const std::string& new_status);

  // Hard-deletes rows soft-deleted before `before_iso`; returns the number of rows removed.
  Result<int64_t> Purge(const std::string& before_iso);

 private:
  friend class IdentityStore;  // db/identity_store.h: the identity service's tables
  Status CreateVolumeTypeRow(const VolumeType& t);
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cinder

#endif  // CINDER_DB_STORE_H_

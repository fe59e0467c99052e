// Store: libcinder's SQL database (SQLite or PostgreSQL through SOCI).
//
// Only this folder sees SOCI. Every status change is one conditional UPDATE on the expected
// status (compare-and-swap); rows are soft-deleted (deleted, deleted_at) and purged later.
// A Store is safe for concurrent use: it keeps a small pool of connections.
#ifndef CINDER_DB_STORE_H_
#define CINDER_DB_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

class Store {
 public:
  static constexpr int kLatestVersion = 3;
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
                          const std::optional<std::string>& description,
                          const std::optional<bool>& is_public);
  // FailedPrecondition while live volumes use it; NotFound.
  Status DeleteVolumeType(const std::string& id);
  // Merges `specs` into the type's extra specs; NotFound for an unknown type.
  Status SetExtraSpecs(const std::string& type_id, const Metadata& specs);
  // Returns false when the key was not set.
  Result<bool> DeleteExtraSpec(const std::string& type_id, const std::string& key);

  // Volumes.
  Status InsertVolume(const Volume& v);
  Result<Volume> GetVolume(const std::string& id, const ProjectScope& scope);
  // Applies filters, sort and paging; `max_limit` caps the page.
  Result<VolumeList> ListVolumes(const VolumeListQuery& q, const ProjectScope& scope,
                                 int64_t max_limit);
  // Sets status (and `fields`) iff the volume exists, its status is one of `expected` (any
  // status when `expected` is empty) and, when given, it is on `expected_host`. Returns
  // whether the row changed.
  Result<bool> CasVolumeStatus(const std::string& id, const std::vector<std::string>& expected,
                               const std::string& new_status,
                               const std::vector<FieldUpdate>& fields = {},
                               const std::optional<std::string>& expected_host = std::nullopt);
  // Changes `fields` (and replaces the metadata when given) in one transaction, without
  // touching status; returns whether the volume exists.
  Result<bool> UpdateVolume(const std::string& id, const std::vector<FieldUpdate>& fields,
                            const std::optional<Metadata>& metadata);
  // Soft-deletes the volume and its metadata iff its status is `expected`.
  Result<bool> SoftDeleteVolume(const std::string& id, const std::string& expected);
  // Volumes (any project) whose host starts with `host_prefix` and whose status is listed.
  Result<std::vector<Volume>> VolumesInStatus(const std::string& host_prefix,
                                              const std::vector<std::string>& statuses);

  // Live volumes of `scope`: how many, their total size, and every metadata key with its
  // distinct values (GET /volumes/summary).
  struct VolumeSummary {
    int64_t count = 0;
    int64_t size = 0;
    std::map<std::string, std::vector<std::string>> metadata;
  };
  Result<VolumeSummary> SummarizeVolumes(const ProjectScope& scope);

  // Volume metadata.
  Result<Metadata> GetVolumeMetadata(const std::string& id);
  // Merges (or, when `replace`, replaces) the metadata of a live volume in one transaction;
  // NotFound when the volume does not exist.
  Status SetVolumeMetadata(const std::string& id, const Metadata& metadata, bool replace);
  // Returns false when the key was not set.
  Result<bool> DeleteVolumeMetadataKey(const std::string& id, const std::string& key);

  // Services. Register records a service (again) and counts as a heartbeat; `up` in the
  // answers of ListServices is left false (the caller knows service_down_time).
  Status RegisterService(const ServiceInfo& service);
  // Records a heartbeat; returns false when the service is not registered.
  Result<bool> Heartbeat(const std::string& host, const std::string& binary);
  Result<std::vector<ServiceInfo>> ListServices(const std::optional<std::string>& host,
                                                const std::optional<std::string>& binary);
  // Enables or disables (with an optional reason; enabling keeps the last one); returns false
  // when no such service exists. `host` is exact here (ListServices also matches backends).
  Result<bool> SetServiceDisabled(const std::string& host, const std::string& binary, bool disabled,
                                  const std::optional<std::string>& reason);

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
  // awaiting-transfer (FailedPrecondition otherwise); DeleteTransfer moves it back; Accept
  // gives it to `project` (available again) iff the transfer is still open.
  Status CreateTransfer(const Transfer& t, const std::string& salt, const std::string& crypt_hash);
  // The transfer with its salt and hash; `scope` limits it to the source project.
  Result<std::pair<Transfer, std::pair<std::string, std::string>>> GetTransfer(const std::string& id,
                                                                              const ProjectScope& scope);
  Result<std::vector<Transfer>> ListTransfers(const ProjectScope& scope);
  Status DeleteTransfer(const std::string& id, const ProjectScope& scope);
  Status AcceptTransfer(const std::string& id, const std::string& project, const std::string& user);

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

  // User messages (messages.cc). Reads see live messages of `scope`.
  Status InsertMessage(const Message& m);
  Result<Message> GetMessage(const std::string& id, const ProjectScope& scope);
  // InvalidArgument for a bad sort key; NotFound for a marker that is not a visible message.
  Result<MessageList> ListMessages(const MessageListQuery& q, const ProjectScope& scope,
                                   int64_t max_limit);
  // Soft-deletes; returns false when no such message is visible.
  Result<bool> DeleteMessage(const std::string& id, const ProjectScope& scope);
  // Removes messages whose expires_at is before `now_iso`; returns how many.
  Result<int64_t> DeleteExpiredMessages(const std::string& now_iso);

  // Hard-deletes rows soft-deleted before `before_iso`; returns the number of rows removed.
  Result<int64_t> Purge(const std::string& before_iso);

 private:
  Status CreateVolumeTypeRow(const VolumeType& t);
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cinder

#endif  // CINDER_DB_STORE_H_

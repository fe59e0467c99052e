// The schedulers' RPC interface (Cinder's scheduler/rpcapi.py): the messages, SchedulerRpc to
// send them, and SchedulerRpcServer for the service that answers them. Also VolumeHostClient:
// how a scheduler hands the volumes it placed to their volume hosts, which the volume folder
// implements (volume/volume_rpc.h), so that this folder does not depend on it.
#ifndef CINDER_SCHEDULER_SCHEDULER_RPC_H_
#define CINDER_SCHEDULER_SCHEDULER_RPC_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cinder/context.h"
#include "cinder/status.h"
#include "cinder/transport.h"

namespace cinder {

using StringMap = std::map<std::string, std::string>;

// Scheduler hints given at create (cinder create --hint), kept for every attempt.
struct PlacementHints {
  std::vector<std::string> same_host;       // volume ids
  std::vector<std::string> different_host;  // volume ids
  std::optional<std::string> query;         // JsonFilter's query, as given
  template <class V>
  void Fields(V& v) {
    v("same_host", same_host);
    v("different_host", different_host);
    v("query", query);
  }
};

// What the API recorded of a new volume (the request_spec's volume properties).
struct VolumeProperties {
  int64_t size = 0;
  std::string availability_zone;
  std::string volume_type_id;
  std::string project_id;
  std::string user_id;
  std::string display_name;
  std::string display_description;
  template <class V>
  void Fields(V& v) {
    v("size", size);
    v("availability_zone", availability_zone);
    v("volume_type_id", volume_type_id);
    v("project_id", project_id);
    v("user_id", user_id);
    v("display_name", display_name);
    v("display_description", display_description);
  }
};

// A volume to place (Cinder's request_spec and filter_properties). It goes from the API to a
// scheduler, from the scheduler to the chosen host, and back to a scheduler on a reschedule.
struct PlacementRequest {
  std::string volume_id;
  int attempt = 1;                         // 1 for the first placement
  std::vector<std::string> tried;          // pools (host@backend#pool) tried by earlier attempts
  std::optional<VolumeProperties> volume;  // from the API; otherwise read from the database
  std::optional<StringMap> extra_specs;    // of the volume's type, likewise
  std::optional<StringMap> qos_specs;      // of the type's QoS specs (qos.* in functions)
  PlacementHints hints;
  std::optional<std::string> resource_backend;  // host@backend the volume must go to
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
    v("attempt", attempt);
    v("tried", tried);
    v("volume", volume);
    v("extra_specs", extra_specs);
    v("qos_specs", qos_specs);
    v("hints", hints);
    v("resource_backend", resource_backend);
  }
};

// os-retype of a volume: it is "retyping" and holds `reservations` until a host commits them.
struct RetypeRequest {
  std::string volume_id;
  std::string new_type_id;
  std::string migration_policy;           // "never" or "on-demand"
  std::string previous_status;            // what the volume returns to
  std::vector<std::string> reservations;  // quota reservation ids
  // os-migrate_volume: the volume moves to the destination with its type, "maintenance"
  // meanwhile (not "retyping"), migration_status "success" or "error" at the end.
  bool migration = false;
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
    v("new_type_id", new_type_id);
    v("migration_policy", migration_policy);
    v("previous_status", previous_status);
    v("reservations", reservations);
    v("migration", migration);
  }
};

// A group to place (create_group): the scheduler reads it and its volume types back.
struct GroupPlacement {
  std::string group_id;
  template <class V>
  void Fields(V& v) {
    v("group_id", group_id);
  }
};

// A volume to adopt (manage_existing): recorded "managing" on the host@backend[#pool] the
// request named; the scheduler checks that backend passes the filters for the volume's type
// (Cinder's backend_passes_filters), records the pool, and hands the volume to its host.
struct ManagePlacement {
  std::string volume_id;
  std::string ref;  // the reference's "source-name"
  template <class V>
  void Fields(V& v) {
    v("volume_id", volume_id);
    v("ref", ref);
  }
};

// validate_host_capacity (a call): whether `host` (host@backend#pool, or host@backend: any of
// its pools) passes the filters for `size` GB more, as Cinder checks before it makes a group
// from a source.
struct CapacityCheck {
  std::string host;
  int64_t size = 0;
  std::string availability_zone;
  template <class V>
  void Fields(V& v) {
    v("host", host);
    v("size", size);
    v("availability_zone", availability_zone);
  }
};
struct CapacityVerdict {
  bool fits = false;
  template <class V>
  void Fields(V& v) {
    v("fits", fits);
  }
};

// A pool's capabilities, as its volume host reports them to every scheduler.
struct CapabilitiesReport {
  std::string host;          // host@backend#pool
  std::string backend_host;  // host@backend
  StringMap capabilities;
  int64_t volume_count = 0;
  template <class V>
  void Fields(V& v) {
    v("host", host);
    v("backend_host", backend_host);
    v("capabilities", capabilities);
    v("volume_count", volume_count);
  }
};

// Sends to the schedulers. Safe for concurrent use; `transport` must outlive it.
class SchedulerRpc {
 public:
  static constexpr std::chrono::milliseconds kCastTimeout{3000};

  explicit SchedulerRpc(Transport* transport) : transport_(transport) {}
  // Unavailable when no scheduler accepted the request within `timeout`.
  Status CreateVolume(const RequestContext& ctx, const PlacementRequest& request,
                      std::chrono::milliseconds timeout = kCastTimeout);
  Status RetypeVolume(const RequestContext& ctx, const RetypeRequest& request,
                      std::chrono::milliseconds timeout = kCastTimeout);
  Status CreateGroup(const RequestContext& ctx, const GroupPlacement& request,
                     std::chrono::milliseconds timeout = kCastTimeout);
  Status ManageExisting(const RequestContext& ctx, const ManagePlacement& request,
                        std::chrono::milliseconds timeout = kCastTimeout);
  // A call: the verdict of one scheduler.
  Result<bool> ValidateHostCapacity(const RequestContext& ctx, const CapacityCheck& request,
                                    std::chrono::milliseconds timeout = kCastTimeout);
  // To every scheduler; how many took it.
  Result<int> UpdateServiceCapabilities(const CapabilitiesReport& report,
                                        std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

 private:
  Transport* transport_;
};

// What a scheduler serves. Called on the transport's threads.
class SchedulerRpcServer {
 public:
  virtual ~SchedulerRpcServer() = default;
  virtual Status CreateVolume(const RequestContext& ctx, const PlacementRequest& request) = 0;
  virtual Status RetypeVolume(const RequestContext& ctx, const RetypeRequest& request) = 0;
  virtual Status CreateGroup(const RequestContext&, const GroupPlacement&) { return Unimplemented("create_group"); }
  virtual Status ManageExisting(const RequestContext&, const ManagePlacement&) {
    return Unimplemented("manage_existing");
  }
  virtual Result<CapacityVerdict> ValidateHostCapacity(const RequestContext&, const CapacityCheck&) {
    return Unimplemented("validate_host_capacity");
  }
  virtual Status UpdateServiceCapabilities(const RequestContext& ctx, const CapabilitiesReport& report) = 0;
};

// The transport handler of the scheduler topic, dispatching to `server` (which must outlive it).
RpcHandler SchedulerRpcHandler(SchedulerRpcServer* server);

// The volume hosts as a scheduler sees them: where it hands what it placed. VolumeRpc
// implements it. `backend_host` is host@backend.
class VolumeHostClient {
 public:
  virtual ~VolumeHostClient() = default;
  // Creates the volume `placement` names, of `size` GB, on the pool it was claimed on.
  virtual Status CreateVolume(const RequestContext& ctx, const std::string& backend_host, int64_t size,
                              const PlacementRequest& placement, std::chrono::milliseconds timeout) = 0;
  // Retypes the volume on the host that holds it: to `dest_host` (host@backend#pool), which
  // is the volume's own pool when only its type changes.
  virtual Status RetypeVolume(const RequestContext& ctx, const std::string& backend_host, const RetypeRequest& retype,
                              const std::string& dest_host, std::chrono::milliseconds timeout) = 0;
  // Creates the group the scheduler placed on `backend_host`.
  virtual Status CreateGroup(const RequestContext&, const std::string&, const std::string&, std::chrono::milliseconds) {
    return Unimplemented("create_group");
  }
  // Adopts the object `ref` names as the volume the scheduler placed on `backend_host`.
  virtual Status ManageVolume(const RequestContext&, const std::string& /*backend_host*/,
                              const std::string& /*volume_id*/, const std::string& /*ref*/, std::chrono::milliseconds) {
    return Unimplemented("manage_existing");
  }
};

}  // namespace cinder

#endif  // CINDER_SCHEDULER_SCHEDULER_RPC_H_

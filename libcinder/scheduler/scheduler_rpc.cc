#include "scheduler/scheduler_rpc.h"

#include <memory>

#include "rpc/method.h"
#include "rpc/topics.h"

namespace cinder {

namespace {

constexpr rpc::Method<PlacementRequest> kCreateVolume{"create_volume"};
constexpr rpc::Method<RetypeRequest> kRetypeVolume{"retype_volume"};
constexpr rpc::Method<GroupPlacement> kCreateGroup{"create_group"};
constexpr rpc::Method<ManagePlacement> kManageExisting{"manage_existing"};
constexpr rpc::Method<CapacityCheck, CapacityVerdict> kValidateHostCapacity{"validate_host_capacity"};
constexpr rpc::Method<CapabilitiesReport> kUpdateServiceCapabilities{"update_service_capabilities"};

}  // namespace

Status SchedulerRpc::CreateVolume(const RequestContext& ctx, const PlacementRequest& request,
                                  std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::kSchedulerTopic, kCreateVolume, ctx, request, timeout);
}

Status SchedulerRpc::RetypeVolume(const RequestContext& ctx, const RetypeRequest& request,
                                  std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::kSchedulerTopic, kRetypeVolume, ctx, request, timeout);
}

Status SchedulerRpc::CreateGroup(const RequestContext& ctx, const GroupPlacement& request,
                                 std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::kSchedulerTopic, kCreateGroup, ctx, request, timeout);
}

Status SchedulerRpc::ManageExisting(const RequestContext& ctx, const ManagePlacement& request,
                                    std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::kSchedulerTopic, kManageExisting, ctx, request, timeout);
}

Result<bool> SchedulerRpc::ValidateHostCapacity(const RequestContext& ctx, const CapacityCheck& request,
                                                std::chrono::milliseconds timeout) {
  CINDER_ASSIGN_OR_RETURN(CapacityVerdict v,
                          rpc::Call(*transport_, rpc::kSchedulerTopic, kValidateHostCapacity, ctx, request, timeout));
  return v.fits;
}

Result<int> SchedulerRpc::UpdateServiceCapabilities(const CapabilitiesReport& report,
                                                    std::chrono::milliseconds timeout) {
  return rpc::Fanout(*transport_, rpc::kSchedulerTopic, kUpdateServiceCapabilities, RequestContext(), report, timeout);
}

RpcHandler SchedulerRpcHandler(SchedulerRpcServer* server) {
  auto d = std::make_shared<rpc::Dispatcher>(rpc::kSchedulerTopic);
  d->On(kCreateVolume, [server](const RequestContext& ctx, PlacementRequest r) { return server->CreateVolume(ctx, r); })
      .On(kRetypeVolume, [server](const RequestContext& ctx, RetypeRequest r) { return server->RetypeVolume(ctx, r); })
      .On(kCreateGroup, [server](const RequestContext& ctx, GroupPlacement r) { return server->CreateGroup(ctx, r); })
      .On(kManageExisting,
          [server](const RequestContext& ctx, ManagePlacement r) { return server->ManageExisting(ctx, r); })
      .On(kValidateHostCapacity,
          [server](const RequestContext& ctx, CapacityCheck r) { return server->ValidateHostCapacity(ctx, r); })
      .On(kUpdateServiceCapabilities, [server](const RequestContext& ctx, CapabilitiesReport r) {
        return server->UpdateServiceCapabilities(ctx, r);
      });
  return rpc::Dispatcher::Serve(std::move(d));
}

}  // namespace cinder

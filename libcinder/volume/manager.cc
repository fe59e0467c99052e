// VolumeManager::Open and VolumeManagerImpl (manager_impl.h): opening the embedded service
// (and the policy), user messages, Drain.
#include "common/util.h"
#include "rpc/metrics_transport.h"
#include "volume/manager_impl.h"

namespace cinder {

// The embedded service: the store, an in-process transport, the scheduler and this host's
// volume service, all owned here.
VolumeManagerImpl::VolumeManagerImpl(Options options, std::unique_ptr<Store> store,
                                     std::shared_ptr<const auth::Policy> policy, std::unique_ptr<Transport> owned,
                                     Transport* transport)
    : options_(std::move(options)),
      store_(std::move(store)),
      policy_(std::move(policy)),
      owned_transport_(std::move(owned)),
      transport_(owned_transport_ ? owned_transport_.get() : transport) {
  snapshots_.set_transport(transport_);
  schedulers_ = SchedulerRpc(transport_);
  hosts_ = VolumeRpc(transport_);
}

Status VolumeManagerImpl::StartServices(const DriverRegistry& drivers) {
  CINDER_ASSIGN_OR_RETURN(
      scheduler_, SchedulerService::Start(options_, store_.get(), transport_, std::make_unique<VolumeRpc>(transport_)));
  CINDER_ASSIGN_OR_RETURN(volume_, VolumeService::Start(options_, drivers, store_.get(), transport_));
  return Status::OK();
}

VolumeManagerImpl::~VolumeManagerImpl() {
  if (!owned_transport_) return;  // the API side only: the transport is the caller's
  Drain();
  transport_->Stop();  // no handler runs after this; then the services can go
  volume_.reset();
  scheduler_.reset();
}

Result<MessageList> VolumeManagerImpl::ListMessages(const RequestContext& ctx, const MessageListQuery& q) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "message:get_all", {}));
  return store_->ListMessages(q, ReadScope(ctx), options_.osapi_max_limit);
}

Result<Message> VolumeManagerImpl::MessageFor(const RequestContext& ctx, const std::string& id, const char* rule) {
  CINDER_ASSIGN_OR_RETURN(Message m, store_->GetMessage(id, ReadScope(ctx)));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, rule, MessageTarget(m)));
  return m;
}

Result<Message> VolumeManagerImpl::GetMessage(const RequestContext& ctx, const std::string& id) {
  return MessageFor(ctx, id, "message:get");
}

Status VolumeManagerImpl::DeleteMessage(const RequestContext& ctx, const std::string& id) {
  CINDER_RETURN_IF_ERROR(MessageFor(ctx, id, "message:delete").status());
  CINDER_ASSIGN_OR_RETURN(bool found, store_->DeleteMessage(id, ReadScope(ctx)));
  if (!found) return NotFound("Message " + id + " could not be found.");
  return Status::OK();
}

Result<Volume> VolumeManagerImpl::VolumeFor(const RequestContext& ctx, const std::string& id, const char* rule) {
  CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, rule, VolumeTarget(v)));
  return v;
}

// Not a Cinder operation (an embedding program's): what volume:get lets it see.
Result<std::string> VolumeManagerImpl::LocalPath(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(Volume v, GetVolume(ctx, id));
  if (v.host.empty()) return std::string();
  return hosts_.LocalPath(ctx, v.host, v.id);
}

void VolumeManagerImpl::Drain() {
  // Requests in the transport hand work to the volume service, whose work may report back.
  if (!owned_transport_) return;  // the work runs in other processes
  // A create passes API -> scheduler -> volume service, and back to a scheduler on each
  // reschedule: one round per possible attempt.
  for (int i = 0; i <= options_.scheduler_max_attempts; ++i) {
    transport_->Drain();
    if (volume_) volume_->Drain();
  }
}

Result<std::unique_ptr<VolumeManager>> VolumeManager::Open(const VolumeManagerOptions& mo) {
  Options options = mo.options;
  if (options.host.empty()) options.host = HostName();
  const DriverRegistry& registry = mo.drivers ? *mo.drivers : DriverRegistry::Builtin();
  CINDER_ASSIGN_OR_RETURN(std::shared_ptr<const auth::Policy> policy, auth::Policy::Open(options));
  CINDER_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(options.DatabaseUrl()));
  CINDER_RETURN_IF_ERROR(store->CheckSchema());
  if (mo.transport) {
    return std::unique_ptr<VolumeManager>(
        new VolumeManagerImpl(options, std::move(store), std::move(policy), nullptr, mo.transport));
  }
  if (options.backends.empty()) return InvalidArgument(options.origin + ": no backend is enabled");
  auto mgr =
      std::make_unique<VolumeManagerImpl>(options, std::move(store), std::move(policy),
                                          rpc::WithMetrics(NewInProcessTransport(options.volume_workers)), nullptr);
  CINDER_RETURN_IF_ERROR(mgr->StartServices(registry));
  return std::unique_ptr<VolumeManager>(std::move(mgr));
}

}  // namespace cinder

// VolumeManagerImpl (manager_impl.h): services, pools, capabilities, availability zones, the
// volume summary.
#include <algorithm>
#include <set>

#include "db/directory.h"
#include "scheduler/extra_specs_ops.h"
#include "volume/manager_impl.h"

namespace cinder {

Result<std::vector<ServiceInfo>> VolumeManagerImpl::ListServices(const RequestContext& ctx,
                                                                 const std::optional<std::string>& host,
                                                                 const std::optional<std::string>& binary) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:services:index", {}));
  CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(host, binary));
  for (auto& svc : services) svc.up = ServiceIsUp(svc, options_.service_down_time, options_.env);
  return services;
}

Status VolumeManagerImpl::SetServiceDisabled(const RequestContext& ctx, const std::string& host,
                                             const std::string& binary, bool disabled,
                                             const std::optional<std::string>& reason) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:services:update", {}));
  CINDER_ASSIGN_OR_RETURN(bool found, store_->SetServiceDisabled(host, binary, disabled, reason));
  if (!found) return NotFound("Service " + binary + " could not be found on host " + host + ".");
  return Status::OK();
}

Status VolumeManagerImpl::FreezeBackend(const RequestContext& ctx, const std::optional<std::string>& host,
                                        const std::optional<std::string>& cluster, bool frozen) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:services:update", {}));
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, frozen ? "volume:freeze_host" : "volume:thaw_host", {}));
  Status st = store_->FreezeBackend(host, cluster, frozen);
  // The services API turns Cinder's ServiceNotFound into InvalidInput, as its other refusals.
  if (st.code() == Code::kNotFound || st.code() == Code::kInvalidArgument) {
    return InvalidArgument("Invalid input received: " + st.message());
  }
  return st;
}

namespace {

// Cinder's ClusterNotFound for a lookup by name and binary: the filters as Python prints them.
Status ClusterNotFound(const std::string& name, const std::string& binary) {
  return NotFound("Cluster {'binary': '" + binary + "', 'name': '" + name + "'} could not be found.");
}

}  // namespace

Result<std::vector<ClusterInfo>> VolumeManagerImpl::Clusters() {
  CINDER_ASSIGN_OR_RETURN(auto clusters, store_->ListClusters());
  CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::nullopt));
  for (ClusterInfo& c : clusters) {
    for (const ServiceInfo& s : services) {
      if (s.cluster_name != c.name || s.binary != c.binary) continue;
      const bool up = ServiceIsUp(s, options_.service_down_time, options_.env);
      ++c.num_hosts;
      if (!up) ++c.num_down_hosts;
      c.up = c.up || up;
      if (s.updated_at && (!c.last_heartbeat || *s.updated_at > *c.last_heartbeat)) c.last_heartbeat = s.updated_at;
    }
  }
  return clusters;
}

Result<std::vector<ClusterInfo>> VolumeManagerImpl::ListClusters(const RequestContext& ctx, const ClusterQuery& q) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "clusters:get_all", {}));
  CINDER_ASSIGN_OR_RETURN(auto clusters, Clusters());
  std::vector<ClusterInfo> out;
  for (ClusterInfo& c : clusters) {
    if ((q.name && c.name != *q.name) || (q.binary && c.binary != *q.binary) || (q.is_up && c.up != *q.is_up) ||
        (q.disabled && c.disabled != *q.disabled) || (q.num_hosts && c.num_hosts != *q.num_hosts) ||
        (q.num_down_hosts && c.num_down_hosts != *q.num_down_hosts)) {
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<ClusterInfo> VolumeManagerImpl::GetCluster(const RequestContext& ctx, const std::string& name,
                                                  const std::string& binary) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "clusters:get", {}));
  CINDER_ASSIGN_OR_RETURN(auto clusters, Clusters());
  for (ClusterInfo& c : clusters) {
    if (c.name == name && c.binary == binary) return std::move(c);
  }
  return ClusterNotFound(name, binary);
}

Result<ClusterInfo> VolumeManagerImpl::SetClusterDisabled(const RequestContext& ctx, const std::string& name,
                                                          const std::string& binary, bool disabled,
                                                          const std::optional<std::string>& reason) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "clusters:update", {}));
  CINDER_ASSIGN_OR_RETURN(bool found, store_->SetClusterDisabled(name, binary, disabled, reason));
  if (!found) return ClusterNotFound(name, binary);
  CINDER_ASSIGN_OR_RETURN(auto clusters, Clusters());
  for (ClusterInfo& c : clusters) {
    if (c.name == name && c.binary == binary) return std::move(c);
  }
  return ClusterNotFound(name, binary);
}

Result<std::vector<PoolInfo>> VolumeManagerImpl::ListPools(const RequestContext& ctx,
                                                           const std::optional<std::string>& name,
                                                           const std::optional<std::string>& volume_type) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "scheduler_extension:scheduler_stats:get_pools", {}));
  std::optional<VolumeType> type;
  if (volume_type) {
    CINDER_ASSIGN_OR_RETURN(type, store_->GetVolumeType(*volume_type));
  }
  CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
  std::set<std::string> active;
  for (const auto& svc : services) {
    if (!ServiceDisabled(svc) && ServiceIsUp(svc, options_.service_down_time, options_.env)) active.insert(svc.host);
  }
  CINDER_ASSIGN_OR_RETURN(auto records, store_->ListPools());
  std::vector<PoolInfo> out;
  for (auto& r : records) {
    if (!active.count(r.backend_host) || (name && r.host != *name)) continue;
    // A type filter applies its extra specs only (get_pools passes no size to check).
    if (type && !scheduler::CapabilitiesSatisfied(type->extra_specs, [&r](std::string_view key) {
          auto it = r.capabilities.find(std::string(key));
          return it == r.capabilities.end() ? std::nullopt : std::optional<std::string>(it->second);
        })) {
      continue;
    }
    out.push_back(PoolInfo{r.host, r.backend_host, std::move(r.capabilities)});
  }
  return out;
}

Result<PoolInfo> VolumeManagerImpl::GetBackendCapabilities(const RequestContext& ctx, const std::string& host) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume_extension:capabilities", {}));
  CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
  std::optional<std::string> backend;
  for (const auto& svc : services) {
    if (svc.host == host || (host.find('@') == std::string::npos && svc.host.rfind(host + "@", 0) == 0)) {
      backend = svc.host;
      break;
    }
  }
  if (!backend) return NotFound("Can't find service: " + host);
  CINDER_ASSIGN_OR_RETURN(auto records, store_->ListPools());
  for (auto& r : records) {
    if (r.backend_host == *backend) return PoolInfo{r.host, r.backend_host, std::move(r.capabilities)};
  }
  return NotFound("Can't find service: " + host);
}

Result<VolumeManager::Summary> VolumeManagerImpl::GetVolumeSummary(const RequestContext& ctx, bool all_tenants) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "volume:get_all", {}));
  ProjectScope scope = ctx.project_id;
  if (ctx.is_admin && all_tenants) scope.reset();
  CINDER_ASSIGN_OR_RETURN(auto s, store_->SummarizeVolumes(scope));
  return Summary{s.count, s.size, std::move(s.metadata)};
}

// Cinder's availability zones API checks no rule.
Result<std::vector<std::pair<std::string, bool>>> VolumeManagerImpl::ListAvailabilityZones(const RequestContext& ctx) {
  CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
  std::vector<std::pair<std::string, bool>> zones;
  for (const auto& svc : services) {
    auto it = std::find_if(zones.begin(), zones.end(), [&](const auto& z) { return z.first == svc.availability_zone; });
    if (it == zones.end()) {
      zones.emplace_back(svc.availability_zone, !svc.disabled);
    } else {
      it->second = it->second || !svc.disabled;
    }
  }
  return zones;
}

}  // namespace cinder

// VolumeManagerImpl (manager_impl.h): workers/cleanup, as cinder/api/v3/workers.py and the
// scheduler's work_cleanup: the services the filters match; each cinder-volume that is up
// sweeps its orphans now (what volume_recovery.cc's SweepOrphans repairs), a scheduler has
// nothing to clean; the volume services that are down are "unavailable".
#include <cctype>
#include <set>

#include "common/log.h"
#include "common/util.h"
#include "db/directory.h"
#include "volume/manager_impl.h"

namespace cinder {

Result<WorkCleanupResult> VolumeManagerImpl::WorkCleanup(const RequestContext& ctx, const WorkCleanupFilters& in) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "workers:cleanup", {}));
  WorkCleanupFilters f = in;
  if (f.resource_type) {
    // Python's str.title() of a word.
    std::string t = ToLower(*f.resource_type);
    if (!t.empty()) t[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
    if (t != "Volume" && t != "Snapshot") {
      return InvalidArgument("Invalid input received: Resource type " + t + " not valid, must be Volume or Snapshot");
    }
    f.resource_type = t;
  }
  if (f.resource_id && !f.service_id && !f.cluster_name && !f.host) {
    // Cinder finds the service from the resource's worker entry; here from where the
    // resource is, when it is in a status a cleanup repairs.
    static const std::set<std::string> kTransitional = {"creating",   "deleting",    "extending",
                                                        "retyping",   "reverting",   "managing",
                                                        "unmanaging", "maintenance", "restoring"};
    std::optional<std::string> where;
    if (!f.resource_type || *f.resource_type == "Volume") {
      auto v = store_->GetVolume(*f.resource_id, std::nullopt);
      if (v.ok() && kTransitional.count(v->status) && !v->host.empty()) where = v->host;
    }
    if (!where && (!f.resource_type || *f.resource_type == "Snapshot")) {
      auto sn = store_->GetSnapshot(*f.resource_id, std::nullopt);
      if (sn.ok() && kTransitional.count(sn->status)) {
        auto v = store_->GetVolume(sn->volume_id, std::nullopt);
        if (v.ok() && !v->host.empty()) where = v->host;
      }
    }
    if (!where) {
      // Cinder's message is a tuple there, printed as one.
      return InvalidArgument("Invalid input received: ('There is no resource with UUID %s pending cleanup.', '" +
                             *f.resource_id + "')");
    }
    f.host = where->substr(0, where->find('#'));
    f.binary = "cinder-volume";
  }
  CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(f.host, f.binary));
  CINDER_ASSIGN_OR_RETURN(auto ids, store_->ServiceIds());
  WorkCleanupResult out;
  for (const auto& s : services) {
    auto id = ids.find({s.host, s.binary});
    if (id == ids.end()) continue;
    const bool up = ServiceIsUp(s, options_.service_down_time, options_.env);
    if (f.service_id && *f.service_id != id->second) continue;
    if (f.cluster_name && s.cluster_name != f.cluster_name) continue;
    if (f.is_up && *f.is_up != up) continue;
    if (f.disabled && *f.disabled != s.disabled) continue;
    if (s.binary != "cinder-volume" && s.binary != "cinder-scheduler") continue;
    WorkCleanupResult::Service row{id->second, s.host, s.binary, s.cluster_name};
    if (s.binary == "cinder-scheduler") {
      out.cleaning.push_back(row);  // nothing of its own to clean
    } else if (up) {
      Status st = hosts_.DoCleanup(ctx, s.host);
      if (!st.ok()) CINDER_LOG(kWarning, "cinder-api") << "cleanup of " << s.host << ": " << st.ToString();
      out.cleaning.push_back(row);
    } else {
      out.unavailable.push_back(row);
    }
  }
  return out;
}

}  // namespace cinder

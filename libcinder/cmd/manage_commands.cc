#include "cmd/manage_commands.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "cinder/env.h"
#include "common/util.h"
#include "db/directory.h"
#include "db/store.h"

namespace cinder {

namespace {

Result<std::unique_ptr<Store>> OpenChecked(const Options& options) {
  CINDER_ASSIGN_OR_RETURN(auto store, Store::Open(options.DatabaseUrl()));
  CINDER_RETURN_IF_ERROR(store->CheckSchema());
  return store;
}

int Fail(const Status& st, std::ostream& out) {
  out << st.message() << "\n";
  return 1;
}

std::string Row(const char* binary, const std::string& host, const std::string& zone, const char* status,
                const char* state, const std::string& updated, const std::string& rpc) {
  char line[512];
  std::snprintf(line, sizeof line, "%-16s %-36s %-16s %-10s %-5s %-20s %-12s %-15s %-36s", binary, host.c_str(),
                zone.c_str(), status, state, updated.c_str(), rpc.c_str(), "", "");
  std::string s(line);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

int ServiceList(const Options& options, std::ostream& out) {
  auto store = OpenChecked(options);
  if (!store.ok()) return Fail(store.status(), out);
  auto services = (*store)->ListServices(std::nullopt, std::nullopt);
  if (!services.ok()) return Fail(services.status(), out);
  out << Row("Binary", "Host", "Zone", "Status", "State", "Updated At", "RPC Version") << "\n";
  for (const auto& svc : *services) {
    // Cinder prints the time without its fraction (normalize_time of a datetime).
    std::string updated = svc.updated_at.value_or(svc.created_at);
    if (auto dot = updated.find('.'); dot != std::string::npos) updated.resize(dot);
    if (updated.size() > 10 && updated[10] == 'T') updated[10] = ' ';
    out << Row(svc.binary.c_str(), svc.host, svc.availability_zone, svc.disabled ? "disabled" : "enabled",
               ServiceIsUp(svc, options.service_down_time, options.env) ? ":-)" : "XXX", updated,
               std::to_string(svc.rpc_version))
        << "\n";
  }
  return 0;
}

int ServiceBacklog(const Options& options, std::ostream& out) {
  auto store = OpenChecked(options);
  if (!store.ok()) return Fail(store.status(), out);
  auto rows = (*store)->VolumeBacklog({"creating", "deleting", "extending", "retyping", "reverting"});
  if (!rows.ok()) return Fail(rows.status(), out);
  // By queue: the schedulers' (unplaced creates), then each volume host's (host@backend),
  // whatever pool of it the volume is on.
  struct Queue {
    int64_t count = 0;
    std::string oldest;
  };
  std::map<std::pair<std::string, std::string>, Queue> queues;
  for (const auto& r : *rows) {
    const std::string queue = r.host.empty() ? "(schedulers)" : r.host.substr(0, r.host.find('#'));
    Queue& q = queues[{queue, r.status}];
    q.count += r.count;
    if (q.oldest.empty() || (!r.oldest.empty() && r.oldest < q.oldest)) q.oldest = r.oldest;
  }
  const double now = EpochSeconds(options.env ? options.env->Now() : Env::Default()->Now());
  char line[256];
  std::snprintf(line, sizeof line, "%-40s %-10s %8s %10s", "Queue", "Status", "Volumes", "Oldest (s)");
  out << line << "\n";
  for (const auto& [key, q] : queues) {
    auto since = ParseIso(q.oldest);
    std::snprintf(line, sizeof line, "%-40s %-10s %8lld %10.1f", key.first.c_str(), key.second.c_str(),
                  static_cast<long long>(q.count), since ? std::max(0.0, now - *since) : 0.0);
    out << line << "\n";
  }
  return 0;
}

int ServiceRemove(const Options& options, const std::string& binary, const std::string& host, std::ostream& out) {
  auto store = OpenChecked(options);
  if (!store.ok()) return Fail(store.status(), out);
  auto removed = (*store)->RemoveService(host, binary);
  if (!removed.ok()) return Fail(removed.status(), out);
  if (!*removed) {
    out << "Host not found. Failed to remove " << binary << " on " << host << ".\n"
        << "Service " << binary << " on host " << host << " could not be found.\n";
    return 2;
  }
  out << "Service " << binary << " on host " << host << " removed.\n";
  return 0;
}

int VolumeDelete(const Options& options, const std::string& id, std::ostream& out) {
  auto store = OpenChecked(options);
  if (!store.ok()) return Fail(store.status(), out);
  auto volume = (*store)->GetVolume(id, std::nullopt);
  if (!volume.ok()) return Fail(volume.status(), out);
  if (volume->status == "in-use") {
    out << "Volume is in-use.\nDetach volume from instance and then try again.\n";
    return 0;
  }
  auto started = (*store)->StartVolumeDelete(id, {}, /*cascade=*/false, /*any_snapshot_status=*/true,
                                             /*other_projects_snapshots=*/true);
  if (!started.ok()) return Fail(started.status(), out);
  if (!*started) {
    out << "Volume " << id << " cannot be deleted now: it has snapshots, or a volume is being made from it.\n";
    return 1;
  }
  if (volume->host.empty()) {
    out << "Volume not yet assigned to host.\nDeleting volume from database and skipping rpc.\n";
    auto gone = (*store)->SoftDeleteVolume(id, "deleting");
    if (!gone.ok()) return Fail(gone.status(), out);
    return 0;
  }
  // Its volume service removes the data: the sweep it runs every report_interval finishes a
  // deletion that no request is carrying.
  auto handed = (*store)->HandToSweep(id, "deleting");
  if (!handed.ok()) return Fail(handed.status(), out);
  out << "Volume " << id << " is deleting: the cinder-volume service of " << volume->host
      << " removes it at its next sweep (within report_interval, " << options.report_interval << " s).\n";
  return 0;
}

}  // namespace cinder

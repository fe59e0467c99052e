// Admin volume actions of cinder/api/contrib/admin_actions.py served here rather than in
// volumes.cc: os-migrate_volume.
#include "api/admin_actions.h"

#include "api/common.h"
#include "volume/manager_impl.h"

namespace cinder::api {

ApiResponse MigrateVolumeAction(VolumeManager& volumes, const ApiRequest& req, const std::string& id,
                                const json::Value& arg) {
  // The schemas migrate_volume (before 3.16: `host` required) and migrate_volume_v316.
  const bool v316 = req.version.AtLeast(3, 16);
  if (!arg.is_object()) return FaultFrom(FieldError("os-migrate_volume", arg, PyRepr(arg) + " is not of type 'object'"));
  std::vector<std::string> extra;
  for (const auto& [k, v] : arg.as_object()) {
    if (k != "host" && k != "force_host_copy" && k != "lock_volume" && !(v316 && k == "cluster")) extra.push_back(k);
  }
  if (!extra.empty()) return FaultFrom(FieldError("os-migrate_volume", arg, Unexpected(extra)));
  if (!v316 && !arg.Find("host")) {
    return FaultFrom(FieldError("os-migrate_volume", arg, "'host' is a required property"));
  }
  auto host = OptString(arg, "host", v316);
  if (!host.ok()) return FaultFrom(host.status());
  std::optional<std::string> cluster;
  if (v316) {
    auto c = OptString(arg, "cluster", true);
    if (!c.ok()) return FaultFrom(c.status());
    cluster = *c;
  }
  bool flags[2] = {false, false};
  const char* names[2] = {"force_host_copy", "lock_volume"};
  for (int i = 0; i < 2; ++i) {
    if (const json::Value* f = arg.Find(names[i])) {
      auto b = BodyBool(names[i], *f);
      if (!b.ok()) return FaultFrom(b.status());
      flags[i] = *b;
    }
  }
  // common.get_cluster_host: exactly one of them, non-empty.
  const bool has_host = *host && !(*host)->empty();
  const bool has_cluster = cluster && !cluster->empty();
  if (has_host == has_cluster) {
    return Fault(400, std::string("Invalid input received: ") +
                          (v316 ? "One and only one of cluster and host must be set." : "Host field is missing."));
  }
  // The migration is VolumeManagerImpl's (not yet an operation of the VolumeManager interface).
  auto* impl = dynamic_cast<VolumeManagerImpl*>(&volumes);
  if (!impl) return Fault(501, "The migration of volumes is not served by this volume manager.");
  Status st = impl->MigrateVolume(req.ctx, id, has_host ? *host : std::nullopt, has_cluster ? cluster : std::nullopt,
                                  flags[0], flags[1]);
  return st.ok() ? Json(202, "") : FaultFrom(st);
}

}  // namespace cinder::api

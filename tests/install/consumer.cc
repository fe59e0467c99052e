// An out-of-tree program against the installed libcinder: an embedded service (SQLite, one file
// backend) in STATE_DIR; a volume created, snapshotted, cloned, extended and deleted.
#include <cinder/service.h>
#include <cinder/version.h>
#include <cinder/volume_manager.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

using namespace cinder;

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}
void Must(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    std::exit(1);
  }
}
// Waits until the volume leaves a transient status and returns it.
std::string Settle(VolumeManager& vm, const RequestContext& ctx, const std::string& id) {
  for (int i = 0; i < 10000; ++i) {
    auto v = vm.GetVolume(ctx, id);
    if (!v.ok()) return "gone";
    if (v->status != "creating" && v->status != "extending" && v->status != "deleting") return v->status;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return "stuck";
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::printf("libcinder %s\n", LibraryVersion());
  Options options = DefaultOptions(argv[1]);
  options.osapi_volume_listen_port = 0;
  Must(DbSync(options), "db sync");
  auto service = Must(EmbeddedService::Start(options), "start");
  VolumeManager& vm = service->volumes();
  auto ctx = RequestContext::Admin("consumer", "consumer");

  VolumeCreate create;
  create.size = 1;
  create.name = "from-outside";
  Volume vol = Must(vm.CreateVolume(ctx, create), "create");
  if (Settle(vm, ctx, vol.id) != "available") return 1;
  SnapshotCreate snap_req;
  snap_req.volume_id = vol.id;
  snap_req.name = "snap";
  Snapshot snap = Must(vm.CreateSnapshot(ctx, snap_req), "snapshot");
  VolumeCreate clone_req;
  clone_req.size = 1;
  clone_req.source_volid = vol.id;
  Volume clone = Must(vm.CreateVolume(ctx, clone_req), "clone");
  if (Settle(vm, ctx, clone.id) != "available") return 1;
  Must(vm.ExtendVolume(ctx, vol.id, 2), "extend");
  if (Settle(vm, ctx, vol.id) != "available" || vm.GetVolume(ctx, vol.id)->size != 2) return 1;
  vm.Drain();
  Must(vm.DeleteSnapshot(ctx, snap.id, false), "delete snapshot");
  vm.Drain();
  Must(vm.DeleteVolume(ctx, clone.id, false, false), "delete clone");
  Must(vm.DeleteVolume(ctx, vol.id, false, false), "delete");
  vm.Drain();
  if (Settle(vm, ctx, vol.id) != "gone" || Settle(vm, ctx, clone.id) != "gone") return 1;
  service->Stop();
  std::printf("created, snapshotted, cloned, extended and deleted a volume\n");
  return 0;
}

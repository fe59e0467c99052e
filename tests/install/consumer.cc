// An out-of-tree program against the installed libcinder: an embedded service (SQLite, one file
// backend) in STATE_DIR; a volume created, attached (bytes written through the attachment),
// snapshotted, cloned (the clone attached read-only and the bytes read back), extended and deleted.
#include <cinder/connector.h>
#include <cinder/service.h>
#include <cinder/version.h>
#include <cinder/volume_manager.h>

#include <chrono>
#include <cstdio>
#include <memory>
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
// Attaches a volume to this host as Nova would (an attachment with this host's connector, then
// completed) and opens it with the connector: driver_volume_type "local" (the volume's file)
// when no tgtd answers, else iSCSI through libiscsi. Detach: close the device, delete the attachment.
struct Attached {
  std::string attachment_id;
  std::unique_ptr<BlockDevice> device;
};
Attached Attach(VolumeManager& vm, const RequestContext& ctx, const std::string& volume_id, const char* mode) {
  VolumeManager::AttachmentCreate req;
  req.volume_id = volume_id;
  req.connector = R"({"host": "consumer", "initiator": ")" + DefaultInitiatorName() + R"("})";
  req.mode = mode;
  Attachment a = Must(vm.CreateAttachment(ctx, req), "attach");
  auto device = Must(OpenConnection(*a.connection_info), "open the connection");
  Must(vm.CompleteAttachment(ctx, a.id), "complete the attachment");
  return {a.id, std::move(device)};
}
void Detach(VolumeManager& vm, const RequestContext& ctx, Attached& att) {
  att.device.reset();
  Must(vm.DeleteAttachment(ctx, att.attachment_id), "detach");
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
  const std::string bytes = "written through the attachment";
  Attached rw = Attach(vm, ctx, vol.id, "rw");
  std::printf("attached: %s\n", rw.device->Describe().c_str());
  Must(rw.device->Write(4096, bytes.data(), bytes.size()), "write");
  Must(rw.device->Flush(), "flush");
  Detach(vm, ctx, rw);
  SnapshotCreate snap_req;
  snap_req.volume_id = vol.id;
  snap_req.name = "snap";
  Snapshot snap = Must(vm.CreateSnapshot(ctx, snap_req), "snapshot");
  VolumeCreate clone_req;
  clone_req.size = 1;
  clone_req.source_volid = vol.id;
  Volume clone = Must(vm.CreateVolume(ctx, clone_req), "clone");
  if (Settle(vm, ctx, clone.id) != "available") return 1;
  Attached ro = Attach(vm, ctx, clone.id, "ro");
  std::string read(bytes.size(), '\0');
  Must(ro.device->Read(4096, read.data(), read.size()), "read");
  Detach(vm, ctx, ro);
  if (read != bytes) return 1;
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
  std::printf("created, attached and written, snapshotted, cloned (read back), extended and deleted a volume\n");
  return 0;
}

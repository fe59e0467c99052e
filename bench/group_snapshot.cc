// What a group snapshot of 10 volumes costs, end to end in an embedded service: from
// VolumeManager::CreateGroupSnapshot to the group snapshot "available" (the record, the hand-over
// to the volume host, the write hold, ten file-driver snapshots, the final compare-and-swap).
// Each volume is 10 GiB, sparse, holding 64 MiB of random data in 16 extents. Target: under
// 50 ms on a file system with reflinks (XFS, btrfs); a file system without them copies the data.
// With --tgtd (a scripts/tgtd-harness.sh folder), the volumes are then exported through that tgtd
// and the rounds run again under the write hold, and the hold alone is timed (take and release).
//   bench_group_snapshot [DIR] [--xfs] [--rounds N] [--tgtd HARNESS_DIR]
// DIR: where to work (default: the current directory); the bench makes its own directory there
// and removes it at the end. --xfs (root only): on a scratch XFS with reflink (a loop device over
// a sparse image in DIR), as bench_snapshot does. HARNESS_DIR: a scripts/tgtd-harness.sh folder.
#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cinder/service.h"
#include "cinder/volume_manager.h"
#include "volume/targets/target.h"

using namespace cinder;

namespace {

constexpr int kVolumes = 10;
constexpr int64_t kVolumeGb = 10;
constexpr int kExtents = 16;
constexpr int64_t kExtentBytes = 4LL << 20;

bool Run(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return false;
  std::string text;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  const bool ok = ::pclose(p) == 0;
  if (!ok) std::fprintf(stderr, "'%s' failed: %s", cmd.c_str(), text.c_str());
  if (out) *out = text.substr(0, text.find('\n'));
  return ok;
}

class ScratchXfs {
 public:
  explicit ScratchXfs(const std::string& dir) {
    const std::string image = dir + "/xfs.img";
    mount_point_ = dir + "/mnt";
    std::filesystem::create_directory(mount_point_);
    if (!Run("truncate -s 200G " + image)) return;
    if (!Run("losetup --find --show " + image, &loop_device_)) {
      loop_device_.clear();
      return;
    }
    if (!Run("mkfs.xfs -q -K -m reflink=1 " + loop_device_)) return;
    mounted_ = Run("mount -t xfs " + loop_device_ + " " + mount_point_);
  }
  ~ScratchXfs() {
    if (mounted_ && !Run("umount " + mount_point_)) Run("umount -l " + mount_point_);
    if (!loop_device_.empty()) Run("losetup -d " + loop_device_);
  }
  bool ok() const { return mounted_; }
  const std::string& path() const { return mount_point_; }

 private:
  std::string mount_point_;
  std::string loop_device_;
  bool mounted_ = false;
};

std::string FsType(const std::string& dir) {
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) != 0) return "?";
  switch (static_cast<uint64_t>(fs.f_type)) {
    case 0xEF53: return "ext4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    default: return "other";
  }
}

bool Fill(const std::string& path, uint64_t seed) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> buf(kExtentBytes / sizeof(uint64_t));
  bool ok = true;
  for (int i = 0; i < kExtents && ok; ++i) {
    for (auto& w : buf) w = rng();
    ok = ::pwrite(fd, buf.data(), kExtentBytes, i * (kVolumeGb << 30) / kExtents) == kExtentBytes;
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

template <typename Fn>
bool Until(Fn done, double seconds = 60) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

void Report(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  std::printf("%-44s median %7.2f ms  p90 %7.2f ms  min %7.2f ms  max %7.2f ms  (n=%zu)\n", what, ms[ms.size() / 2],
              ms[ms.size() * 9 / 10], ms.front(), ms.back(), ms.size());
}

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string parent = ".";
  std::string tgtd;
  bool xfs = false;
  int rounds = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--xfs") {
      xfs = true;
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--tgtd" && i + 1 < argc) {
      tgtd = argv[++i];
    } else if (!a.empty() && a[0] != '-') {
      parent = a;
    } else {
      std::fprintf(stderr, "usage: %s [DIR] [--xfs] [--rounds N] [--tgtd HARNESS_DIR]\n", argv[0]);
      return 2;
    }
  }
  std::string tmpl = parent + "/bench-gsnap-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string work = buf.data();
  int rc = 0;
  {
    std::unique_ptr<ScratchXfs> scratch;
    std::string dir = work;
    if (xfs) {
      scratch = std::make_unique<ScratchXfs>(work);
      if (!scratch->ok()) {
        std::fprintf(stderr, "cannot make a scratch XFS (root, losetup, mkfs.xfs needed)\n");
        std::filesystem::remove_all(work);
        return 1;
      }
      dir = scratch->path();
    }
    Options o = DefaultOptions(dir + "/state");
    o.host = "bench";
    o.quota_volumes = o.quota_snapshots = o.quota_gigabytes = -1;
    o.backends[0].target_helper = tgtd.empty() ? "fake" : "tgtadm";
    if (!tgtd.empty()) {
      o.backends[0].tgt_ipc_socket = ReadLine(tgtd + "/socket");
      o.backends[0].target_port = std::atoi(ReadLine(tgtd + "/port").c_str());
      o.backends[0].target_ip_address = "127.0.0.1";
    }
    o.backends[0].driver_options["file_volume_directory"] = dir + "/volumes";
    std::filesystem::create_directories(dir + "/state");
    if (Status st = DbSync(o); !st.ok()) {
      std::fprintf(stderr, "db sync: %s\n", st.ToString().c_str());
      return 1;
    }
    VolumeManagerOptions vmo;
    vmo.options = o;
    auto opened = VolumeManager::Open(vmo);
    if (!opened.ok()) {
      std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
      return 1;
    }
    auto& m = *opened;
    RequestContext admin;
    admin.user_id = "bench";
    admin.project_id = "bench";
    admin.roles = {"admin", "member", "reader"};
    admin.is_admin = true;
    VolumeType vt;
    vt.name = "bench-vt";
    GroupType gt;
    gt.name = "bench-gt";
    if (!m->CreateVolumeType(admin, vt).ok() || !m->CreateGroupType(admin, gt).ok()) return 1;
    GroupCreate gc;
    gc.group_type = "bench-gt";
    gc.volume_types = {"bench-vt"};
    auto g = m->CreateGroup(admin, gc);
    if (!g.ok() || !Until([&] { return m->GetGroup(admin, g->id)->status == "available"; })) {
      std::fprintf(stderr, "the group did not become available\n");
      return 1;
    }
    std::vector<std::string> volumes, attachments;
    for (int i = 0; i < kVolumes; ++i) {
      VolumeCreate vc;
      vc.size = kVolumeGb;
      vc.group_id = g->id;
      vc.volume_type = "bench-vt";
      auto v = m->CreateVolume(admin, vc);
      if (!v.ok() || !Until([&] { return m->GetVolume(admin, v->id)->status == "available"; }) ||
          !Fill(dir + "/volumes/volume-" + v->id, i + 1)) {
        std::fprintf(stderr, "volume %d: not made or not filled\n", i);
        return 1;
      }
      volumes.push_back(v->id);
    }
    std::printf("group snapshot of %d volumes of %lld GiB (%d MiB of data each) on %s (%s)\n", kVolumes,
                static_cast<long long>(kVolumeGb), static_cast<int>(kExtents * (kExtentBytes >> 20)),
                FsType(dir).c_str(), dir.c_str());
    // Rounds of group snapshots; false when one failed.
    auto measure = [&](const char* what) {
      std::vector<double> create_ms;
      for (int r = 0; r < rounds; ++r) {
        GroupSnapshotCreate c;
        c.group_id = g->id;
        const auto t0 = std::chrono::steady_clock::now();
        auto gs = m->CreateGroupSnapshot(admin, c);
        bool ok = gs.ok() && Until([&] {
                    auto now = m->GetGroupSnapshot(admin, gs->id);
                    return now.ok() && now->status != "creating";
                  });
        const auto t1 = std::chrono::steady_clock::now();
        if (!ok || m->GetGroupSnapshot(admin, gs->id)->status != "available") {
          std::fprintf(stderr, "round %d: the group snapshot failed: %s\n", r,
                       gs.ok() ? m->GetGroupSnapshot(admin, gs->id)->status.c_str() : gs.status().ToString().c_str());
          return false;
        }
        create_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        (void)m->DeleteGroupSnapshot(admin, gs->id);
        Until([&] { return !m->GetGroupSnapshot(admin, gs->id).ok(); });
      }
      Report(what, create_ms);
      return true;
    };
    if (!measure("create -> available, no export (no hold)")) rc = 1;
    if (rc == 0 && !tgtd.empty()) {
      // Each volume exported (an attachment with a connector): the snapshots are taken under
      // the hold of that tgtd.
      for (const auto& vid : volumes) {
        VolumeManager::AttachmentCreate a;
        a.volume_id = vid;
        a.instance_uuid = "5a4f0a3e-0c2b-4c0f-9d7e-2f1a3b4c5d6e";
        a.connector = R"({"initiator": "iqn.1993-08.org.debian:01:bench", "host": "bench", "ip": "127.0.0.1"})";
        auto made = m->CreateAttachment(admin, a);
        if (!made.ok()) {
          std::fprintf(stderr, "attach: %s\n", made.status().ToString().c_str());
          return 1;
        }
        attachments.push_back(made->id);
        if (Status st = m->CompleteAttachment(admin, made->id); !st.ok()) {
          std::fprintf(stderr, "attach: %s\n", st.ToString().c_str());
          return 1;
        }
      }
      if (!measure("create -> available, exported (tgtd hold)")) rc = 1;
      // The hold alone, with the ten LUNs (and their threads) in tgtd.
      {
        BackendOptions b;
        b.name = "hold";
        b.target_helper = "tgtadm";
        b.tgt_ipc_socket = ReadLine(tgtd + "/socket");
        auto target = OpenTarget(b, "127.0.0.1", dir);
        std::vector<double> hold_ms;
        for (int r = 0; target.ok() && r < rounds; ++r) {
          const auto t0 = std::chrono::steady_clock::now();
          {
            auto hold = (*target)->HoldWrites(10);
            if (!hold.ok()) {
              std::fprintf(stderr, "hold: %s\n", hold.status().ToString().c_str());
              rc = 1;
              break;
            }
          }
          hold_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        if (!hold_ms.empty()) Report("tgtd write hold, take + release", hold_ms);
      }
      for (const auto& id : attachments) (void)m->DeleteAttachment(admin, id);
    }
    m.reset();
  }
  std::filesystem::remove_all(work);
  return rc;
}

// What snapshots and clones of the file driver cost: a 100 GiB sparse volume holding 1 GiB of
// random data (256 extents of 4 MiB spread over it) is snapshotted, and the snapshot cloned into
// a new volume, with reflinks allowed and with file_reflink = false. Each is done through the
// driver and through CopySparseFile (which tells whether it reflinked and what it wrote); the
// blocks the file system allocated are read from statvfs (approximate on a busy file system).
//   bench_snapshot [DIR] [--xfs]
// DIR: where to work (default: the current directory); the bench makes its own directory there
// and removes it at the end. --xfs (root only): works on a scratch XFS with reflink
// (mkfs.xfs -m reflink=1 on a loop device over a sparse image in that directory), unmounted and
// detached at the end, so that the reflink case is measured where ext4 has none.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cinder/env.h"
#include "cinder/volume_driver.h"
#include "volume/sparse_copy.h"

using namespace cinder;

namespace {

constexpr int64_t kMiB = 1024LL * 1024;
constexpr int64_t kGiB = 1024 * kMiB;
constexpr int64_t kVolumeGb = 100;
constexpr int kExtents = 256;
constexpr int64_t kExtentBytes = 4 * kMiB;

// Runs a command; its first line of output in *out. True on exit status 0.
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

// A fresh directory, removed with all it holds at the end of the scope.
class WorkDir {
 public:
  explicit WorkDir(const std::string& parent) {
    std::string tmpl = parent + "/bench-snapshot-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data())) path_ = buf.data();
  }
  ~WorkDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }  // "" if it could not be made

 private:
  std::string path_;
};

// An XFS with reflink on a loop device over a sparse image, mounted on <dir>/mnt; unmounted and
// the loop device detached at the end of the scope.
class ScratchXfs {
 public:
  ScratchXfs(const std::string& dir, int64_t size_gb) {
    const std::string image = dir + "/xfs.img";
    mount_point_ = dir + "/mnt";
    std::filesystem::create_directory(mount_point_);
    if (!Run("truncate -s " + std::to_string(size_gb) + "G " + image)) return;
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
  ScratchXfs(const ScratchXfs&) = delete;
  ScratchXfs& operator=(const ScratchXfs&) = delete;
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

// Bytes in use on the file system holding `dir`.
int64_t UsedBytes(const std::string& dir) {
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return 0;
  return static_cast<int64_t>(vfs.f_blocks - vfs.f_bfree) * static_cast<int64_t>(vfs.f_frsize);
}

// Writes kExtents extents of random bytes spread over the file, then syncs it.
bool FillVolume(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  std::mt19937_64 rng(42);
  std::vector<uint64_t> buf(kExtentBytes / sizeof(uint64_t));
  const int64_t stride = kVolumeGb * kGiB / kExtents;
  bool ok = true;
  for (int i = 0; i < kExtents && ok; ++i) {
    for (auto& w : buf) w = rng();
    ok = ::pwrite(fd, buf.data(), kExtentBytes, i * stride) == kExtentBytes;
  }
  ok = ok && ::fsync(fd) == 0;
  if (!ok) std::fprintf(stderr, "cannot write %s: %s\n", path.c_str(), std::strerror(errno));
  ::close(fd);
  return ok;
}

struct Row {
  std::string mode, operation;
  double ms = 0;
  std::string reflinked = "-", bytes_written = "-";
  int64_t allocated = 0;
};

void Print(const Row& r) {
  std::printf("%-9s %-30s %10.1f %10s %14s %14.1f\n", r.mode.c_str(), r.operation.c_str(), r.ms, r.reflinked.c_str(),
              r.bytes_written.c_str(), static_cast<double>(r.allocated) / kMiB);
}

// Syncs and waits until the blocks in use stop changing (XFS frees the blocks of deleted files
// in the background), at most 5 s; returns them.
int64_t SettledUsedBytes(const std::string& dir) {
  ::sync();
  int64_t used = UsedBytes(dir);
  for (int i = 0; i < 50; ++i) {
    ::usleep(100 * 1000);
    ::sync();
    const int64_t now = UsedBytes(dir);
    if (now == used) break;
    used = now;
  }
  return used;
}

// Runs `op` once on a settled file system; its time and what the file system allocated for it.
bool Measure(const std::string& dir, Row* row, const std::function<Status(Row*)>& op) {
  const int64_t used = SettledUsedBytes(dir);
  const auto start = std::chrono::steady_clock::now();
  Status s = op(row);
  row->ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ::sync();
  row->allocated = UsedBytes(dir) - used;
  if (!s.ok()) {
    std::fprintf(stderr, "%s %s: %s\n", row->mode.c_str(), row->operation.c_str(), s.ToString().c_str());
    return false;
  }
  Print(*row);
  return true;
}

Status FromCopy(const Result<CopyResult>& r, Row* row) {
  if (!r.ok()) return r.status();
  row->reflinked = r->reflinked ? "yes" : "no";
  row->bytes_written = std::to_string(r->bytes_written);
  return Status::OK();
}

Result<std::unique_ptr<VolumeDriver>> Open(const std::string& dir, bool reflink) {
  BackendOptions b;
  b.name = "bench";
  b.driver_options["file_volume_directory"] = dir;
  b.driver_options["file_reflink"] = reflink ? "true" : "false";
  return OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir});
}

// One mode: snapshot and clone through the driver, then the same copies through CopySparseFile.
bool RunMode(const std::string& dir, const std::string& volume, bool reflink) {
  auto driver = Open(dir, reflink);
  if (!driver.ok()) {
    std::fprintf(stderr, "%s\n", driver.status().ToString().c_str());
    return false;
  }
  VolumeDriver& d = **driver;
  const std::string mode = reflink ? "reflink" : "copy";
  const std::string snap = "bench-snap", clone = "bench-clone";
  Row row{mode, "snapshot (driver)"};
  bool ok = Measure(dir, &row, [&](Row*) { return d.CreateSnapshot(volume, snap); });
  row = Row{mode, "clone from snapshot (driver)"};
  ok = ok && Measure(dir, &row, [&](Row*) { return d.CreateVolumeFromSnapshot(clone, kVolumeGb, snap); });

  const std::string volume_path = d.LocalPath(volume), snap_path = dir + "/snapshot-" + snap;
  const std::string copy1 = dir + "/bench-copy1", copy2 = dir + "/bench-copy2";
  row = Row{mode, "snapshot (CopySparseFile)"};
  ok = ok && Measure(dir, &row, [&](Row* r) {
         return FromCopy(CopySparseFile(Env::Default(), volume_path, copy1, kVolumeGb * kGiB, reflink), r);
       });
  row = Row{mode, "clone (CopySparseFile)"};
  ok = ok && Measure(dir, &row, [&](Row* r) {
         return FromCopy(CopySparseFile(Env::Default(), snap_path, copy2, kVolumeGb * kGiB, reflink), r);
       });
  // Deleted only now: blocks freed while measuring would hide the ones allocated.
  ::unlink(copy1.c_str());
  ::unlink(copy2.c_str());
  ok = d.DeleteVolume(clone).ok() && ok;
  ok = d.DeleteSnapshot(volume, snap).ok() && ok;
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string parent = ".";
  bool xfs = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--xfs") {
      xfs = true;
    } else if (a == "-h" || a == "--help" || a[0] == '-') {
      std::fprintf(stderr, "usage: %s [DIR] [--xfs]\n", argv[0]);
      return a[0] == '-' && a != "-h" && a != "--help" ? 2 : 0;
    } else {
      parent = a;
    }
  }
  if (xfs && ::geteuid() != 0) {
    std::fprintf(stderr, "--xfs needs root (losetup, mkfs.xfs, mount)\n");
    return 2;
  }
  WorkDir work(parent);
  if (work.path().empty()) {
    std::fprintf(stderr, "cannot make a directory in %s: %s\n", parent.c_str(), std::strerror(errno));
    return 1;
  }
  std::unique_ptr<ScratchXfs> scratch;  // destroyed before `work` is removed
  std::string dir = work.path() + "/volumes";
  if (xfs) {
    // The volume's 1 GiB, plus four copies of it when nothing is shared.
    scratch = std::make_unique<ScratchXfs>(work.path(), 8);
    if (!scratch->ok()) return 1;
    dir = scratch->path() + "/volumes";
  }

  auto driver = Open(dir, true);
  if (!driver.ok()) {
    std::fprintf(stderr, "%s\n", driver.status().ToString().c_str());
    return 1;
  }
  const std::string volume = "bench-volume";
  Status s = (*driver)->CreateVolume(volume, kVolumeGb);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const auto fill_start = std::chrono::steady_clock::now();
  if (!FillVolume((*driver)->LocalPath(volume))) return 1;
  const double fill_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - fill_start).count();
  std::printf("volume: %lld GiB sparse, %d extents of %lld MiB of random data (%lld MiB), written in %.0f ms\n",
              static_cast<long long>(kVolumeGb), kExtents, static_cast<long long>(kExtentBytes / kMiB),
              static_cast<long long>(kExtents * kExtentBytes / kMiB), fill_ms);
  std::printf("directory: %s (%s)\n\n", dir.c_str(), FsType(dir).c_str());
  std::printf("%-9s %-30s %10s %10s %14s %14s\n", "mode", "operation", "ms", "reflinked", "bytes_written",
              "fs_alloc_MiB");
  bool ok = RunMode(dir, volume, /*reflink=*/true);
  ok = RunMode(dir, volume, /*reflink=*/false) && ok;
  return ok ? 0 : 1;
}

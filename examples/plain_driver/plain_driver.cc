// The "plain" volume driver (plain_driver.h).
#include "plain_driver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace plain {
namespace {

using cinder::Code;
using cinder::Result;
using cinder::Status;

constexpr int64_t kGiB = 1024LL * 1024 * 1024;

Status Errno(const std::string& what) { return Status(Code::kInternal, what + ": " + std::strerror(errno)); }

// Volume and snapshot ids become file names: letters, digits and '-' only.
bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
  }
  return true;
}

// Copies src's data extents into a new file `dst` of `size` bytes (written under a temporary
// name, then renamed: a failed copy leaves nothing).
Status CopyFile(const std::string& src, const std::string& dst, int64_t size) {
  const std::string tmp = dst + ".tmp";
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("open " + src);
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    ::close(in);
    return Errno("create " + tmp);
  }
  Status st;
  struct stat s {};
  if (::fstat(in, &s) != 0 || ::ftruncate(out, size) != 0) st = Errno("size " + tmp);
  std::vector<char> buf(1 << 20);
  for (off_t off = 0; st.ok() && off < s.st_size;) {
    off_t data = ::lseek(in, off, SEEK_DATA);
    if (data < 0) break;  // only a hole from here
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    if (hole < 0) hole = s.st_size;
    for (off = data; st.ok() && off < hole;) {
      const ssize_t n = ::pread(in, buf.data(), std::min<off_t>(static_cast<off_t>(buf.size()), hole - off), off);
      if (n <= 0 || ::pwrite(out, buf.data(), static_cast<size_t>(n), off) != n) st = Errno("copy " + src);
      off += n > 0 ? n : 0;
    }
  }
  if (st.ok() && ::fsync(out) != 0) st = Errno("fsync " + tmp);
  ::close(in);
  ::close(out);
  if (st.ok() && ::rename(tmp.c_str(), dst.c_str()) != 0) st = Errno("rename " + tmp);
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

class PlainDriver : public cinder::VolumeDriver {
 public:
  explicit PlainDriver(std::string dir) : dir_(std::move(dir)) {}

  Status CreateVolume(const std::string& id, int64_t size_gb) override {
    if (!ValidId(id)) return Status(Code::kInvalidArgument, "not a volume id: '" + id + "'");
    int fd = ::open(Volume(id).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) return Status(Code::kAlreadyExists, "volume " + id + " exists");
    if (fd < 0) return Errno("create " + Volume(id));
    const bool sized = ::ftruncate(fd, size_gb * kGiB) == 0;
    ::close(fd);
    if (!sized) {
      ::unlink(Volume(id).c_str());
      return Errno("size " + Volume(id));
    }
    return Status::OK();
  }
  Status ExtendVolume(const std::string& id, int64_t new_size_gb) override {
    if (!VolumeExists(id)) return Status(Code::kNotFound, "volume " + id + " not found");
    return ::truncate(Volume(id).c_str(), new_size_gb * kGiB) == 0 ? Status::OK() : Errno("extend " + id);
  }
  Status DeleteVolume(const std::string& id) override { return Remove(Volume(id)); }
  bool VolumeExists(const std::string& id) override { return ValidId(id) && std::filesystem::exists(Volume(id)); }
  std::string LocalPath(const std::string& id) override { return Volume(id); }
  Result<cinder::BackendCapacity> GetCapacity() override {
    struct statvfs fs {};
    if (::statvfs(dir_.c_str(), &fs) != 0) return Errno("statvfs " + dir_);
    cinder::BackendCapacity cap;
    cap.total_capacity_gb = static_cast<double>(fs.f_blocks) * fs.f_frsize / kGiB;
    cap.free_capacity_gb = static_cast<double>(fs.f_bavail) * fs.f_frsize / kGiB;
    return cap;
  }

  Status CreateSnapshot(const std::string& volume_id, const std::string& snapshot_id) override {
    if (!ValidId(snapshot_id)) return Status(Code::kInvalidArgument, "not a snapshot id: '" + snapshot_id + "'");
    if (!VolumeExists(volume_id)) return Status(Code::kNotFound, "volume " + volume_id + " not found");
    if (std::filesystem::exists(Snapshot(snapshot_id))) {
      return Status(Code::kAlreadyExists, "snapshot " + snapshot_id + " exists");
    }
    return CopyFile(Volume(volume_id), Snapshot(snapshot_id), SizeOf(Volume(volume_id)));
  }
  Status DeleteSnapshot(const std::string&, const std::string& snapshot_id) override {
    return Remove(Snapshot(snapshot_id));
  }
  Status CreateVolumeFromSnapshot(const std::string& id, int64_t size_gb, const std::string& snapshot_id) override {
    return CopyInto(id, size_gb, Snapshot(snapshot_id), "snapshot " + snapshot_id);
  }
  Status CreateClonedVolume(const std::string& id, int64_t size_gb, const std::string& source_id) override {
    return CopyInto(id, size_gb, Volume(source_id), "volume " + source_id);
  }
  Status RevertToSnapshot(const std::string& volume_id, const std::string& snapshot_id, int64_t size_gb) override {
    if (!VolumeExists(volume_id)) return Status(Code::kNotFound, "volume " + volume_id + " not found");
    if (!ValidId(snapshot_id) || !std::filesystem::exists(Snapshot(snapshot_id))) {
      return Status(Code::kNotFound, "snapshot " + snapshot_id + " not found");
    }
    // A copy under a temporary name renamed over the volume: all at once or not at all.
    return CopyFile(Snapshot(snapshot_id), Volume(volume_id), size_gb * kGiB);
  }
  Result<std::vector<std::string>> ListVolumes() override {
    std::vector<std::string> ids;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("volume-", 0) == 0 && n.size() > 11 && n.compare(n.size() - 4, 4, ".img") == 0) {
        ids.push_back(n.substr(7, n.size() - 11));
      }
    }
    if (ec) return Status(Code::kInternal, "list " + dir_ + ": " + ec.message());
    return ids;
  }

 private:
  std::string Volume(const std::string& id) const { return dir_ + "/volume-" + id + ".img"; }
  std::string Snapshot(const std::string& id) const { return dir_ + "/snapshot-" + id + ".img"; }
  static int64_t SizeOf(const std::string& path) {
    struct stat s {};
    return ::stat(path.c_str(), &s) == 0 ? s.st_size : 0;
  }
  static Status Remove(const std::string& path) {
    return ::unlink(path.c_str()) == 0 || errno == ENOENT ? Status::OK() : Errno("delete " + path);
  }
  Status CopyInto(const std::string& id, int64_t size_gb, const std::string& source, const std::string& what) {
    if (!ValidId(id)) return Status(Code::kInvalidArgument, "not a volume id: '" + id + "'");
    if (!std::filesystem::exists(source)) return Status(Code::kNotFound, what + " not found");
    if (size_gb * kGiB < SizeOf(source)) {
      return Status(Code::kInvalidArgument, "a volume of " + std::to_string(size_gb) + " GiB is smaller than " + what);
    }
    if (std::filesystem::exists(Volume(id))) return Status(Code::kAlreadyExists, "volume " + id + " exists");
    return CopyFile(source, Volume(id), size_gb * kGiB);
  }

  std::string dir_;
};

}  // namespace

void RegisterPlainDriver(cinder::DriverRegistry* registry) {
  cinder::DriverInfo info;
  info.options = {"plain_directory"};
  info.factory = [](const cinder::DriverContext& ctx) -> Result<std::unique_ptr<cinder::VolumeDriver>> {
    auto it = ctx.backend.driver_options.find("plain_directory");
    const std::string dir = it != ctx.backend.driver_options.end() ? it->second : ctx.state_path + "/plain";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status(Code::kInvalidArgument, "plain_directory " + dir + ": " + ec.message());
    return std::unique_ptr<cinder::VolumeDriver>(new PlainDriver(dir));
  };
  registry->Register("plain", std::move(info));
}

}  // namespace plain

#include "volume/drivers/file/file_driver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include "common/util.h"
#include "volume/sparse_copy.h"

namespace cinder {

namespace {

constexpr int64_t kGiB = 1024LL * 1024 * 1024;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

class FileDriver : public VolumeDriver {
 public:
  FileDriver(std::string dir, double capacity_gb, bool reflink)
      : dir_(std::move(dir)), capacity_gb_(capacity_gb), reflink_(reflink) {}

  Status CreateVolume(const std::string& id, int64_t size_gb) override {
    CINDER_ASSIGN_OR_RETURN(std::string path, PathOf(id));
    int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) return AlreadyExists("volume file " + path + " already exists");
      return Internal(Errno("cannot create", path));
    }
    int rc = ::ftruncate(fd, size_gb * kGiB);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
      ::unlink(path.c_str());
      errno = err;
      return Internal(Errno("cannot size", path));
    }
    return Status::OK();
  }

  Status ExtendVolume(const std::string& id, int64_t new_size_gb) override {
    CINDER_ASSIGN_OR_RETURN(std::string path, PathOf(id));
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return NotFound("volume file " + path + " does not exist");
      return Internal(Errno("cannot stat", path));
    }
    if (st.st_size >= new_size_gb * kGiB) return Status::OK();  // never shrink
    if (::truncate(path.c_str(), new_size_gb * kGiB) != 0) return Internal(Errno("cannot grow", path));
    return Status::OK();
  }

  Status DeleteVolume(const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(std::string path, PathOf(id));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Internal(Errno("cannot remove", path));
    return Status::OK();
  }

  bool VolumeExists(const std::string& id) override {
    auto path = PathOf(id);
    return path.ok() && ::access(path->c_str(), F_OK) == 0;
  }

  std::string LocalPath(const std::string& id) override {
    auto path = PathOf(id);
    return path.ok() ? *path : "";
  }

  // Snapshots are files too: snapshot-<id> beside the volumes, a reflink of the volume where
  // the file system shares blocks, else a copy of its data extents (holes stay holes).
  Status CreateSnapshot(const std::string& volume_id, const std::string& snapshot_id) override {
    CINDER_ASSIGN_OR_RETURN(std::string volume, PathOf(volume_id));
    CINDER_ASSIGN_OR_RETURN(std::string snapshot, SnapshotPathOf(snapshot_id));
    CINDER_ASSIGN_OR_RETURN(int64_t size, SizeOf(volume, "volume"));
    return CopySparseFile(volume, snapshot, size, reflink_).status();
  }

  Status DeleteSnapshot(const std::string& volume_id, const std::string& snapshot_id) override {
    CINDER_ASSIGN_OR_RETURN(std::string path, SnapshotPathOf(snapshot_id));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Internal(Errno("cannot remove", path));
    return Status::OK();
  }

  Status CreateVolumeFromSnapshot(const std::string& id, int64_t size_gb, const std::string& snapshot_id) override {
    CINDER_ASSIGN_OR_RETURN(std::string snapshot, SnapshotPathOf(snapshot_id));
    return CopyToNewVolume(snapshot, "snapshot", id, size_gb);
  }

  Status CreateClonedVolume(const std::string& id, int64_t size_gb, const std::string& source_id) override {
    CINDER_ASSIGN_OR_RETURN(std::string source, PathOf(source_id));
    return CopyToNewVolume(source, "volume", id, size_gb);
  }

  Status RevertToSnapshot(const std::string& volume_id, const std::string& snapshot_id, int64_t size_gb) override {
    CINDER_ASSIGN_OR_RETURN(std::string volume, PathOf(volume_id));
    CINDER_ASSIGN_OR_RETURN(std::string snapshot, SnapshotPathOf(snapshot_id));
    CINDER_RETURN_IF_ERROR(SizeOf(volume, "volume").status());  // NotFound if it is gone
    CINDER_ASSIGN_OR_RETURN(int64_t snapshot_size, SizeOf(snapshot, "snapshot"));
    CINDER_RETURN_IF_ERROR(CheckFits("snapshot", snapshot_size, size_gb));
    // Renamed over the volume: it changes all at once or not at all.
    return ReplaceWithCopy(snapshot, volume, size_gb * kGiB, reflink_).status();
  }

  Result<BackendCapacity> GetCapacity() override {
    struct statvfs vfs {};
    if (::statvfs(dir_.c_str(), &vfs) != 0) return Internal(Errno("cannot statvfs", dir_));
    BackendCapacity c;
    c.total_capacity_gb = static_cast<double>(vfs.f_blocks) * vfs.f_frsize / kGiB;
    c.free_capacity_gb = static_cast<double>(vfs.f_bavail) * vfs.f_frsize / kGiB;
    if (capacity_gb_ > 0) {
      // The backend offers at most file_capacity_gb of the file system: free is what its
      // volumes' files do not use yet (sparse files use only what was written).
      c.free_capacity_gb = std::min(c.free_capacity_gb, std::max(0.0, capacity_gb_ - UsedGb()));
      c.total_capacity_gb = std::min(c.total_capacity_gb, capacity_gb_);
    }
    return c;
  }

  // Sparse files: thin provisioning (a volume uses only the blocks written to it).
  Result<BackendStats> GetStats() override {
    CINDER_ASSIGN_OR_RETURN(BackendCapacity cap, GetCapacity());
    BackendStats stats;
    stats.storage_protocol = "file";
    PoolStats pool;
    pool.total_capacity_gb = cap.total_capacity_gb;
    pool.free_capacity_gb = cap.free_capacity_gb;
    pool.thin_provisioning_support = true;
    pool.thick_provisioning_support = false;
    stats.pools.push_back(pool);
    return stats;
  }

 private:
  Result<std::string> PathOf(const std::string& id) const {
    if (!ValidId(id)) return InvalidArgument("invalid volume id '" + id + "'");
    return dir_ + "/volume-" + id;
  }

  Result<std::string> SnapshotPathOf(const std::string& id) const {
    if (!ValidId(id)) return InvalidArgument("invalid snapshot id '" + id + "'");
    return dir_ + "/snapshot-" + id;
  }

  // An id names one file of the directory and nothing outside it.
  static bool ValidId(const std::string& id) {
    return !id.empty() && id.find('/') == std::string::npos && id.find("..") == std::string::npos;
  }

  // The apparent size of the volume or snapshot file `path`; NotFound if it does not exist.
  static Result<int64_t> SizeOf(const std::string& path, const std::string& what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return NotFound(what + " file " + path + " does not exist");
      return Internal(Errno("cannot stat", path));
    }
    return static_cast<int64_t>(st.st_size);
  }

  // InvalidArgument unless `size_gb` GiB can hold the `source_size` bytes of the source, a
  // "snapshot" or a "volume".
  static Status CheckFits(const std::string& what, int64_t source_size, int64_t size_gb) {
    if (size_gb < 0 || size_gb > std::numeric_limits<int64_t>::max() / kGiB || size_gb * kGiB < source_size) {
      return InvalidArgument("volume size " + std::to_string(size_gb) + " GiB is smaller than the " + what +
                             "'s size (" + std::to_string((source_size + kGiB - 1) / kGiB) + " GiB)");
    }
    return Status::OK();
  }

  Status CopyToNewVolume(const std::string& source, const std::string& what, const std::string& id, int64_t size_gb) {
    CINDER_ASSIGN_OR_RETURN(std::string path, PathOf(id));
    CINDER_ASSIGN_OR_RETURN(int64_t source_size, SizeOf(source, what));
    CINDER_RETURN_IF_ERROR(CheckFits(what, source_size, size_gb));
    return CopySparseFile(source, path, size_gb * kGiB, reflink_).status();
  }

  // GiB the volume and snapshot files of this directory occupy on disk.
  double UsedGb() const {
    double used = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
      const std::string name = entry.path().filename().string();
      struct stat st {};
      if ((name.rfind("volume-", 0) == 0 || name.rfind("snapshot-", 0) == 0) &&
          ::stat(entry.path().c_str(), &st) == 0) {
        used += static_cast<double>(st.st_blocks) * 512;
      }
    }
    return used / kGiB;
  }

  std::string dir_;
  double capacity_gb_ = 0;  // file_capacity_gb; 0: the whole file system
  bool reflink_ = true;     // file_reflink: snapshots and clones may share blocks
};

}  // namespace

DriverInfo FileDriverInfo() {
  DriverInfo info;
  info.options = {"file_volume_directory", "file_capacity_gb", "file_reflink"};
  info.factory = [](const DriverContext& ctx) -> Result<std::unique_ptr<VolumeDriver>> {
    std::string dir;
    auto it = ctx.backend.driver_options.find("file_volume_directory");
    if (it != ctx.backend.driver_options.end()) {
      dir = it->second;
    } else {
      dir = ctx.state_path + "/volumes/" + ctx.backend.name;
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return InvalidArgument("[" + ctx.backend.name + "] file_volume_directory: cannot create '" + dir +
                             "': " + ec.message());
    }
    if (::access(dir.c_str(), W_OK) != 0) {
      return InvalidArgument("[" + ctx.backend.name + "] file_volume_directory: '" + dir + "' is not writable");
    }
    double capacity_gb = 0;
    if (auto c = ctx.backend.driver_options.find("file_capacity_gb"); c != ctx.backend.driver_options.end()) {
      auto n = ParseInt(c->second);
      if (!n || *n < 1) {
        return InvalidArgument("[" + ctx.backend.name + "] file_capacity_gb: invalid value '" + c->second +
                               "' (expected a whole number of GiB, at least 1)");
      }
      capacity_gb = static_cast<double>(*n);
    }
    bool reflink = true;
    if (auto r = ctx.backend.driver_options.find("file_reflink"); r != ctx.backend.driver_options.end()) {
      // The values cinder.conf's booleans accept.
      const std::string v = ToLower(Trim(r->second));
      if (v == "true" || v == "yes" || v == "on" || v == "1") {
        reflink = true;
      } else if (v == "false" || v == "no" || v == "off" || v == "0") {
        reflink = false;
      } else {
        return InvalidArgument("[" + ctx.backend.name + "] file_reflink: invalid value '" + r->second +
                               "' (expected true or false)");
      }
    }
    return std::unique_ptr<VolumeDriver>(new FileDriver(dir, capacity_gb, reflink));
  };
  return info;
}

}  // namespace cinder

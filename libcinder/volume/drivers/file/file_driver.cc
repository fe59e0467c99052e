#include "volume/drivers/file/file_driver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/util.h"

namespace cinder {

namespace {

constexpr int64_t kGiB = 1024LL * 1024 * 1024;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

class FileDriver : public VolumeDriver {
 public:
  FileDriver(std::string dir, double capacity_gb) : dir_(std::move(dir)), capacity_gb_(capacity_gb) {}

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
    if (id.empty() || id.find('/') != std::string::npos || id.find("..") != std::string::npos) {
      return InvalidArgument("invalid volume id '" + id + "'");
    }
    return dir_ + "/volume-" + id;
  }

  // GiB the volume files of this directory occupy on disk.
  double UsedGb() const {
    double used = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
      struct stat st {};
      if (entry.path().filename().string().rfind("volume-", 0) == 0 && ::stat(entry.path().c_str(), &st) == 0) {
        used += static_cast<double>(st.st_blocks) * 512;
      }
    }
    return used / kGiB;
  }

  std::string dir_;
  double capacity_gb_ = 0;  // file_capacity_gb; 0: the whole file system
};

}  // namespace

DriverInfo FileDriverInfo() {
  DriverInfo info;
  info.options = {"file_volume_directory", "file_capacity_gb"};
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
      return InvalidArgument("[" + ctx.backend.name + "] file_volume_directory: cannot create '" +
                             dir + "': " + ec.message());
    }
    if (::access(dir.c_str(), W_OK) != 0) {
      return InvalidArgument("[" + ctx.backend.name + "] file_volume_directory: '" + dir +
                             "' is not writable");
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
    return std::unique_ptr<VolumeDriver>(new FileDriver(dir, capacity_gb));
  };
  return info;
}

}  // namespace cinder

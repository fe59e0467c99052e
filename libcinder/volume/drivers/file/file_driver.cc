#include "volume/drivers/file/file_driver.h"

#include <algorithm>
#include <limits>

#include "cinder/env.h"
#include "common/util.h"
#include "volume/sparse_copy.h"

namespace cinder {

namespace {

constexpr int64_t kGiB = 1024LL * 1024 * 1024;

// What a file call's failure `st` means to the driver: Internal, naming the path.
Status Failed(const std::string& what, const std::string& path, const Status& st) {
  return Internal(what + " " + path + ": " + st.message());
}

// Every file call goes through the Env the driver was opened with (DriverContext::env).
class FileDriver : public VolumeDriver {
 public:
  FileDriver(Env* env, std::string dir, double capacity_gb, bool reflink)
      : env_(env), dir_(std::move(dir)), capacity_gb_(capacity_gb), reflink_(reflink) {}

  // A failed create leaves no file behind.
  Status CreateVolume(const std::string& id, int64_t size_gb) override {
    CINDER_ASSIGN_OR_RETURN(std::string path, PathOf(id));
    Result<std::unique_ptr<File>> f = env_->OpenFile(path, Env::OpenMode::kCreate);
    if (!f.ok()) {
      if (f.status().code() == Code::kAlreadyExists) return AlreadyExists("volume file " + path + " already exists");
      return Failed("cannot create", path, f.status());
    }
    Status st = (*f)->Truncate(size_gb * kGiB);
    if (!st.ok()) {
      st = Failed("cannot size", path, st);
    } else if (Status closed = (*f)->Close(); !closed.ok()) {
      st = Failed("cannot close", path, closed);
    }
    if (!st.ok()) {
      f->reset();
      (void)env_->RemoveFile(path);
    }
    return st;
  }

  // A failed extend leaves the volume's size as it was.
  Status ExtendVolume(const std::string& id, int64_t new_size_gb) override {
    CINDER_ASSIGN_OR_RETURN(std::string path, PathOf(id));
    CINDER_ASSIGN_OR_RETURN(int64_t size, SizeOf(path, "volume"));
    if (size >= new_size_gb * kGiB) return Status::OK();  // never shrink
    Result<std::unique_ptr<File>> f = env_->OpenFile(path, Env::OpenMode::kReadWrite);
    if (!f.ok()) return Failed("cannot open", path, f.status());
    if (Status st = (*f)->Truncate(new_size_gb * kGiB); !st.ok()) return Failed("cannot grow", path, st);
    if (Status st = (*f)->Close(); !st.ok()) return Failed("cannot close", path, st);
    return Status::OK();
  }

  Status DeleteVolume(const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(std::string path, PathOf(id));
    return Remove(path);
  }

  bool VolumeExists(const std::string& id) override {
    auto path = PathOf(id);
    return path.ok() && env_->Stat(*path).ok();
  }

  // The volume-<id> files of the directory (not the temporary files of a copy).
  Result<std::vector<std::string>> ListVolumes() override {
    Result<std::vector<std::string>> names = env_->GetChildren(dir_);
    if (!names.ok()) return Failed("cannot list", dir_, names.status());
    std::vector<std::string> ids;
    for (const auto& name : *names) {
      if (name.rfind("volume-", 0) == 0 && ValidId(name.substr(7))) ids.push_back(name.substr(7));
    }
    return ids;
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
    return CopySparseFile(env_, volume, snapshot, size, reflink_).status();
  }

  std::string SnapshotLocalPath(const std::string& snapshot_id) override {
    auto path = SnapshotPathOf(snapshot_id);
    return path.ok() ? *path : "";
  }

  Status DeleteSnapshot(const std::string& volume_id, const std::string& snapshot_id) override {
    CINDER_ASSIGN_OR_RETURN(std::string path, SnapshotPathOf(snapshot_id));
    return Remove(path);
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
    return ReplaceWithCopy(env_, snapshot, volume, size_gb * kGiB, reflink_).status();
  }

  // Manage existing. Any regular file of the directory whose name does not start with a dot
  // may become a volume: it is renamed volume-<id> and grown to a whole number of GiB (its
  // bytes are kept; at least 1 GiB). Files named snapshot-* or unmanaged-snapshot-* are the
  // snapshots' (a snapshot manage renames its file snapshot-<id>, its bytes untouched). An
  // unmanaged volume is renamed unmanaged-volume-<id>, an unmanaged snapshot
  // unmanaged-snapshot-<id>.volume-<volume id>: names no id of theirs (ListVolumes) matches,
  // and the second still tells whose snapshot it was.
  Result<std::vector<ManageableObject>> ListManageableVolumes() override { return Manageable(false); }
  Result<std::vector<ManageableObject>> ListManageableSnapshots() override { return Manageable(true); }

  Result<int64_t> ManageExisting(const std::string& id, const std::string& ref) override {
    CINDER_ASSIGN_OR_RETURN(std::string target, PathOf(id));
    CINDER_ASSIGN_OR_RETURN(int64_t bytes, ExistingSize(ref));
    const int64_t size_gb = std::max<int64_t>(1, (bytes + kGiB - 1) / kGiB);
    const std::string source = dir_ + "/" + ref;
    if (Status st = env_->RenameFile(source, target, /*replace=*/false); !st.ok()) {
      if (st.code() == Code::kAlreadyExists) return AlreadyExists("volume file " + target + " already exists");
      return Failed("cannot rename " + source + " to", target, st);
    }
    if (bytes < size_gb * kGiB) {
      Status st = Status::OK();
      Result<std::unique_ptr<File>> f = env_->OpenFile(target, Env::OpenMode::kReadWrite);
      if (!f.ok()) {
        st = Failed("cannot open", target, f.status());
      } else if (Status t = (*f)->Truncate(size_gb * kGiB); !t.ok()) {
        st = Failed("cannot grow", target, t);
      } else if (Status c = (*f)->Close(); !c.ok()) {
        st = Failed("cannot close", target, c);
      }
      if (!st.ok()) {
        if (f.ok()) f->reset();
        (void)env_->RenameFile(target, source, /*replace=*/false);  // as it was
        return st;
      }
    }
    return size_gb;
  }

  Result<int64_t> ManageExistingSnapshot(const std::string& volume_id, const std::string& snapshot_id,
                                         const std::string& ref) override {
    CINDER_ASSIGN_OR_RETURN(std::string target, SnapshotPathOf(snapshot_id));
    CINDER_ASSIGN_OR_RETURN(int64_t bytes, ExistingSize(ref));
    const std::string source = dir_ + "/" + ref;
    if (Status st = env_->RenameFile(source, target, /*replace=*/false); !st.ok()) {
      if (st.code() == Code::kAlreadyExists) return AlreadyExists("snapshot file " + target + " already exists");
      return Failed("cannot rename " + source + " to", target, st);
    }
    return std::max<int64_t>(1, (bytes + kGiB - 1) / kGiB);
  }

  Status UnmanageVolume(const std::string& id) override {
    CINDER_ASSIGN_OR_RETURN(std::string path, PathOf(id));
    return Keep(path, dir_ + "/" + kUnmanagedVolume + id);
  }

  Status UnmanageSnapshot(const std::string& volume_id, const std::string& snapshot_id) override {
    CINDER_ASSIGN_OR_RETURN(std::string path, SnapshotPathOf(snapshot_id));
    if (!ValidId(volume_id)) return InvalidArgument("invalid volume id '" + volume_id + "'");
    return Keep(path, dir_ + "/" + kUnmanagedSnapshot + snapshot_id + ".volume-" + volume_id);
  }

  Result<BackendCapacity> GetCapacity() override {
    Result<FsSpace> space = env_->GetSpace(dir_);
    if (!space.ok()) return Failed("cannot statvfs", dir_, space.status());
    BackendCapacity c;
    c.total_capacity_gb = static_cast<double>(space->total_bytes) / kGiB;
    c.free_capacity_gb = static_cast<double>(space->available_bytes) / kGiB;
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
    // None of its own: "iSCSI" when the backend's target helper exports it, "file" otherwise
    // (the volume service fills it in).
    PoolStats pool;
    pool.total_capacity_gb = cap.total_capacity_gb;
    pool.free_capacity_gb = cap.free_capacity_gb;
    pool.thin_provisioning_support = true;
    pool.thick_provisioning_support = false;
    pool.capabilities["multiattach"] = "True";  // a file can be exported to several initiators
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
  Result<int64_t> SizeOf(const std::string& path, const std::string& what) const {
    Result<FileInfo> info = env_->Stat(path);
    if (!info.ok()) {
      if (info.status().code() == Code::kNotFound) return NotFound(what + " file " + path + " does not exist");
      return Failed("cannot stat", path, info.status());
    }
    return info->size;
  }

  // Removes the file `path`; OK when there is none.
  Status Remove(const std::string& path) const {
    Status st = env_->RemoveFile(path);
    if (!st.ok() && st.code() != Code::kNotFound) return Failed("cannot remove", path, st);
    return Status::OK();
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
    return CopySparseFile(env_, source, path, size_gb * kGiB, reflink_).status();
  }

  static constexpr char kUnmanagedVolume[] = "unmanaged-volume-";
  static constexpr char kUnmanagedSnapshot[] = "unmanaged-snapshot-";

  static bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

  // Whether the file `name` of the directory is a snapshot's (managed or not).
  static bool IsSnapshotFile(const std::string& name) {
    return StartsWith(name, "snapshot-") || StartsWith(name, kUnmanagedSnapshot);
  }

  // The size of the regular file `ref` names in the directory; NotFound when there is none
  // (or the name reaches outside the directory, or is a hidden file: copies in progress).
  Result<int64_t> ExistingSize(const std::string& ref) const {
    if (ref.empty() || ref[0] == '.' || ref.find('/') != std::string::npos) {
      return NotFound("no file '" + ref + "' in " + dir_);
    }
    Result<FileInfo> info = env_->Stat(dir_ + "/" + ref);
    if (!info.ok()) {
      if (info.status().code() == Code::kNotFound) return NotFound("no file '" + ref + "' in " + dir_);
      return Failed("cannot stat", dir_ + "/" + ref, info.status());
    }
    if (!info->is_regular) return NotFound("'" + ref + "' in " + dir_ + " is not a regular file");
    return info->size;
  }

  // Renames `path` to `kept`; OK when `path` is gone already (nothing to keep).
  Status Keep(const std::string& path, const std::string& kept) const {
    Status st = env_->RenameFile(path, kept, /*replace=*/false);
    if (st.ok() || st.code() == Code::kNotFound) return Status::OK();
    return Failed("cannot rename " + path + " to", kept, st);
  }

  // The regular, not hidden files of the directory: the snapshots' or the others.
  Result<std::vector<ManageableObject>> Manageable(bool snapshots) const {
    Result<std::vector<std::string>> names = env_->GetChildren(dir_);
    if (!names.ok()) return Failed("cannot list", dir_, names.status());
    std::vector<std::string> sorted = *names;
    std::sort(sorted.begin(), sorted.end());
    std::vector<ManageableObject> out;
    for (const auto& name : sorted) {
      if (name.empty() || name[0] == '.' || IsSnapshotFile(name) != snapshots) continue;
      Result<FileInfo> info = env_->Stat(dir_ + "/" + name);
      if (!info.ok() || !info->is_regular) continue;
      ManageableObject o;
      o.reference = name;
      o.size_gb = std::max<int64_t>(1, (info->size + kGiB - 1) / kGiB);
      if (!snapshots && StartsWith(name, "volume-") && ValidId(name.substr(7))) o.cinder_id = name.substr(7);
      if (snapshots && StartsWith(name, "snapshot-") && ValidId(name.substr(9))) o.cinder_id = name.substr(9);
      if (snapshots && StartsWith(name, kUnmanagedSnapshot)) {
        // unmanaged-snapshot-<id>.volume-<volume id>: its volume's file, where it is now.
        auto at = name.find(".volume-");
        if (at != std::string::npos && ValidId(name.substr(at + 8))) {
          const std::string volume_id = name.substr(at + 8);
          o.source_reference = "volume-" + volume_id;
          if (!env_->Stat(dir_ + "/volume-" + volume_id).ok() &&
              env_->Stat(dir_ + "/" + kUnmanagedVolume + volume_id).ok()) {
            o.source_reference = kUnmanagedVolume + volume_id;
          }
        }
      }
      out.push_back(std::move(o));
    }
    return out;
  }

  // GiB the volume and snapshot files of this directory occupy on disk.
  double UsedGb() const {
    double used = 0;
    auto names = env_->GetChildren(dir_);
    for (const auto& name : names.ok() ? *names : std::vector<std::string>()) {
      if (name.rfind("volume-", 0) != 0 && name.rfind("snapshot-", 0) != 0) continue;
      auto info = env_->Stat(dir_ + "/" + name);
      if (info.ok()) used += static_cast<double>(info->allocated_bytes);
    }
    return used / kGiB;
  }

  Env* env_;
  std::string dir_;
  double capacity_gb_ = 0;  // file_capacity_gb; 0: the whole file system
  bool reflink_ = true;     // file_reflink: snapshots and clones may share blocks
};

// Whether a file can be made in `dir` (one is, then removed).
bool Writable(Env* env, const std::string& dir) {
  std::string probe;
  auto f = env->NewTempFile(dir + "/.writable-", &probe);
  if (!f.ok()) return false;
  f->reset();
  (void)env->RemoveFile(probe);
  return true;
}

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
    Env* env = ctx.env ? ctx.env : Env::Default();
    if (Status st = env->CreateDirs(dir); !st.ok()) {
      return InvalidArgument("[" + ctx.backend.name + "] file_volume_directory: cannot create '" + dir +
                             "': " + st.message());
    }
    if (!Writable(env, dir)) {
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
    // A copy cut short by a crash (a revert, a migration between backends of this host) leaves
    // its temporary file, ".volume-<id>.tmp-XXXXXX" (sparse_copy.cc): nothing of this backend
    // runs yet, so every one is such a leftover (the directory is this backend's alone).
    auto names = env->GetChildren(dir);
    for (const auto& name : names.ok() ? *names : std::vector<std::string>()) {
      if ((name.rfind(".volume-", 0) == 0 || name.rfind(".snapshot-", 0) == 0) &&
          name.find(".tmp-") != std::string::npos) {
        (void)env->RemoveFile(dir + "/" + name);
      }
    }
    return std::unique_ptr<VolumeDriver>(new FileDriver(env, dir, capacity_gb, reflink));
  };
  return info;
}

}  // namespace cinder

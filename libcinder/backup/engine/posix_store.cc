// The posix backup driver's store (cinder/backup/drivers/posix.py): a container is a directory
// under backup_posix_path, an object a file in it. Everything goes through an Env (so tests can
// fail writes), except removing empty directories, which Env has no call for (rmdir), and the
// placement hint below.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backup/engine/chunked_format.h"
#include "backup/pipeline.h"

namespace cinder::backup {

namespace {

constexpr uint32_t kObjectMode = 0660;         // posix.py get_object_writer
constexpr uint32_t kContainerMode = 0770;      // posix.py put_container
constexpr int64_t kWritebackFrom = 256 << 10;  // objects at least this large: StartWriteback

// Asks ext2/3/4 to spread the directories made in `dir` over the file system's block groups, as
// it does for those at its root (the Orlov allocator's "top directory" flag, chattr +T). A
// container's objects are then created in a group of their own rather than beside the ones of
// the backups deleted last. That matters on ext4 without a journal: there, allocating an inode
// skips, one by one, every inode of its group freed in the last minute (up to six while the
// inode table is dirty), so after a large backup was deleted each object of the next one cost
// ~0.9 ms to create instead of ~25 us (measured here; see docs/backup-format.md). A hint only:
// other file systems, or a caller who may not set the flag, leave things as they were.
void SpreadSubdirectories(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  int flags = 0;
  if (::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & FS_TOPDIR_FL) == 0) {
    flags |= FS_TOPDIR_FL;
    (void)::ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
  ::close(fd);
}

// Starts writing a finished object's dirty pages to the disk without waiting for them. The
// kernel would otherwise start only when a tenth of the memory is dirty, so the sync before
// _metadata would write a whole backup's objects while everything else waits: started as each
// object is done, the writes overlap the hashing and compressing of the next ones (a 1 GiB
// backup of random data went from 355-653 MB/s to 602-867 here). A hint, like
// SpreadSubdirectories: errors leave it to that sync.
void StartWriteback(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  ::close(fd);
}

class PosixWriter : public ObjectStore::Writer {
 public:
  PosixWriter(Env* env, std::unique_ptr<File> file, std::string dir, std::string tmp, std::string final_path)
      : env_(env), file_(std::move(file)), dir_(std::move(dir)), tmp_(std::move(tmp)), final_(std::move(final_path)) {}
  ~PosixWriter() override {
    if (!committed_) {
      if (file_) (void)file_->Close();
      (void)env_->RemoveFile(tmp_);
    }
  }
  Status Append(const char* data, size_t n) override {
    Status st = file_->WriteAt(pos_, data, n);
    if (!st.ok()) return st;
    pos_ += static_cast<int64_t>(n);
    return Status::OK();
  }
  Status AppendZeros(int64_t n) override {
    CINDER_RETURN_IF_ERROR(file_->Truncate(pos_ + n));
    pos_ += n;
    return Status::OK();
  }
  Status Finish(bool sync) override {
    if (sync) CINDER_RETURN_IF_ERROR(file_->Sync());
    if (!sync && pos_ >= kWritebackFrom) StartWriteback(tmp_);
    CINDER_RETURN_IF_ERROR(file_->SetMode(kObjectMode));
    Status closed = file_->Close();
    file_.reset();
    return closed;
  }
  Status Publish(const std::string& name) override {
    if (file_) return Internal("backup object published before it was finished");
    const std::string to = name.empty() ? final_ : dir_ + "/" + name;
    CINDER_RETURN_IF_ERROR(env_->RenameFile(tmp_, to, /*replace=*/false));
    committed_ = true;
    return Status::OK();
  }

 private:
  Env* env_;
  std::unique_ptr<File> file_;
  std::string dir_, tmp_, final_;
  int64_t pos_ = 0;
  bool committed_ = false;
};

class PosixReader : public ObjectStore::Reader {
 public:
  explicit PosixReader(std::unique_ptr<File> file) : file_(std::move(file)) {}
  Result<int64_t> Size() override {
    auto info = file_->Stat();
    if (!info.ok()) return info.status();
    return info->size;
  }
  Result<size_t> ReadAt(int64_t offset, char* buf, size_t n) override { return file_->ReadAt(offset, buf, n); }

 private:
  std::unique_ptr<File> file_;
};

class PosixStore : public ObjectStore {
 public:
  PosixStore(Env* env, std::string root) : env_(env), root_(std::move(root)) {}

  Status CreateContainer(const std::string& container) override {
    CINDER_RETURN_IF_ERROR(ValidateContainer(container));
    const std::string dir = Dir(container);
    if (env_->Stat(dir).ok()) return Status::OK();
    // Level by level, each spreading the next (SpreadSubdirectories): a container
    // (<id[0:2]>/<id[2:4]>/<id> by default) lands in a block group chosen afresh.
    Status st;
    for (size_t slash = container.find('/'); st.ok(); slash = container.find('/', slash + 1)) {
      const std::string level = Dir(container.substr(0, slash));
      if (!env_->Stat(level).ok()) st = env_->CreateDirs(level);
      if (slash == std::string::npos) break;
      if (st.ok()) SpreadSubdirectories(level);
    }
    // The container, not the server's path: this becomes the backup's fail_reason.
    if (!st.ok()) return Status(st.code(), "Failed to create backup container " + container);
    auto f = env_->OpenFile(dir, Env::OpenMode::kRead);
    if (f.ok()) (void)(*f)->SetMode(kContainerMode);
    return Status::OK();
  }

  Result<std::unique_ptr<Writer>> NewObject(const std::string& container, const std::string& name) override {
    CINDER_RETURN_IF_ERROR(Check(container, name));
    const std::string dir = Dir(container);
    const std::string tmp = dir + "/" + TempName(name);
    auto f = env_->OpenFile(tmp, Env::OpenMode::kCreate);
    if (!f.ok() && f.status().code() == Code::kAlreadyExists) {
      (void)env_->RemoveFile(tmp);  // left by an earlier attempt that died
      f = env_->OpenFile(tmp, Env::OpenMode::kCreate);
    }
    if (!f.ok()) return f.status();
    return std::unique_ptr<Writer>(new PosixWriter(env_, std::move(f).value(), dir, tmp, dir + "/" + name));
  }

  Result<std::unique_ptr<Reader>> OpenObject(const std::string& container, const std::string& name) override {
    CINDER_RETURN_IF_ERROR(Check(container, name));
    auto f = env_->OpenFile(Dir(container) + "/" + name, Env::OpenMode::kRead);
    if (!f.ok()) return f.status();
    return std::unique_ptr<Reader>(new PosixReader(std::move(f).value()));
  }

  Result<std::vector<std::string>> List(const std::string& container, const std::string& prefix) override {
    CINDER_RETURN_IF_ERROR(ValidateContainer(container));
    auto names = env_->GetChildren(Dir(container));
    if (!names.ok()) return names.status();
    std::vector<std::string> out;
    for (std::string& n : *names) {
      if (n.compare(0, prefix.size(), prefix) == 0) out.push_back(std::move(n));
    }
    return out;
  }

  Status Delete(const std::string& container, const std::string& name) override {
    CINDER_RETURN_IF_ERROR(Check(container, name));
    Status st = env_->RemoveFile(Dir(container) + "/" + name);
    if (st.code() == Code::kNotFound) return Status::OK();
    return st;
  }

  Status RemoveEmptyContainer(const std::string& container) override {
    CINDER_RETURN_IF_ERROR(ValidateContainer(container));
    std::string c = container;
    while (!c.empty() && c.back() == '/') c.pop_back();
    while (!c.empty()) {
      const std::string dir = Dir(c);
      if (::rmdir(dir.c_str()) != 0) {
        if (errno == ENOENT) {
          // gone already: try its parent
        } else if (errno == ENOTEMPTY || errno == EEXIST || errno == EBUSY) {
          return Status::OK();
        } else {
          return IoError(errno);
        }
      }
      const size_t slash = c.find_last_of('/');
      if (slash == std::string::npos) break;
      c.resize(slash);
      while (!c.empty() && c.back() == '/') c.pop_back();
    }
    return Status::OK();
  }

  Status SyncContainer(const std::string& container) override {
    CINDER_RETURN_IF_ERROR(ValidateContainer(container));
    // Env has no syncfs: the directory is opened here (the objects' bytes), then synced through
    // the Env (their names).
    const std::string dir = Dir(container);
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return IoError(errno);
    const int rc = ::syncfs(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return IoError(err);
    return env_->SyncDir(dir);
  }

 private:
  std::string Dir(const std::string& container) const { return root_ + "/" + container; }
  // Every path is under the store: the container as ValidateContainer says, the object a name
  // in it (a record imported by a user names both).
  static Status Check(const std::string& container, const std::string& name) {
    CINDER_RETURN_IF_ERROR(ValidateContainer(container));
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      return InvalidArgument("Invalid input received: backup object name " + name + " is not a file name.");
    }
    return Status::OK();
  }

  Env* env_;
  std::string root_;
};

}  // namespace

Status ValidateContainer(const std::string& container) {
  auto bad = [&](const char* why) {
    return InvalidArgument(std::string("Invalid input received: container ") + why + ".");
  };
  if (container.empty()) return bad("must not be empty");
  if (container.size() > 255) return bad("must be at most 255 characters");
  if (container.find('\0') != std::string::npos) return bad("must not contain NUL");
  if (container.front() == '/') return bad("must be a relative path");
  size_t start = 0;
  while (start <= container.size()) {
    size_t end = container.find('/', start);
    if (end == std::string::npos) end = container.size();
    if (container.compare(start, end - start, "..") == 0) return bad("must not contain \"..\"");
    if (container.compare(start, end - start, ".") == 0) return bad("must not contain \".\"");
    if (end == start && end != container.size()) return bad("must not contain an empty segment");
    start = end + 1;
  }
  return Status::OK();
}

Result<std::unique_ptr<ObjectStore>> OpenPosixStore(Env* env, const std::string& root) {
  if (env == nullptr) env = Env::Default();
  if (root.empty()) return InvalidArgument("backup_posix_path is not set");
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  Status st = env->CreateDirs(r);
  if (!st.ok()) return Status(st.code(), "Failed to create the backup store " + r + ": " + st.message());
  SpreadSubdirectories(r);
  return std::unique_ptr<ObjectStore>(new PosixStore(env, r));
}

}  // namespace cinder::backup

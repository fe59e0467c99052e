// Env::Default(): the real clocks and the POSIX file system (Linux: FICLONE, copy_file_range,
// SEEK_DATA, renameat2).
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>  // FICLONE
#include <stdio.h>     // renameat2, RENAME_NOREPLACE
#include <stdlib.h>    // mkostemp
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>  // copy_file_range

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "cinder/env.h"

namespace cinder {

Status IoError(int errnum) {
  std::string message = std::strerror(errnum);
  switch (errnum) {
    case ENOENT: return NotFound(std::move(message));
    case EEXIST: return AlreadyExists(std::move(message));
    case ENOSPC:
    case EDQUOT: return ResourceExhausted(std::move(message));
    case EOPNOTSUPP:
    case ENOSYS: return Unimplemented(std::move(message));
    default: return Internal(std::move(message));
  }
}

namespace {

// The largest buffered pwrite (PosixFile::WriteAt says why).
constexpr size_t kBufferedWritePiece = size_t{32} << 10;

// Errors of FICLONE that mean "this file system (or this pair of files) cannot share blocks".
bool CannotReflink(int err) {
  return err == EOPNOTSUPP || err == ENOTTY || err == EXDEV || err == EINVAL || err == ENOSYS;
}

// Errors of copy_file_range that mean "use read and write instead".
bool CannotCopyFileRange(int err) {
  return err == EOPNOTSUPP || err == EXDEV || err == EINVAL || err == ENOSYS || err == EBADF;
}

FileInfo InfoOf(const struct stat& st) {
  FileInfo info;
  info.size = st.st_size;
  info.allocated_bytes = static_cast<int64_t>(st.st_blocks) * 512;
  info.is_regular = S_ISREG(st.st_mode);
  info.is_directory = S_ISDIR(st.st_mode);
  info.mode = st.st_mode & 07777;
  return info;
}

class PosixFile : public File {
 public:
  explicit PosixFile(int fd) : fd_(fd) {}
  ~PosixFile() override {
    if (fd_ >= 0) ::close(fd_);
    if (direct_fd_ >= 0) ::close(direct_fd_);
  }

  Result<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, buf + done, n - done, offset + static_cast<off_t>(done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return IoError(errno);
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  Status WriteAt(int64_t offset, const char* data, size_t n) override {
    // At most kBufferedWritePiece a call. The size of a write sets the size of the page-cache
    // folios the kernel (6.x, ext4) allocates for it, and on this project's VMs (Linux 6.18 under
    // Firecracker, free memory reported back to the host) filling fresh large folios cost up to
    // 40 times more than small ones: a 1 GiB file written by 4 MiB went at 87-161 MB/s, by
    // 32 KiB at 2-3 GB/s, in the same minute (docs/backup-format.md, "The machine").
    size_t done = 0;
    while (done < n) {
      const size_t piece = std::min(n - done, kBufferedWritePiece);
      ssize_t w = ::pwrite(fd_, data + done, piece, offset + static_cast<off_t>(done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return IoError(errno);
      done += static_cast<size_t>(w);
    }
    return Status::OK();
  }

  Status WriteDirectAt(int64_t offset, const char* data, size_t n) override {
    const size_t a = kDirectAlignment;
    if (reinterpret_cast<uintptr_t>(data) % a != 0 || static_cast<uint64_t>(offset) % a != 0 || n % a != 0) {
      return WriteAt(offset, data, n);
    }
    const int dfd = DirectFd();
    if (dfd < 0) return WriteAt(offset, data, n);
    size_t done = 0;
    while (done < n) {
      ssize_t w = ::pwrite(dfd, data + done, n - done, offset + static_cast<off_t>(done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EINVAL && done == 0) return WriteAt(offset, data, n);  // the device's alignment is larger
      if (w < 0) return IoError(errno);
      done += static_cast<size_t>(w);
    }
    return Status::OK();
  }

  Status Truncate(int64_t size) override { return ::ftruncate(fd_, size) == 0 ? Status::OK() : IoError(errno); }

  Result<FileInfo> Stat() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return IoError(errno);
    FileInfo info = InfoOf(st);
    if (!info.is_regular && !info.is_directory) {  // a block device: its size is where it ends
      off_t end = ::lseek(fd_, 0, SEEK_END);
      if (end < 0) return IoError(errno);
      info.size = end;
    }
    return info;
  }

  Result<DataExtent> NextData(int64_t offset) override {
    DataExtent e;
    e.offset = offset;
    off_t data = ::lseek(fd_, offset, SEEK_DATA);
    if (data < 0 && errno == ENXIO) return e;  // only a hole from here on
    if (data < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
      // No hole information: everything up to the end is data.
      CINDER_ASSIGN_OR_RETURN(FileInfo info, Stat());
      e.length = std::max<int64_t>(0, info.size - offset);
      return e;
    }
    if (data < 0) return IoError(errno);
    off_t hole = ::lseek(fd_, data, SEEK_HOLE);
    if (hole < 0 && errno == ENXIO) return e;  // shortened meanwhile
    if (hole < 0) return IoError(errno);
    e.offset = data;
    e.length = hole - data;
    return e;
  }

  Status SetMode(uint32_t mode) override { return ::fchmod(fd_, mode & 07777) == 0 ? Status::OK() : IoError(errno); }

  Status Sync() override { return ::fsync(fd_) == 0 ? Status::OK() : IoError(errno); }

  Status PunchHole(int64_t offset, int64_t length) override {
    if (length <= 0) return Status::OK();
    if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0) return Status::OK();
    if (errno == EOPNOTSUPP || errno == ENOSYS || errno == ENODEV) return Unimplemented(std::strerror(errno));
    return IoError(errno);
  }

  Status Close() override {
    if (direct_fd_ >= 0) ::close(direct_fd_);
    direct_fd_ = -1;
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? Status::OK() : IoError(errno);
  }

  Status CloneFrom(File* src) override {
    auto* in = dynamic_cast<PosixFile*>(src);
    if (!in) return File::CloneFrom(src);
    if (::ioctl(fd_, FICLONE, in->fd_) == 0) return Status::OK();
    if (CannotReflink(errno)) return Unimplemented(std::strerror(errno));
    return IoError(errno);
  }

  Result<int64_t> CopyRangeFrom(File* src, int64_t offset, int64_t length) override {
    auto* in = dynamic_cast<PosixFile*>(src);
    if (!in) return File::CopyRangeFrom(src, offset, length);
    while (true) {
      loff_t in_off = offset, out_off = offset;
      ssize_t n = ::copy_file_range(in->fd_, &in_off, fd_, &out_off, static_cast<size_t>(length), 0);
      if (n >= 0) return static_cast<int64_t>(n);
      if (errno == EINTR) continue;
      if (CannotCopyFileRange(errno)) return Unimplemented(std::strerror(errno));
      return IoError(errno);
    }
  }

 private:
  // A second descriptor of the same file with O_DIRECT (reopened through /proc/self/fd, since
  // a dup would share the first one's flags), opened on first use; -1 when the file system
  // refuses O_DIRECT (tmpfs) or the file was not open for writing.
  int DirectFd() {
    std::call_once(direct_once_, [this] {
      const int flags = ::fcntl(fd_, F_GETFL);
      if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) return;
      const std::string self = "/proc/self/fd/" + std::to_string(fd_);
      direct_fd_ = ::open(self.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
    });
    return direct_fd_;
  }

  int fd_;
  int direct_fd_ = -1;
  std::once_flag direct_once_;
};

class PosixEnv : public Env {
 public:
  std::chrono::system_clock::time_point Now() override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point NowMonotonic() override { return std::chrono::steady_clock::now(); }
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 std::chrono::steady_clock::time_point deadline, const std::function<bool()>& stop) override {
    return cv.wait_until(lock, deadline, stop);
  }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kRead: flags |= O_RDONLY; break;
      case OpenMode::kReadWrite: flags |= O_RDWR; break;
      case OpenMode::kCreate: flags |= O_RDWR | O_CREAT | O_EXCL; break;
    }
    int fd = ::open(path.c_str(), flags, 0600);
    if (fd < 0) return IoError(errno);
    return std::unique_ptr<File>(new PosixFile(fd));
  }

  Result<std::unique_ptr<File>> NewTempFile(const std::string& prefix, std::string* path) override {
    std::string name = prefix + "XXXXXX";
    int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) return IoError(errno);
    *path = name;
    return std::unique_ptr<File>(new PosixFile(fd));
  }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return IoError(errno);
    return InfoOf(st);
  }

  Status RemoveFile(const std::string& path) override {
    return ::unlink(path.c_str()) == 0 ? Status::OK() : IoError(errno);
  }

  Status RenameFile(const std::string& from, const std::string& to, bool replace) override {
    if (replace) return ::rename(from.c_str(), to.c_str()) == 0 ? Status::OK() : IoError(errno);
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return Status::OK();
    if (errno != EINVAL && errno != ENOSYS) return IoError(errno);
    // No RENAME_NOREPLACE in this file system: link() does not replace either.
    if (::link(from.c_str(), to.c_str()) != 0) return IoError(errno);
    ::unlink(from.c_str());
    return Status::OK();
  }

  Status CreateDirs(const std::string& dir) override {
    if (dir.empty()) return Status::OK();
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? Status::OK() : IoError(ENOTDIR);
    const size_t slash = dir.find_last_of('/', dir.find_last_not_of('/'));
    if (slash != std::string::npos && slash > 0) CINDER_RETURN_IF_ERROR(CreateDirs(dir.substr(0, slash)));
    // The folders the drivers make hold volumes' data: their owner's only.
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return IoError(errno);
    return Status::OK();
  }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return IoError(errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
    return names;
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return IoError(errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    return rc == 0 ? Status::OK() : IoError(err);
  }

  Result<FsSpace> GetSpace(const std::string& path) override {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) != 0) return IoError(errno);
    FsSpace s;
    s.total_bytes = static_cast<int64_t>(vfs.f_blocks) * static_cast<int64_t>(vfs.f_frsize);
    s.available_bytes = static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
    return s;
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv;  // never destroyed: services may outlive static destruction
  return env;
}

}  // namespace cinder

#include "volume/sparse_copy.h"

#include <fcntl.h>
#include <linux/fs.h>  // FICLONE
#include <stdio.h>     // renameat2, RENAME_NOREPLACE
#include <stdlib.h>    // mkostemp
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>  // copy_file_range

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace cinder {

namespace {

constexpr int64_t kChunk = 1 << 20;  // read/write copies go by 1 MiB

std::string SysError(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + std::strerror(err);
}

// A file descriptor, closed at the end of the scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and returns close()'s result (some file systems report write errors only there).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Errors of FICLONE that mean "this file system (or this pair of files) cannot share blocks".
bool CannotReflink(int err) {
  return err == EOPNOTSUPP || err == ENOTTY || err == EXDEV || err == EINVAL || err == ENOSYS;
}

// Errors of copy_file_range that mean "use read and write instead".
bool CannotCopyFileRange(int err) {
  return err == EOPNOTSUPP || err == EXDEV || err == EINVAL || err == ENOSYS || err == EBADF;
}

bool AllZero(const char* p, size_t n) { return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0); }

// Copies the bytes [off, off + len) of `in` to the same offsets of `out`, which holds only
// holes there. Adds what it writes to *written.
class RangeCopier {
 public:
  RangeCopier(int in, int out, bool use_copy_file_range, const std::string& src, const std::string& dst)
      : in_(in), out_(out), use_cfr_(use_copy_file_range), src_(src), dst_(dst) {}

  Status Copy(int64_t off, int64_t len, int64_t* written) {
    while (use_cfr_ && len > 0) {
      loff_t in_off = off, out_off = off;
      ssize_t n = ::copy_file_range(in_, &in_off, out_, &out_off, static_cast<size_t>(len), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (!CannotCopyFileRange(errno)) return Internal(SysError("cannot copy " + src_ + " to", dst_, errno));
        use_cfr_ = false;  // and for the following extents too
        break;
      }
      if (n == 0) break;  // src ends early (or the file system would not): read() will tell
      off += n;
      len -= n;
      *written += n;
    }
    return ReadWrite(off, len, written);
  }

 private:
  // Chunks that are all zeros are not written: they stay holes.
  Status ReadWrite(int64_t off, int64_t len, int64_t* written) {
    if (len > 0 && buf_.empty()) buf_.resize(kChunk);
    while (len > 0) {
      ssize_t n = ::pread(in_, buf_.data(), static_cast<size_t>(std::min(len, kChunk)), off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Internal(SysError("cannot read", src_, errno));
      }
      if (n == 0) break;  // src was shortened meanwhile: the rest stays a hole (zeros)
      if (!AllZero(buf_.data(), static_cast<size_t>(n))) {
        for (ssize_t done = 0; done < n;) {
          ssize_t w = ::pwrite(out_, buf_.data() + done, static_cast<size_t>(n - done), off + done);
          if (w < 0) {
            if (errno == EINTR) continue;
            return Internal(SysError("cannot write", dst_, errno));
          }
          done += w;
        }
        *written += n;
      }
      off += n;
      len -= n;
    }
    return Status::OK();
  }

  int in_, out_;
  bool use_cfr_;
  const std::string& src_;
  const std::string& dst_;
  std::vector<char> buf_;
};

// Copies the data extents of `in` (the first src_size bytes) into `out`; holes are skipped.
Status CopyExtents(int in, int out, int64_t src_size, bool use_copy_file_range, const std::string& src,
                   const std::string& dst, int64_t* written) {
  RangeCopier copier(in, out, use_copy_file_range, src, dst);
  int64_t off = 0;
  while (off < src_size) {
    off_t data = ::lseek(in, off, SEEK_DATA);
    off_t hole;
    if (data < 0) {
      if (errno == ENXIO) break;  // nothing but a hole up to the end
      if (errno != EINVAL) return Internal(SysError("cannot find the data of", src, errno));
      data = off;  // no SEEK_DATA here: all of it is data
      hole = src_size;
    } else {
      hole = ::lseek(in, data, SEEK_HOLE);
      if (hole < 0) {
        if (errno == ENXIO) break;  // src was shortened meanwhile
        return Internal(SysError("cannot find the holes of", src, errno));
      }
    }
    if (data >= src_size) break;
    hole = std::min<int64_t>(hole, src_size);
    CINDER_RETURN_IF_ERROR(copier.Copy(data, hole - data, written));
    off = hole;
  }
  return Status::OK();
}

Result<CopyResult> Copy(const std::string& src, const std::string& dst, int64_t size, bool allow_reflink,
                        bool replace) {
  Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) {
    if (errno == ENOENT) return NotFound(src + " does not exist");
    return Internal(SysError("cannot open", src, errno));
  }
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return Internal(SysError("cannot stat", src, errno));
  if (S_ISDIR(st.st_mode)) return InvalidArgument(src + " is a directory");
  int64_t src_size = st.st_size;
  if (!S_ISREG(st.st_mode)) {  // a block device: its size is where it ends
    off_t end = ::lseek(in.get(), 0, SEEK_END);
    if (end < 0) return Internal(SysError("cannot find the size of", src, errno));
    src_size = end;
  }
  if (size < src_size) {
    return InvalidArgument("cannot copy " + src + " (" + std::to_string(src_size) + " bytes) into " +
                           std::to_string(size) + " bytes");
  }

  struct stat dst_st {};
  const bool dst_exists = ::lstat(dst.c_str(), &dst_st) == 0;
  if (!dst_exists && errno != ENOENT) return Internal(SysError("cannot stat", dst, errno));
  if (dst_exists && !replace) return AlreadyExists(dst + " already exists");

  // The temporary file: ".<name>.tmp-XXXXXX" beside dst, so that the rename stays in one
  // file system and the name does not look like a volume.
  const size_t slash = dst.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dst.substr(0, slash));
  const std::string base = slash == std::string::npos ? dst : dst.substr(slash + 1);
  std::string tmpl = dir + "/." + base + ".tmp-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  Fd out(::mkostemp(name.data(), O_CLOEXEC));
  if (out.get() < 0) return Internal(SysError("cannot create a temporary file in", dir, errno));
  const std::string tmp = name.data();
  struct Unlinker {  // removes the temporary file unless it was renamed
    const std::string& path;
    bool armed = true;
    ~Unlinker() {
      if (armed) ::unlink(path.c_str());
    }
  } unlinker{tmp};

  CopyResult result;
  if (allow_reflink) {
    if (::ioctl(out.get(), FICLONE, in.get()) == 0) {
      result.reflinked = true;
    } else if (!CannotReflink(errno)) {
      return Internal(SysError("cannot reflink " + src + " to", dst, errno));
    }
  }
  // Sets the size; without a reflink, the whole file is a hole until the extents are copied.
  if (::ftruncate(out.get(), size) != 0) return Internal(SysError("cannot size", dst, errno));
  if (!result.reflinked) {
    CINDER_RETURN_IF_ERROR(CopyExtents(in.get(), out.get(), src_size, allow_reflink, src, dst, &result.bytes_written));
  }
  if (dst_exists && ::fchmod(out.get(), dst_st.st_mode & 07777) != 0) {
    return Internal(SysError("cannot set the mode of", dst, errno));
  }
  if (::fsync(out.get()) != 0) return Internal(SysError("cannot sync", dst, errno));
  if (out.Close() != 0) return Internal(SysError("cannot close", dst, errno));

  if (replace) {
    if (::rename(tmp.c_str(), dst.c_str()) != 0) return Internal(SysError("cannot replace", dst, errno));
  } else if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dst.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) return AlreadyExists(dst + " already exists");
    if (errno != EINVAL && errno != ENOSYS) return Internal(SysError("cannot create", dst, errno));
    // No RENAME_NOREPLACE in this file system: link() does not replace either.
    if (::link(tmp.c_str(), dst.c_str()) != 0) {
      if (errno == EEXIST) return AlreadyExists(dst + " already exists");
      return Internal(SysError("cannot create", dst, errno));
    }
    ::unlink(tmp.c_str());
  }
  unlinker.armed = false;
  // Makes the new name durable. Best effort: dst is complete already, and failing now would
  // leave it behind.
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() >= 0) (void)::fsync(d.get());
  return result;
}

}  // namespace

Result<CopyResult> CopySparseFile(const std::string& src, const std::string& dst, int64_t size, bool allow_reflink) {
  return Copy(src, dst, size, allow_reflink, /*replace=*/false);
}

Result<CopyResult> ReplaceWithCopy(const std::string& src, const std::string& dst, int64_t size, bool allow_reflink) {
  return Copy(src, dst, size, allow_reflink, /*replace=*/true);
}

}  // namespace cinder

#include "volume/volume_copy.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cinder {

namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Internal(what + " " + path + ": " + std::strerror(errno));
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<VolumeChunk> ReadVolumeChunk(const std::string& path, int64_t offset, int64_t max_bytes) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) {
    if (errno == ENOENT) return NotFound("volume data " + path + " does not exist");
    return Errno("cannot open", path);
  }
  VolumeChunk c;
  off_t data = ::lseek(f.fd, offset, SEEK_DATA);
  off_t hole = -1;
  if (data < 0 && errno == ENXIO) {  // only a hole from here on
    c.eof = true;
    c.offset = offset;
    return c;
  }
  if (data < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
    // No hole information (a block device): everything up to the end is data.
    data = offset;
    hole = ::lseek(f.fd, 0, SEEK_END);
    if (hole < 0) return Errno("cannot seek in", path);
    if (data >= hole) {
      c.eof = true;
      c.offset = offset;
      return c;
    }
  } else if (data < 0) {
    return Errno("cannot seek in", path);
  } else {
    hole = ::lseek(f.fd, data, SEEK_HOLE);
    if (hole < 0) return Errno("cannot seek in", path);
  }
  const int64_t len = std::min<int64_t>(hole - data, max_bytes);
  c.offset = data;
  c.data.resize(static_cast<size_t>(len));
  int64_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(f.fd, c.data.data() + done, static_cast<size_t>(len - done), data + done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", path);
    if (n == 0) break;  // shrank meanwhile
    done += n;
  }
  c.data.resize(static_cast<size_t>(done));
  if (done == 0) c.eof = true;
  return c;
}

Result<int64_t> PullVolume(const std::function<Result<VolumeChunk>(int64_t offset)>& fetch,
                           const std::string& dst_path) {
  Fd f;
  f.fd = ::open(dst_path.c_str(), O_WRONLY | O_CLOEXEC);
  if (f.fd < 0) return Errno("cannot open", dst_path);
  int64_t offset = 0, written = 0;
  while (true) {
    CINDER_ASSIGN_OR_RETURN(VolumeChunk c, fetch(offset));
    if (c.eof) break;
    if (c.offset < offset) return Internal("the source sent data out of order");
    size_t done = 0;
    while (done < c.data.size()) {
      ssize_t n = ::pwrite(f.fd, c.data.data() + done, c.data.size() - done, c.offset + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot write", dst_path);
      done += static_cast<size_t>(n);
    }
    written += static_cast<int64_t>(c.data.size());
    offset = c.offset + static_cast<int64_t>(c.data.size());
  }
  if (::fsync(f.fd) != 0) return Errno("cannot sync", dst_path);
  return written;
}

}  // namespace cinder

// driver_volume_type "local": pread/pwrite/fdatasync on the file at device_path.
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "connector/devices.h"

namespace cinder::connector {

namespace {

Status ErrnoStatus(const std::string& what, int err) {
  std::string m = what + ": " + std::strerror(err);
  if (err == ENOENT) return NotFound(m);
  if (err == EACCES || err == EPERM || err == EROFS) return PermissionDenied(m);
  return Internal(m);
}

class LocalDevice : public BlockDevice {
 public:
  LocalDevice(int fd, ConnectionInfo info) : fd_(fd), info_(std::move(info)) {}
  ~LocalDevice() override { close(fd_); }

  Result<uint64_t> Size() override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return ErrnoStatus("fstat " + info_.device_path, errno);
    if (S_ISBLK(st.st_mode)) {
      uint64_t bytes = 0;
      if (ioctl(fd_, BLKGETSIZE64, &bytes) != 0) return ErrnoStatus("BLKGETSIZE64 " + info_.device_path, errno);
      return bytes;
    }
    return static_cast<uint64_t>(st.st_size);
  }
  uint32_t BlockSize() const override { return 1; }
  bool ReadOnly() const override { return info_.read_only; }
  std::string Describe() const override { return "local " + info_.device_path; }

  Status Read(uint64_t offset, void* buf, size_t len) override {
    Request r{false, offset, buf, len, Status()};
    return Do(r);
  }
  Status Write(uint64_t offset, const void* buf, size_t len) override {
    Request r{true, offset, const_cast<void*>(buf), len, Status()};
    return Do(r);
  }
  Status Flush() override {
    if (info_.read_only) return Status::OK();
    if (fdatasync(fd_) != 0) return ErrnoStatus("fdatasync " + info_.device_path, errno);
    return Status::OK();
  }

  // A few threads share the batch (the page cache or the device does the rest).
  Status Submit(std::vector<Request>& requests) override {
    size_t threads = std::min<size_t>(requests.size(), 4);
    if (threads <= 1) {
      for (Request& r : requests) r.result = Do(r);
    } else {
      std::atomic<size_t> next{0};
      auto work = [&] {
        for (size_t i; (i = next.fetch_add(1)) < requests.size();) requests[i].result = Do(requests[i]);
      };
      std::vector<std::thread> pool;
      for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
      work();
      for (auto& t : pool) t.join();
    }
    for (Request& r : requests) {
      if (!r.result.ok()) return r.result;
    }
    return Status::OK();
  }

 private:
  Status Do(Request& r) {
    if (r.buf == nullptr && r.len > 0) return InvalidArgument("null buffer");
    if (r.write && info_.read_only) {
      return PermissionDenied(info_.Subject() + " is attached read-only (access_mode ro): writes are refused");
    }
    CINDER_ASSIGN_OR_RETURN(uint64_t size, Size());
    if (r.offset > size || r.len > size - r.offset) {
      return InvalidArgument("I/O of " + std::to_string(r.len) + " bytes at offset " + std::to_string(r.offset) +
                             " is past the end of " + info_.device_path + " (" + std::to_string(size) + " bytes)");
    }
    char* p = static_cast<char*>(r.buf);
    size_t done = 0;
    while (done < r.len) {
      ssize_t n = r.write ? pwrite(fd_, p + done, r.len - done, static_cast<off_t>(r.offset + done))
                          : pread(fd_, p + done, r.len - done, static_cast<off_t>(r.offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus((r.write ? "pwrite " : "pread ") + info_.device_path, errno);
      }
      if (n == 0) return Internal("unexpected end of file in " + info_.device_path);
      done += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  const int fd_;
  const ConnectionInfo info_;
};

}  // namespace

Result<std::unique_ptr<BlockDevice>> OpenLocalDevice(const ConnectionInfo& info, const ConnectorOptions& options) {
  int fd = open(info.device_path.c_str(), (info.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open " + info.device_path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
    close(fd);
    return InvalidArgument(info.device_path + " is neither a file nor a block device");
  }
  return std::unique_ptr<BlockDevice>(new LocalDevice(fd, info));
}

}  // namespace cinder::connector

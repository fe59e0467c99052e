// The volumes a pipeline reads and writes: a file through an Env, or a BlockDevice from the
// connector.
#include <algorithm>
#include <cstring>

#include "backup/pipeline.h"

namespace cinder::backup {

Result<DataExtent> VolumeSource::NextData(int64_t offset) {
  auto size = Size();
  if (!size.ok()) return size.status();
  return DataExtent{offset, std::max<int64_t>(0, *size - offset)};
}

namespace {

// Zeros for sinks that cannot punch holes.
const char* ZeroPage() {
  static const char* zeros = new char[1 << 20]();
  return zeros;
}
constexpr int64_t kZeroPage = 1 << 20;

Status WriteZeros(const std::function<Status(int64_t, const char*, size_t)>& write, int64_t offset, int64_t len) {
  while (len > 0) {
    const int64_t n = std::min(len, kZeroPage);
    CINDER_RETURN_IF_ERROR(write(offset, ZeroPage(), static_cast<size_t>(n)));
    offset += n;
    len -= n;
  }
  return Status::OK();
}

class FileVolumeSource : public VolumeSource {
 public:
  explicit FileVolumeSource(std::unique_ptr<File> f) : file_(std::move(f)) {}
  Result<int64_t> Size() override {
    auto info = file_->Stat();
    if (!info.ok()) return info.status();
    return info->size;
  }
  Status ReadAt(int64_t offset, char* buf, size_t n) override {
    auto got = file_->ReadAt(offset, buf, n);
    if (!got.ok()) return got.status();
    if (*got < n) std::memset(buf + *got, 0, n - *got);
    return Status::OK();
  }
  Result<DataExtent> NextData(int64_t offset) override { return file_->NextData(offset); }

 private:
  std::unique_ptr<File> file_;
};

class FileVolumeSink : public VolumeSink {
 public:
  FileVolumeSink(std::unique_ptr<File> f, bool is_new) : file_(std::move(f)), new_(is_new) {}
  Result<int64_t> Size() override {
    auto info = file_->Stat();
    if (!info.ok()) return info.status();
    return info->size;
  }
  bool IsNew() const override { return new_; }
  // Aligned writes (the restore's) go past the page cache.
  Status WriteAt(int64_t offset, const char* data, size_t n) override { return file_->WriteDirectAt(offset, data, n); }
  // A hole where the file system can punch one (the blocks are freed, as a new volume's
  // would be), else written zeros.
  Status Zero(int64_t offset, int64_t len) override {
    Status st = file_->PunchHole(offset, len);
    if (st.code() != Code::kUnimplemented) return st;
    return WriteZeros([this](int64_t o, const char* d, size_t n) { return file_->WriteAt(o, d, n); }, offset, len);
  }
  Status Sync() override { return file_->Sync(); }

 private:
  std::unique_ptr<File> file_;
  bool new_;
};

class DeviceVolumeSource : public VolumeSource {
 public:
  explicit DeviceVolumeSource(BlockDevice* d) : dev_(d) {}
  Result<int64_t> Size() override {
    auto s = dev_->Size();
    if (!s.ok()) return s.status();
    return static_cast<int64_t>(*s);
  }
  Status ReadAt(int64_t offset, char* buf, size_t n) override { return dev_->Read(offset, buf, n); }

 private:
  BlockDevice* dev_;
};

class DeviceVolumeSink : public VolumeSink {
 public:
  DeviceVolumeSink(BlockDevice* d, bool is_new) : dev_(d), new_(is_new) {}
  Result<int64_t> Size() override {
    auto s = dev_->Size();
    if (!s.ok()) return s.status();
    return static_cast<int64_t>(*s);
  }
  bool IsNew() const override { return new_; }
  Status WriteAt(int64_t offset, const char* data, size_t n) override { return dev_->Write(offset, data, n); }
  Status Zero(int64_t offset, int64_t len) override {
    return WriteZeros([this](int64_t o, const char* d, size_t n) { return dev_->Write(o, d, n); }, offset, len);
  }
  Status Sync() override { return dev_->Flush(); }

 private:
  BlockDevice* dev_;
  bool new_;
};

}  // namespace

std::unique_ptr<VolumeSource> FileSource(std::unique_ptr<File> file) {
  return std::make_unique<FileVolumeSource>(std::move(file));
}
std::unique_ptr<VolumeSink> FileSink(std::unique_ptr<File> file, bool volume_is_new) {
  return std::make_unique<FileVolumeSink>(std::move(file), volume_is_new);
}
std::unique_ptr<VolumeSource> DeviceSource(BlockDevice* device) { return std::make_unique<DeviceVolumeSource>(device); }
std::unique_ptr<VolumeSink> DeviceSink(BlockDevice* device, bool volume_is_new) {
  return std::make_unique<DeviceVolumeSink>(device, volume_is_new);
}

}  // namespace cinder::backup

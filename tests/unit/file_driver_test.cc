// The driver conformance suite: every registered driver goes through the same cases.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "cinder/driver_conformance.h"
#include "cinder/env.h"
#include "cinder/volume_driver.h"
#include "common/util.h"
#include "plain_driver/plain_driver.h"
#include "test_util.h"
#include "volume/sparse_copy.h"

namespace cinder {

namespace {

constexpr int64_t kMiB = 1024LL * 1024;
constexpr int64_t kGiB = 1024LL * 1024 * 1024;

int64_t ApparentSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_size;
}

int64_t AllocatedBytes(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_blocks) * 512;
}

// `length` bytes that depend on `seed`: distinct seeds tell writes apart.
std::string Pattern(uint32_t seed, int64_t length) {
  std::string s(static_cast<size_t>(length), '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

struct Extent {
  int64_t offset;
  int64_t length;
  uint32_t seed;
};

int64_t DataBytes(const std::vector<Extent>& extents) {
  int64_t n = 0;
  for (const auto& e : extents) n += e.length;
  return n;
}

// Writes each extent's pattern into the existing file `path`, then syncs it.
void WriteExtents(const std::string& path, const std::vector<Extent>& extents) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE_MESSAGE(fd >= 0, path << ": " << std::strerror(errno));
  for (const auto& e : extents) {
    std::string data = Pattern(e.seed, e.length);
    REQUIRE(::pwrite(fd, data.data(), data.size(), e.offset) == static_cast<ssize_t>(data.size()));
  }
  REQUIRE(::fsync(fd) == 0);
  ::close(fd);
}

// A plain sparse file of `size` bytes holding `extents`: what a copy must read like.
std::string MakeReference(const std::string& path, int64_t size, const std::vector<Extent>& extents) {
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  REQUIRE_MESSAGE(fd >= 0, path << ": " << std::strerror(errno));
  REQUIRE(::ftruncate(fd, size) == 0);
  ::close(fd);
  WriteExtents(path, extents);
  return path;
}

std::string ReadAt(const std::string& path, int64_t offset, int64_t length) {
  std::string s(static_cast<size_t>(length), '\0');
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE_MESSAGE(fd >= 0, path << ": " << std::strerror(errno));
  ssize_t n = ::pread(fd, s.data(), s.size(), offset);
  ::close(fd);
  REQUIRE(n == length);
  return s;
}

// -1 when the files hold the same bytes (and have the same size), else the offset of the first
// MiB that differs (-2: the sizes differ). Reads every byte where either file has data; a hole
// in both reads as zeros in both.
int64_t FirstDifference(const std::string& a, const std::string& b) {
  const int64_t size = ApparentSize(a);
  REQUIRE(size >= 0);
  if (ApparentSize(b) != size) return -2;
  int fa = ::open(a.c_str(), O_RDONLY | O_CLOEXEC);
  int fb = ::open(b.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fa >= 0);
  REQUIRE(fb >= 0);
  auto next_data = [size](int fd, int64_t off) -> int64_t {
    off_t d = ::lseek(fd, off, SEEK_DATA);
    return d >= 0 ? d : (errno == ENXIO ? size : off);
  };
  std::vector<char> ba(kMiB), bb(kMiB);
  int64_t diff = -1;
  for (int64_t off = 0; off < size;) {
    off = std::min(next_data(fa, off), next_data(fb, off));
    if (off >= size) break;
    const int64_t n = std::min(kMiB, size - off);
    if (::pread(fa, ba.data(), n, off) != n || ::pread(fb, bb.data(), n, off) != n ||
        std::memcmp(ba.data(), bb.data(), n) != 0) {
      diff = off;
      break;
    }
    off += n;
  }
  ::close(fa);
  ::close(fb);
  return diff;
}

// Bytes of the file's extents that share their blocks with another file (FIEMAP's
// FIEMAP_EXTENT_SHARED): what a reflink made; unlike free space, known at once and exactly.
int64_t SharedBytes(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return -1;
  ::fsync(fd);
  constexpr size_t kMax = 512;
  std::vector<char> buf(sizeof(struct fiemap) + kMax * sizeof(struct fiemap_extent));
  int64_t shared = 0;
  uint64_t start = 0;
  while (true) {
    auto* fm = reinterpret_cast<struct fiemap*>(buf.data());
    std::memset(buf.data(), 0, buf.size());
    fm->fm_start = start;
    fm->fm_length = ~0ULL - start;
    fm->fm_flags = FIEMAP_FLAG_SYNC;
    fm->fm_extent_count = kMax;
    if (::ioctl(fd, FS_IOC_FIEMAP, fm) != 0) {
      ::close(fd);
      return -1;
    }
    if (fm->fm_mapped_extents == 0) break;
    bool last = false;
    for (uint32_t i = 0; i < fm->fm_mapped_extents; ++i) {
      const auto& e = fm->fm_extents[i];
      if (e.fe_flags & FIEMAP_EXTENT_SHARED) shared += static_cast<int64_t>(e.fe_length);
      last = last || (e.fe_flags & FIEMAP_EXTENT_LAST);
      start = e.fe_logical + e.fe_length;
    }
    if (last) break;
  }
  ::close(fd);
  return shared;
}

// The names in `dir`, sorted.
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::unique_ptr<VolumeDriver> OpenFileDriver(const std::string& dir, std::map<std::string, std::string> options = {}) {
  BackendOptions b;
  b.name = "files";
  b.driver_options = std::move(options);
  b.driver_options["file_volume_directory"] = dir;
  auto d = OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir});
  REQUIRE_MESSAGE(d.ok(), d.status().ToString());
  return std::move(d).value();
}

// Data written at several places of a volume, beyond 1 GiB too, and what overwrites it.
const std::vector<Extent> kTwoGiBData = {
    {0, 64 * 1024, 1}, {kMiB + 17, 300000, 2}, {kGiB + 12288, 2 * kMiB, 3}, {2 * kGiB - 4096, 4096, 4}};
const std::vector<Extent> kTwoGiBOverwrite = {
    {0, 4096, 11}, {kMiB + 100, 4096, 12}, {kGiB + 12288, kMiB, 13}, {2 * kGiB - 8192, 8192, 14}};

}  // namespace

TEST_CASE("every registered driver, and the example out-of-tree one, passes the conformance suite") {
  DriverRegistry drivers;
  RegisterBuiltinDrivers(&drivers);
  plain::RegisterPlainDriver(&drivers);
  for (const auto& name : drivers.Names()) {
    CAPTURE(name);
    testing::TempDir dir;
    BackendOptions b;
    b.name = "conf";
    b.volume_driver = name;
    b.volume_backend_name = "conf";
    auto report = RunDriverConformance([&] { return OpenDriver(drivers, DriverContext{b, dir.path()}); });
    CHECK_MESSAGE(report.ok(), report.ToString());
    CHECK(report.passed() == static_cast<int>(report.cases.size()));  // both make every optional call
    CHECK(report.cases.size() >= 10);
  }
  CHECK(drivers.Names() == std::vector<std::string>{"file", "plain"});
}

// A driver that gets things wrong fails the suite, naming what did not hold; one that throws
// fails the case it threw in; optional calls it does not make are skipped, not failed.
class SloppyDriver : public VolumeDriver {
 public:
  Status CreateVolume(const std::string& id, int64_t) override {
    ++created_;
    if (id == "throw") throw std::runtime_error("boom");
    return Status::OK();  // never AlreadyExists, accepts any name
  }
  Status ExtendVolume(const std::string&, int64_t) override { return Status::OK(); }  // never NotFound
  Status DeleteVolume(const std::string&) override { return Status::OK(); }
  bool VolumeExists(const std::string&) override { return created_ > 0; }
  std::string LocalPath(const std::string&) override { return ""; }
  Result<BackendCapacity> GetCapacity() override { return BackendCapacity{10, 20}; }  // free > total

 private:
  int created_ = 0;
};

TEST_CASE("the conformance suite fails a driver that breaks the contract, and skips what it does not offer") {
  auto report =
      RunDriverConformance([] { return Result<std::unique_ptr<VolumeDriver>>(std::make_unique<SloppyDriver>()); });
  CHECK_FALSE(report.ok());
  const std::string text = report.ToString();
  CAPTURE(text);
  auto outcome = [&](const std::string& name) {
    for (const auto& c : report.cases) {
      if (c.name == name) return c.outcome;
    }
    FAIL("no case " << name);
    return ConformanceCase::Outcome::kPassed;
  };
  CHECK(outcome("create and delete") == ConformanceCase::Outcome::kFailed);
  CHECK(outcome("refuses a name that is not a volume id") == ConformanceCase::Outcome::kFailed);
  CHECK(outcome("extend keeps the bytes") == ConformanceCase::Outcome::kFailed);
  CHECK(outcome("capacity and pools") == ConformanceCase::Outcome::kFailed);
  CHECK(outcome("a snapshot keeps its bytes when its volume is written") == ConformanceCase::Outcome::kSkipped);
  CHECK(outcome("a clone holds its source's bytes") == ConformanceCase::Outcome::kSkipped);
  CHECK(outcome("lists its volumes") == ConformanceCase::Outcome::kSkipped);
  CHECK(text.find("CreateVolume of an existing id answered OK, expected AlreadyExists") != std::string::npos);
  CHECK(text.find("ExtendVolume of an unknown id answered OK, expected NotFound") != std::string::npos);
  CHECK(text.find("SKIP a clone holds its source's bytes: CreateClonedVolume answered Unimplemented (optional)") !=
        std::string::npos);
  CHECK(report.failed() + report.passed() + report.skipped() == static_cast<int>(report.cases.size()));

  // An opener that fails fails every case, with its message.
  auto none = RunDriverConformance([] { return Result<std::unique_ptr<VolumeDriver>>(Unavailable("no backend")); });
  CHECK(none.failed() == static_cast<int>(none.cases.size()));
  CHECK(none.ToString().find("opening the driver: ") != std::string::npos);
}

TEST_CASE("the file driver keeps one sparse file per volume, sized in GiB") {
  testing::TempDir dir;
  BackendOptions b;
  b.name = "files";
  b.driver_options["file_volume_directory"] = dir.path() + "/vols";
  auto d = OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir.path()});
  REQUIRE(d.ok());
  const std::string id = NewUuid();
  REQUIRE((*d)->CreateVolume(id, 3).ok());
  const std::string path = dir.path() + "/vols/volume-" + id;
  CHECK((*d)->LocalPath(id) == path);
  CHECK(ApparentSize(path) == 3 * kGiB);
  CHECK(AllocatedBytes(path) < 1024 * 1024);  // sparse: nothing written yet
  REQUIRE((*d)->ExtendVolume(id, 4).ok());
  CHECK(ApparentSize(path) == 4 * kGiB);
  REQUIRE((*d)->ExtendVolume(id, 2).ok());  // never shrinks
  CHECK(ApparentSize(path) == 4 * kGiB);
  REQUIRE((*d)->DeleteVolume(id).ok());
  CHECK(ApparentSize(path) == -1);
}

TEST_CASE("the file driver lists its volumes, and removes a copy cut short when it opens") {
  testing::TempDir dir;
  BackendOptions b;
  b.name = "files";
  b.driver_options["file_volume_directory"] = dir.path() + "/vols";
  auto d = OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir.path()});
  REQUIRE(d.ok());
  const std::string v1 = NewUuid(), v2 = NewUuid(), s1 = NewUuid();
  REQUIRE((*d)->CreateVolume(v1, 1).ok());
  REQUIRE((*d)->CreateVolume(v2, 1).ok());
  REQUIRE((*d)->CreateSnapshot(v1, s1).ok());
  // What a copy (a revert, a migration) killed half-way leaves.
  const std::string tmp = dir.path() + "/vols/.volume-" + v1 + ".tmp-abc123";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  REQUIRE(f);
  std::fclose(f);
  auto listed = (*d)->ListVolumes();
  REQUIRE(listed.ok());
  std::sort(listed->begin(), listed->end());
  std::vector<std::string> expected = {v1, v2};
  std::sort(expected.begin(), expected.end());
  CHECK(*listed == expected);  // neither the snapshot nor the temporary file
  CHECK(ApparentSize(tmp) == 0);
  d->reset();
  auto again = OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir.path()});
  REQUIRE(again.ok());
  CHECK(ApparentSize(tmp) == -1);
  CHECK((*again)->VolumeExists(v1));
  CHECK((*again)->ListVolumes()->size() == 2);
}

namespace {

// Writes `bytes` at the start of a new file `path` of `size` bytes.
void WriteRaw(const std::string& path, const std::string& bytes, int64_t size) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f);
  REQUIRE(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
  std::fclose(f);
  REQUIRE(::truncate(path.c_str(), size) == 0);
}

std::string ReadHead(const std::string& path, size_t n) {
  std::string out(n, '\0');
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return "";
  out.resize(std::fread(out.data(), 1, n, f));
  std::fclose(f);
  return out;
}

const ManageableObject* Find(const std::vector<ManageableObject>& objects, const std::string& ref) {
  for (const auto& o : objects) {
    if (o.reference == ref) return &o;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("the file driver lists the files it may manage: volumes' apart from snapshots'") {
  testing::TempDir dir;
  BackendOptions b;
  b.name = "files";
  b.driver_options["file_volume_directory"] = dir.path() + "/vols";
  auto d = OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir.path()});
  REQUIRE(d.ok());
  const std::string v = NewUuid(), s = NewUuid();
  REQUIRE((*d)->CreateVolume(v, 2).ok());
  REQUIRE((*d)->CreateSnapshot(v, s).ok());
  const std::string vols = dir.path() + "/vols/";
  WriteRaw(vols + "disk.img", "abc", kGiB + 1);  // 2 GiB rounded up
  WriteRaw(vols + "empty.img", "", 0);           // at least 1 GiB
  WriteRaw(vols + ".hidden", "x", 10);           // a copy in progress: never
  WriteRaw(vols + "unmanaged-snapshot-" + s + "x.volume-" + v, "s", 10);
  REQUIRE(std::filesystem::create_directory(vols + "subdir"));

  auto listed = (*d)->ListManageableVolumes();
  REQUIRE(listed.ok());
  std::vector<std::string> refs;
  for (const auto& o : *listed) refs.push_back(o.reference);
  CHECK(refs == std::vector<std::string>{"disk.img", "empty.img", "volume-" + v});  // sorted
  CHECK(Find(*listed, "disk.img")->size_gb == 2);
  CHECK(!Find(*listed, "disk.img")->cinder_id);
  CHECK(Find(*listed, "empty.img")->size_gb == 1);
  CHECK(Find(*listed, "volume-" + v)->cinder_id == v);
  CHECK(Find(*listed, "volume-" + v)->size_gb == 2);

  auto snaps = (*d)->ListManageableSnapshots();
  REQUIRE(snaps.ok());
  REQUIRE(snaps->size() == 2);
  CHECK(Find(*snaps, "snapshot-" + s)->cinder_id == s);
  const ManageableObject* kept = Find(*snaps, "unmanaged-snapshot-" + s + "x.volume-" + v);
  REQUIRE(kept);
  CHECK(!kept->cinder_id);
  CHECK(kept->source_reference == "volume-" + v);
}

TEST_CASE("manage renames a file into the layout, grows it to whole GiB and keeps its bytes") {
  testing::TempDir dir;
  BackendOptions b;
  b.name = "files";
  b.driver_options["file_volume_directory"] = dir.path() + "/vols";
  auto d = OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir.path()});
  REQUIRE(d.ok());
  const std::string vols = dir.path() + "/vols/";
  const std::string bytes = Pattern(7, kMiB + 5);
  WriteRaw(vols + "legacy.raw", bytes, kMiB + 5);
  const std::string id = NewUuid();
  auto size = (*d)->ManageExisting(id, "legacy.raw");
  REQUIRE(size.ok());
  CHECK(*size == 1);
  CHECK(ApparentSize(vols + "legacy.raw") == -1);
  CHECK(ApparentSize(vols + "volume-" + id) == kGiB);
  CHECK(ReadHead(vols + "volume-" + id, bytes.size()) == bytes);
  CHECK((*d)->VolumeExists(id));

  // Unmanage keeps it under a name no volume id matches (ListVolumes, hence the stray sweep,
  // leaves it alone), and it may be managed again.
  REQUIRE((*d)->UnmanageVolume(id).ok());
  CHECK(!(*d)->VolumeExists(id));
  CHECK((*d)->ListVolumes()->empty());
  CHECK(ReadHead(vols + "unmanaged-volume-" + id, bytes.size()) == bytes);
  CHECK((*d)->UnmanageVolume(id).ok());  // nothing left to keep: fine
  const std::string again = NewUuid();
  REQUIRE((*d)->ManageExisting(again, "unmanaged-volume-" + id).ok());
  CHECK(ReadHead(vols + "volume-" + again, bytes.size()) == bytes);

  // Snapshots: renamed snapshot-<id>, bytes and size untouched; unmanaged with their volume's id.
  WriteRaw(vols + "snap.raw", "snapbytes", 3 * kGiB + 1);
  const std::string s = NewUuid();
  auto snap_size = (*d)->ManageExistingSnapshot(again, s, "snap.raw");
  REQUIRE(snap_size.ok());
  CHECK(*snap_size == 4);
  CHECK(ApparentSize(vols + "snapshot-" + s) == 3 * kGiB + 1);
  CHECK((*d)->SnapshotLocalPath(s) == vols + "snapshot-" + s);
  REQUIRE((*d)->UnmanageSnapshot(again, s).ok());
  CHECK(ReadHead(vols + "unmanaged-snapshot-" + s + ".volume-" + again, 9) == "snapbytes");
}

TEST_CASE("manage refuses what is not a file of its directory, and leaves it as it was") {
  testing::TempDir dir;
  BackendOptions b;
  b.name = "files";
  b.driver_options["file_volume_directory"] = dir.path() + "/vols";
  auto d = OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir.path()});
  REQUIRE(d.ok());
  const std::string vols = dir.path() + "/vols/";
  WriteRaw(dir.path() + "/outside.raw", "o", 10);
  WriteRaw(vols + ".hidden", "h", 10);
  REQUIRE(std::filesystem::create_directory(vols + "subdir"));
  for (const char* ref : {"missing.raw", "../outside.raw", ".hidden", "subdir", "", "..", "."}) {
    auto r = (*d)->ManageExisting(NewUuid(), ref);
    CHECK_MESSAGE(r.status().code() == Code::kNotFound, ref);
  }
  CHECK(ApparentSize(dir.path() + "/outside.raw") == 10);
  CHECK(ApparentSize(vols + ".hidden") == 10);
  // A volume file already there under the new id: AlreadyExists, the source untouched.
  const std::string id = NewUuid();
  REQUIRE((*d)->CreateVolume(id, 1).ok());
  WriteRaw(vols + "taken.raw", "t", 10);
  CHECK((*d)->ManageExisting(id, "taken.raw").status().code() == Code::kAlreadyExists);
  CHECK(ApparentSize(vols + "taken.raw") == 10);
}

TEST_CASE("the file driver's default directory is under state_path") {
  testing::TempDir dir;
  BackendOptions b;
  b.name = "b1";
  auto d = OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir.path()});
  REQUIRE(d.ok());
  const std::string id = NewUuid();
  REQUIRE((*d)->CreateVolume(id, 1).ok());
  CHECK(ApparentSize(dir.path() + "/volumes/b1/volume-" + id) == kGiB);
}

TEST_CASE("a snapshot keeps the volume's bytes when the volume is written afterwards") {
  testing::TempDir dir;
  auto drv = OpenFileDriver(dir.path() + "/vols");
  const std::string vol = NewUuid(), snap = NewUuid();
  REQUIRE(drv->CreateVolume(vol, 3).ok());
  const std::string vol_path = drv->LocalPath(vol);
  const std::vector<Extent> data = {{0, 64 * 1024, 1},
                                    {kMiB + 17, 300000, 2},
                                    {kGiB + 12288, 2 * kMiB, 3},
                                    {2 * kGiB + 5, 4096, 4},
                                    {3 * kGiB - 65536, 65536, 5}};
  WriteExtents(vol_path, data);
  REQUIRE(drv->CreateSnapshot(vol, snap).ok());
  const std::string snap_path = dir.path() + "/vols/snapshot-" + snap;
  CHECK(ApparentSize(snap_path) == 3 * kGiB);
  CHECK(FirstDifference(vol_path, snap_path) == -1);

  const std::vector<Extent> overwrite = {{0, 4096, 11},
                                         {kMiB + 100, 4096, 12},
                                         {kGiB + 12288, kMiB, 13},
                                         {2 * kGiB + 8192, 4096, 14},
                                         {3 * kGiB - 4096, 4096, 15}};
  WriteExtents(vol_path, overwrite);
  for (const auto& e : overwrite) CHECK((ReadAt(vol_path, e.offset, e.length) == Pattern(e.seed, e.length)));
  for (const auto& e : data) CHECK((ReadAt(snap_path, e.offset, e.length) == Pattern(e.seed, e.length)));
  CHECK(FirstDifference(snap_path, MakeReference(dir.path() + "/original", 3 * kGiB, data)) == -1);
  CHECK(FirstDifference(vol_path, snap_path) >= 0);
}

TEST_CASE("volumes from a snapshot and clones hold the source's bytes, then zeros up to their size") {
  testing::TempDir dir;
  auto drv = OpenFileDriver(dir.path() + "/vols");
  const std::string vol = NewUuid(), snap = NewUuid(), from_snap = NewUuid(), clone = NewUuid();
  REQUIRE(drv->CreateVolume(vol, 2).ok());
  const std::string vol_path = drv->LocalPath(vol);
  WriteExtents(vol_path, kTwoGiBData);
  REQUIRE(drv->CreateSnapshot(vol, snap).ok());
  REQUIRE(drv->CreateVolumeFromSnapshot(from_snap, 5, snap).ok());
  REQUIRE(drv->CreateClonedVolume(clone, 4, vol).ok());
  const std::string snap_path = dir.path() + "/vols/snapshot-" + snap;
  const std::string from_snap_path = drv->LocalPath(from_snap), clone_path = drv->LocalPath(clone);
  CHECK(ApparentSize(from_snap_path) == 5 * kGiB);
  CHECK(ApparentSize(clone_path) == 4 * kGiB);
  const std::string ref2 = MakeReference(dir.path() + "/ref2", 2 * kGiB, kTwoGiBData);
  const std::string ref4 = MakeReference(dir.path() + "/ref4", 4 * kGiB, kTwoGiBData);
  const std::string ref5 = MakeReference(dir.path() + "/ref5", 5 * kGiB, kTwoGiBData);
  CHECK(FirstDifference(from_snap_path, ref5) == -1);
  CHECK(FirstDifference(clone_path, ref4) == -1);
  CHECK((ReadAt(from_snap_path, 2 * kGiB, kMiB) == std::string(kMiB, '\0')));
  CHECK((ReadAt(from_snap_path, 5 * kGiB - kMiB, kMiB) == std::string(kMiB, '\0')));
  CHECK((ReadAt(clone_path, 4 * kGiB - kMiB, kMiB) == std::string(kMiB, '\0')));

  // Writing the source changes none of its copies; writing a copy changes neither source.
  WriteExtents(vol_path, kTwoGiBOverwrite);
  CHECK(FirstDifference(from_snap_path, ref5) == -1);
  CHECK(FirstDifference(clone_path, ref4) == -1);
  CHECK(FirstDifference(snap_path, ref2) == -1);
  WriteExtents(from_snap_path, {{0, kMiB, 21}});
  WriteExtents(clone_path, {{kGiB + 12288, kMiB, 22}});
  CHECK(FirstDifference(snap_path, ref2) == -1);
  for (const auto& e : kTwoGiBOverwrite) CHECK((ReadAt(vol_path, e.offset, e.length) == Pattern(e.seed, e.length)));
}

TEST_CASE("revert gives the volume its snapshot's bytes back and keeps the volume's size") {
  testing::TempDir dir;
  auto drv = OpenFileDriver(dir.path() + "/vols");
  const std::string vol = NewUuid(), snap = NewUuid();
  REQUIRE(drv->CreateVolume(vol, 2).ok());
  const std::string vol_path = drv->LocalPath(vol);
  const std::string snap_path = dir.path() + "/vols/snapshot-" + snap;
  WriteExtents(vol_path, kTwoGiBData);
  REQUIRE(::chmod(vol_path.c_str(), 0640) == 0);
  REQUIRE(drv->CreateSnapshot(vol, snap).ok());
  WriteExtents(vol_path, kTwoGiBOverwrite);
  REQUIRE(drv->ExtendVolume(vol, 3).ok());
  WriteExtents(vol_path, {{2 * kGiB + kMiB, kMiB, 31}});  // in the extension

  REQUIRE(drv->RevertToSnapshot(vol, snap, 3).ok());
  CHECK(ApparentSize(vol_path) == 3 * kGiB);
  CHECK(FirstDifference(vol_path, MakeReference(dir.path() + "/ref3", 3 * kGiB, kTwoGiBData)) == -1);
  struct stat st {};
  REQUIRE(::stat(vol_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);  // the volume file keeps its mode
  // The snapshot stays as it was, also when the reverted volume is written again.
  WriteExtents(vol_path, kTwoGiBOverwrite);
  CHECK(FirstDifference(snap_path, MakeReference(dir.path() + "/ref2", 2 * kGiB, kTwoGiBData)) == -1);
  CHECK(Names(dir.path() + "/vols") == std::vector<std::string>{"snapshot-" + snap, "volume-" + vol});
}

TEST_CASE("copies keep the holes of a sparse volume") {
  testing::TempDir dir;
  struct statfs fs {};
  REQUIRE(::statfs(dir.path().c_str(), &fs) == 0);
  const bool ext4 = fs.f_type == 0xEF53;  // EXT4_SUPER_MAGIC: no reflinks
  if (!ext4) MESSAGE("the temporary directory is not on ext4: reflinks are not ruled out");
  auto drv = OpenFileDriver(dir.path() + "/vols");
  const std::string vol = NewUuid(), snap = NewUuid(), from_snap = NewUuid();
  REQUIRE(drv->CreateVolume(vol, 4).ok());
  const std::string vol_path = drv->LocalPath(vol);
  std::vector<Extent> data;  // 8 MiB over 4 GiB
  for (int i = 0; i < 8; ++i) data.push_back({i * 512 * kMiB + i * 4096, kMiB, static_cast<uint32_t>(i + 1)});
  WriteExtents(vol_path, data);

  auto copy = CopySparseFile(Env::Default(), vol_path, dir.path() + "/copy", 4 * kGiB);
  REQUIRE_MESSAGE(copy.ok(), copy.status().ToString());
  if (ext4) CHECK_FALSE(copy->reflinked);
  if (!copy->reflinked) {
    CHECK(copy->bytes_written >= 8 * kMiB);
    CHECK(copy->bytes_written <= 16 * kMiB);
  }
  CHECK(AllocatedBytes(dir.path() + "/copy") < 32 * kMiB);
  CHECK(FirstDifference(dir.path() + "/copy", vol_path) == -1);

  auto plain = CopySparseFile(Env::Default(), vol_path, dir.path() + "/plain", 4 * kGiB, /*allow_reflink=*/false);
  REQUIRE_MESSAGE(plain.ok(), plain.status().ToString());
  CHECK_FALSE(plain->reflinked);
  CHECK(plain->bytes_written == 8 * kMiB);  // read and write: exactly the data
  CHECK(AllocatedBytes(dir.path() + "/plain") < 32 * kMiB);
  CHECK(FirstDifference(dir.path() + "/plain", vol_path) == -1);

  REQUIRE(drv->CreateSnapshot(vol, snap).ok());
  CHECK(AllocatedBytes(dir.path() + "/vols/snapshot-" + snap) < 32 * kMiB);
  REQUIRE(drv->CreateVolumeFromSnapshot(from_snap, 8, snap).ok());
  CHECK(ApparentSize(drv->LocalPath(from_snap)) == 8 * kGiB);
  CHECK(AllocatedBytes(drv->LocalPath(from_snap)) < 32 * kMiB);
}

TEST_CASE("on XFS, snapshots and clones are reflinks that later writes do not change") {
  testing::ScratchMount xfs(testing::ScratchMount::kXfsReflink, 2048);
  if (!xfs.unavailable().empty()) {
    MESSAGE("skipped: cannot mount a scratch XFS: " << xfs.unavailable());
    return;
  }
  REQUIRE_MESSAGE(xfs.ok(), xfs.error());
  testing::TempDir refs;  // the expected bytes, on another file system
  const std::string vols = xfs.path() + "/vols";
  auto drv = OpenFileDriver(vols);
  const std::string vol = NewUuid(), snap = NewUuid(), clone = NewUuid();
  REQUIRE(drv->CreateVolume(vol, 1).ok());
  const std::string vol_path = drv->LocalPath(vol);
  const std::string snap_path = vols + "/snapshot-" + snap;
  const std::vector<Extent> data = {
      {0, 64 * 1024, 1}, {kMiB + 17, 300000, 2}, {512 * kMiB + 12288, 16 * kMiB, 3}, {kGiB - 4096, 4096, 4}};
  WriteExtents(vol_path, data);
  const std::string ref1 = MakeReference(refs.path() + "/ref1", kGiB, data);

  // The utility itself: a reflink writes nothing.
  auto direct = CopySparseFile(Env::Default(), vol_path, xfs.path() + "/direct", kGiB);
  REQUIRE_MESSAGE(direct.ok(), direct.status().ToString());
  CHECK(direct->reflinked);
  CHECK(direct->bytes_written == 0);
  CHECK(FirstDifference(xfs.path() + "/direct", ref1) == -1);

  // The driver's snapshot and clone share the volume's blocks.
  REQUIRE(drv->CreateSnapshot(vol, snap).ok());
  REQUIRE(drv->CreateClonedVolume(clone, 2, vol).ok());
  CHECK(SharedBytes(snap_path) >= DataBytes(data));  // every data block is the volume's
  CHECK(SharedBytes(drv->LocalPath(clone)) >= DataBytes(data));
  CHECK(FirstDifference(snap_path, ref1) == -1);
  CHECK(FirstDifference(drv->LocalPath(clone), MakeReference(refs.path() + "/ref2", 2 * kGiB, data)) == -1);

  // Writing the volume leaves them as they were; revert brings the data back.
  WriteExtents(vol_path, {{0, 4096, 11}, {512 * kMiB + 12288, 4 * kMiB, 12}, {kGiB - 4096, 4096, 13}});
  CHECK(FirstDifference(snap_path, ref1) == -1);
  CHECK(FirstDifference(xfs.path() + "/direct", ref1) == -1);
  CHECK(FirstDifference(drv->LocalPath(clone), refs.path() + "/ref2") == -1);
  CHECK(FirstDifference(vol_path, ref1) >= 0);
  REQUIRE(drv->RevertToSnapshot(vol, snap, 1).ok());
  CHECK(FirstDifference(vol_path, ref1) == -1);

  // file_reflink = false: real copies, the blocks are written.
  auto plain = OpenFileDriver(vols, {{"file_reflink", "false"}});
  const std::string snap2 = NewUuid();
  REQUIRE(plain->CreateSnapshot(vol, snap2).ok());
  CHECK(SharedBytes(vols + "/snapshot-" + snap2) == 0);  // blocks of its own
  CHECK(FirstDifference(vols + "/snapshot-" + snap2, ref1) == -1);
  auto copied = CopySparseFile(Env::Default(), vol_path, xfs.path() + "/copied", kGiB, /*allow_reflink=*/false);
  REQUIRE_MESSAGE(copied.ok(), copied.status().ToString());
  CHECK_FALSE(copied->reflinked);
  CHECK(copied->bytes_written >= DataBytes(data));  // whole blocks
  CHECK(copied->bytes_written <= DataBytes(data) + 64 * 1024);
  CHECK(FirstDifference(xfs.path() + "/copied", ref1) == -1);
}

TEST_CASE("file_reflink takes true or false") {
  testing::TempDir dir;
  BackendOptions b;
  b.name = "files";
  b.driver_options["file_volume_directory"] = dir.path();
  for (const char* good : {"true", "false", "False", "TRUE", "yes", "off", "1", "0"}) {
    CAPTURE(good);
    b.driver_options["file_reflink"] = good;
    CHECK(OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir.path()}).ok());
  }
  b.driver_options["file_reflink"] = "maybe";
  auto d = OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir.path()});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Code::kInvalidArgument);
  CHECK(d.status().message() == "[files] file_reflink: invalid value 'maybe' (expected true or false)");
}

TEST_CASE("snapshot and copy errors say what is wrong and leave no files behind") {
  testing::TempDir dir;
  const std::string vols = dir.path() + "/vols";
  auto drv = OpenFileDriver(vols);
  const std::string vol = NewUuid(), other = NewUuid(), snap = NewUuid(), missing = NewUuid();
  REQUIRE(drv->CreateVolume(vol, 3).ok());
  REQUIRE(drv->CreateVolume(other, 3).ok());
  const std::string vol_path = drv->LocalPath(vol), other_path = drv->LocalPath(other);
  WriteExtents(vol_path, {{kGiB, kMiB, 1}});
  REQUIRE(drv->CreateSnapshot(vol, snap).ok());
  const std::vector<std::string> files = Names(vols);

  // Missing sources.
  CHECK(drv->CreateSnapshot(missing, NewUuid()).code() == Code::kNotFound);
  CHECK(drv->CreateVolumeFromSnapshot(NewUuid(), 5, missing).code() == Code::kNotFound);
  CHECK(drv->CreateClonedVolume(NewUuid(), 5, missing).code() == Code::kNotFound);
  CHECK(drv->RevertToSnapshot(missing, snap, 3).code() == Code::kNotFound);
  CHECK(drv->RevertToSnapshot(vol, missing, 3).code() == Code::kNotFound);
  // Too small.
  CHECK(drv->CreateVolumeFromSnapshot(NewUuid(), 2, snap).code() == Code::kInvalidArgument);
  CHECK(drv->CreateClonedVolume(NewUuid(), 2, vol).code() == Code::kInvalidArgument);
  CHECK(drv->RevertToSnapshot(vol, snap, 2).code() == Code::kInvalidArgument);
  CHECK(drv->CreateClonedVolume(NewUuid(), 2, vol).message() ==
        "volume size 2 GiB is smaller than the volume's size (3 GiB)");
  // Ids that would leave the directory.
  CHECK(drv->CreateSnapshot(vol, "a/b").code() == Code::kInvalidArgument);
  CHECK(drv->CreateSnapshot("a/b", NewUuid()).code() == Code::kInvalidArgument);
  CHECK(drv->CreateVolumeFromSnapshot("x/y", 3, snap).code() == Code::kInvalidArgument);
  CHECK(drv->CreateVolumeFromSnapshot(NewUuid(), 3, "../s").code() == Code::kInvalidArgument);
  CHECK(drv->CreateClonedVolume(NewUuid(), 3, "a/b").code() == Code::kInvalidArgument);
  CHECK(drv->RevertToSnapshot("a/b", snap, 3).code() == Code::kInvalidArgument);
  CHECK(drv->RevertToSnapshot(vol, "a/b", 3).code() == Code::kInvalidArgument);
  CHECK(drv->DeleteSnapshot(vol, "a/b").code() == Code::kInvalidArgument);
  // Targets that exist already are left alone.
  CHECK(drv->CreateSnapshot(vol, snap).code() == Code::kAlreadyExists);
  CHECK(drv->CreateVolumeFromSnapshot(other, 3, snap).code() == Code::kAlreadyExists);
  CHECK(drv->CreateClonedVolume(other, 3, vol).code() == Code::kAlreadyExists);
  CHECK(AllocatedBytes(other_path) == 0);
  CHECK(Names(vols) == files);

  // The utility's own errors.
  auto r = CopySparseFile(Env::Default(), vols + "/nothing", vols + "/x", kGiB);
  CHECK(r.status().code() == Code::kNotFound);
  r = CopySparseFile(Env::Default(), vol_path, other_path, 3 * kGiB);
  CHECK(r.status().code() == Code::kAlreadyExists);
  r = CopySparseFile(Env::Default(), vol_path, vols + "/x", 3 * kGiB - 1);
  CHECK(r.status().code() == Code::kInvalidArgument);
  r = CopySparseFile(Env::Default(), vol_path, dir.path() + "/no/such/dir/x", 3 * kGiB);
  CHECK(r.status().code() == Code::kInternal);
  CHECK(r.status().message().find(dir.path() + "/no/such/dir") != std::string::npos);
  CHECK(r.status().message().find(std::strerror(ENOENT)) != std::string::npos);
  r = ReplaceWithCopy(Env::Default(), vols + "/nothing", vol_path, 3 * kGiB);
  CHECK(r.status().code() == Code::kNotFound);
  CHECK((ReadAt(vol_path, kGiB, kMiB) == Pattern(1, kMiB)));
  CHECK(Names(vols) == files);
}

TEST_CASE("a copy that fails part way leaves nothing behind") {
  testing::ScratchMount small(testing::ScratchMount::kTmpfs, 4);  // 4 MiB
  if (!small.unavailable().empty()) {
    MESSAGE("skipped: cannot mount a small tmpfs: " << small.unavailable());
    return;
  }
  REQUIRE_MESSAGE(small.ok(), small.error());
  testing::TempDir dir;
  const std::string big = MakeReference(dir.path() + "/big", kGiB, {{0, 3 * kMiB, 1}, {kGiB / 2, 3 * kMiB, 2}});
  const std::string dst = small.path() + "/copy";
  for (bool reflink : {true, false}) {
    CAPTURE(reflink);
    auto r = CopySparseFile(Env::Default(), big, dst, kGiB, reflink);
    CHECK(r.status().code() == Code::kInternal);
    CHECK(r.status().message().find(dst) != std::string::npos);
    CHECK(r.status().message().find(std::strerror(ENOSPC)) != std::string::npos);
    CHECK(Names(small.path()).empty());
  }
  // A failed replace leaves the old file as it was.
  REQUIRE(MakeReference(dst, kMiB, {{0, 4096, 3}}) == dst);
  auto r = ReplaceWithCopy(Env::Default(), big, dst, kGiB);
  CHECK(r.status().code() == Code::kInternal);
  CHECK(ApparentSize(dst) == kMiB);
  CHECK((ReadAt(dst, 0, 4096) == Pattern(3, 4096)));
  CHECK(Names(small.path()) == std::vector<std::string>{"copy"});

  // The driver on the small file system: a snapshot that does not fit is not half made.
  REQUIRE(::unlink(dst.c_str()) == 0);
  auto drv = OpenFileDriver(small.path() + "/vols");
  const std::string vol = NewUuid();
  REQUIRE(drv->CreateVolume(vol, 1).ok());
  WriteExtents(drv->LocalPath(vol), {{0, 3 * kMiB, 4}});
  CHECK(drv->CreateSnapshot(vol, NewUuid()).code() == Code::kInternal);
  CHECK(Names(small.path() + "/vols") == std::vector<std::string>{"volume-" + vol});
}

}  // namespace cinder

// The driver conformance suite: every registered driver goes through the same cases.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "cinder/volume_driver.h"
#include "common/util.h"
#include "test_util.h"

namespace cinder {

namespace {

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

}  // namespace

TEST_CASE("every registered driver passes the conformance cases") {
  for (const auto& name : DriverRegistry::Builtin().Names()) {
    CAPTURE(name);
    testing::TempDir dir;
    BackendOptions b;
    b.name = "conf";
    b.volume_driver = name;
    b.volume_backend_name = "conf";
    auto d = OpenDriver(DriverRegistry::Builtin(), DriverContext{b, dir.path()});
    REQUIRE_MESSAGE(d.ok(), d.status().ToString());
    VolumeDriver& drv = **d;
    const std::string id = NewUuid();

    CHECK_FALSE(drv.VolumeExists(id));
    REQUIRE(drv.CreateVolume(id, 2).ok());
    CHECK(drv.VolumeExists(id));
    CHECK(drv.CreateVolume(id, 2).code() == Code::kAlreadyExists);

    REQUIRE(drv.ExtendVolume(id, 5).ok());
    CHECK(drv.ExtendVolume(NewUuid(), 5).code() == Code::kNotFound);

    auto cap = drv.GetCapacity();
    REQUIRE(cap.ok());
    CHECK(cap->total_capacity_gb > 0);
    CHECK(cap->free_capacity_gb > 0);
    CHECK(cap->free_capacity_gb <= cap->total_capacity_gb);

    REQUIRE(drv.DeleteVolume(id).ok());
    CHECK_FALSE(drv.VolumeExists(id));
    CHECK(drv.DeleteVolume(id).ok());  // deleting what is gone succeeds
    CHECK(drv.CreateVolume("../escape", 1).code() == Code::kInvalidArgument);
  }
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

}  // namespace cinder

// What failed file calls leave behind: the file driver and the copies between backends under a
// FaultInjectionEnv (fault_env.h), through the VolumeManager (embedded, SQLite). A failed
// create, extend or copy must leave the volume in Cinder's error status for it, and no
// partial file.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "cinder/env.h"
#include "cinder/volume_manager.h"
#include "common/util.h"
#include "fault_env.h"
#include "test_util.h"

namespace cinder {

namespace {

using Op = testing::FaultInjectionEnv::Op;

constexpr int64_t kMiB = 1024LL * 1024;
constexpr int64_t kGiB = 1024 * kMiB;

const RequestContext kCtx = RequestContext::Admin("user", "proj");

// The names in `dir`, sorted.
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// `n` bytes of `c` written at `offset` of the file `path`.
void Fill(const std::string& path, int64_t offset, int64_t n, char c) {
  std::string data(static_cast<size_t>(n), c);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, data.data(), data.size(), offset) == static_cast<ssize_t>(data.size()));
  ::close(fd);
}

char ByteAt(const std::string& path, int64_t offset) {
  char c = 0;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::pread(fd, &c, 1, offset) == 1);
  ::close(fd);
  return c;
}

// A manager under `dir` whose file calls go through `env`; no reschedule, so that a volume
// that fails stays on its backend, with what its driver left there.
std::unique_ptr<VolumeManager> OpenWith(const std::string& dir, Env* env,
                                        const std::vector<std::string>& backends = {"file"}) {
  Options o = testing::ManagerOptions(dir);
  o.env = env;
  o.scheduler_max_attempts = 1;
  o.backends.clear();
  for (const auto& name : backends) {
    BackendOptions b;
    b.name = name;
    b.volume_backend_name = name;
    o.backends.push_back(b);
  }
  return testing::OpenManager(o);
}

std::string VolumeDir(const std::string& dir, const std::string& backend = "file") {
  return dir + "/volumes/" + backend;
}

Volume Available(VolumeManager& m, VolumeCreate c) {
  auto v = m.CreateVolume(kCtx, c);
  REQUIRE_MESSAGE(v.ok(), v.status().ToString());
  m.Drain();
  auto got = m.GetVolume(kCtx, v->id);
  REQUIRE(got->status == "available");
  return *got;
}

// The event ids of the user messages about `id`, newest first.
std::vector<std::string> Events(VolumeManager& m, const std::string& id) {
  MessageListQuery q;
  q.resource_uuid = id;
  auto msgs = m.ListMessages(kCtx, q);
  REQUIRE(msgs.ok());
  std::vector<std::string> out;
  for (const auto& msg : msgs->messages) out.push_back(msg.event_id);
  return out;
}

}  // namespace

TEST_CASE("a create whose file cannot be made ends in error, with a message, and leaves no file") {
  struct Fault {
    Op op;
    int err;
  };
  for (Fault f : {Fault{Op::kCreate, ENOSPC}, Fault{Op::kTruncate, ENOSPC}, Fault{Op::kTruncate, EFBIG},
                  Fault{Op::kClose, EIO}}) {
    CAPTURE(static_cast<int>(f.op));
    CAPTURE(f.err);
    testing::TempDir dir;
    testing::FaultInjectionEnv env;
    auto m = OpenWith(dir.path(), &env);
    env.FailNth(f.op, 1, f.err);
    VolumeCreate c;
    c.size = 2;
    auto v = m->CreateVolume(kCtx, c);
    REQUIRE(v.ok());
    m->Drain();
    CHECK(env.Failures(f.op) == 1);
    auto got = m->GetVolume(kCtx, v->id);
    CHECK(got->status == "error");
    CHECK(got->host == "testhost@file#file");
    CHECK(Events(*m, v->id) == std::vector<std::string>{"VOLUME_VOLUME_008_012"});  // driver failed to create
    CHECK(Names(VolumeDir(dir.path())).empty());
    // The next create works: nothing was left in its way.
    Volume ok = Available(*m, c);
    CHECK(FileSize(*m->LocalPath(kCtx, ok.id)) == 2 * kGiB);
  }
}

TEST_CASE("a failed extend ends in error_extending, keeps the file's size and gives the quota back") {
  testing::TempDir dir;
  testing::FaultInjectionEnv env;
  auto m = OpenWith(dir.path(), &env);
  VolumeCreate c;
  c.size = 1;
  Volume v = Available(*m, c);
  const std::string path = *m->LocalPath(kCtx, v.id);
  env.FailNth(Op::kTruncate, 1, EIO);
  REQUIRE(m->ExtendVolume(kCtx, v.id, 3).ok());
  m->Drain();
  CHECK(env.Failures(Op::kTruncate) == 1);
  auto got = m->GetVolume(kCtx, v.id);
  CHECK(got->status == "error_extending");
  CHECK(got->size == 1);
  CHECK(FileSize(path) == kGiB);
  CHECK(Events(*m, v.id) == std::vector<std::string>{"VOLUME_VOLUME_007_010"});  // driver failed to extend
  auto set = m->GetQuotaSet(kCtx, kCtx.project_id, /*defaults=*/false);
  CHECK(set->at("gigabytes").in_use == 1);
  CHECK(set->at("gigabytes").reserved == 0);
  CHECK(Names(VolumeDir(dir.path())) == std::vector<std::string>{"volume-" + v.id});
}

TEST_CASE("a clone or a volume from a snapshot whose copy fails part way ends in error and leaves no partial file") {
  testing::TempDir dir;
  testing::FaultInjectionEnv env;
  auto m = OpenWith(dir.path(), &env);
  VolumeCreate c;
  c.size = 1;
  Volume src = Available(*m, c);
  Fill(*m->LocalPath(kCtx, src.id), 0, 3 * kMiB, 'a');
  Fill(*m->LocalPath(kCtx, src.id), kGiB / 2, 3 * kMiB, 'b');
  SnapshotCreate sc;
  sc.volume_id = src.id;
  auto snap = m->CreateSnapshot(kCtx, sc);
  REQUIRE(snap.ok());
  m->Drain();
  REQUIRE(m->GetSnapshot(kCtx, snap->id)->status == "available");
  const std::vector<std::string> before = Names(VolumeDir(dir.path()));
  REQUIRE(before.size() == 2);  // the volume and its snapshot

  env.DisableKernelCopies();  // the data goes through WriteAt, where the disk fills up
  struct Fault {
    Op op;
    int nth;
    int err;
  };
  for (Fault f : {Fault{Op::kWrite, 1, ENOSPC}, Fault{Op::kWrite, 4, ENOSPC}, Fault{Op::kRead, 2, EIO},
                  Fault{Op::kSync, 1, EIO}, Fault{Op::kClose, 1, EIO}, Fault{Op::kRename, 1, EIO}}) {
    for (bool from_snapshot : {false, true}) {
      CAPTURE(static_cast<int>(f.op));
      CAPTURE(f.nth);
      CAPTURE(from_snapshot);
      env.FailNth(f.op, f.nth, f.err);
      VolumeCreate copy;
      if (from_snapshot) {
        copy.snapshot_id = snap->id;
      } else {
        copy.source_volid = src.id;
      }
      auto v = m->CreateVolume(kCtx, copy);
      REQUIRE(v.ok());
      m->Drain();
      CHECK(env.Failures(f.op) >= 1);
      env.Clear();
      CHECK(m->GetVolume(kCtx, v->id)->status == "error");
      CHECK(Names(VolumeDir(dir.path())) == before);  // no volume file, no temporary file
      REQUIRE(m->DeleteVolume(kCtx, v->id, false, false).ok());
      m->Drain();
    }
  }
  // Without faults, the same copy is whole.
  VolumeCreate clone;
  clone.source_volid = src.id;
  Volume whole = Available(*m, clone);
  CHECK(ByteAt(*m->LocalPath(kCtx, whole.id), 3 * kMiB - 1) == 'a');
  CHECK(ByteAt(*m->LocalPath(kCtx, whole.id), kGiB / 2 + 3 * kMiB - 1) == 'b');
}

TEST_CASE("a snapshot whose copy fails ends in error, and a failed revert leaves the volume's data as it was") {
  testing::TempDir dir;
  testing::FaultInjectionEnv env;
  auto m = OpenWith(dir.path(), &env);
  VolumeCreate c;
  c.size = 1;
  Volume v = Available(*m, c);
  const std::string path = *m->LocalPath(kCtx, v.id);
  Fill(path, 0, kMiB, 'a');
  env.DisableKernelCopies();

  SnapshotCreate sc;
  sc.volume_id = v.id;
  env.FailNth(Op::kWrite, 1, ENOSPC);
  auto failed = m->CreateSnapshot(kCtx, sc);
  REQUIRE(failed.ok());
  m->Drain();
  CHECK(m->GetSnapshot(kCtx, failed->id)->status == "error");
  CHECK(Names(VolumeDir(dir.path())) == std::vector<std::string>{"volume-" + v.id});
  REQUIRE(m->DeleteSnapshot(kCtx, failed->id, false).ok());
  m->Drain();

  auto snap = m->CreateSnapshot(kCtx, sc);
  REQUIRE(snap.ok());
  m->Drain();
  REQUIRE(m->GetSnapshot(kCtx, snap->id)->status == "available");
  Fill(path, 0, kMiB, 'b');
  const std::vector<std::string> files = Names(VolumeDir(dir.path()));
  for (Op op : {Op::kWrite, Op::kRename}) {
    CAPTURE(static_cast<int>(op));
    const int failures = env.Failures(op);
    env.FailNth(op, 1, EIO);
    REQUIRE(m->RevertToSnapshot(kCtx, v.id, snap->id).ok());
    m->Drain();
    CHECK(env.Failures(op) == failures + 1);
    CHECK(m->GetVolume(kCtx, v.id)->status == "error");
    CHECK(m->GetSnapshot(kCtx, snap->id)->status == "available");
    CHECK(ByteAt(path, 0) == 'b');  // all or nothing: nothing
    CHECK(FileSize(path) == kGiB);
    CHECK(Names(VolumeDir(dir.path())) == files);
    REQUIRE(m->ResetStatus(kCtx, v.id, std::string("available"), std::nullopt, std::nullopt).ok());
  }
}

TEST_CASE("a migration whose copy fails leaves the volume where it was and nothing on the destination") {
  testing::TempDir dir;
  testing::FaultInjectionEnv env;
  auto m = OpenWith(dir.path(), &env, {"a", "b"});
  for (const char* name : {"a", "b"}) {
    VolumeType t;
    t.name = std::string("on-") + name;
    t.extra_specs = {{"volume_backend_name", name}};
    REQUIRE(m->CreateVolumeType(kCtx, t).ok());
  }
  VolumeCreate c;
  c.size = 1;
  c.volume_type = "on-a";
  Volume v = Available(*m, c);
  REQUIRE(v.host == "testhost@a#a");
  const std::string path = *m->LocalPath(kCtx, v.id);
  Fill(path, 0, kMiB, 'a');
  env.DisableKernelCopies();
  env.FailNth(Op::kWrite, 1, ENOSPC);
  REQUIRE(m->RetypeVolume(kCtx, v.id, "on-b", "on-demand").ok());
  m->Drain();
  CHECK(env.Failures(Op::kWrite) == 1);
  auto got = m->GetVolume(kCtx, v.id);
  CHECK(got->status == "available");
  CHECK(got->host == "testhost@a#a");
  CHECK(got->volume_type_name == "on-a");
  CHECK(ByteAt(path, 0) == 'a');
  CHECK(Names(VolumeDir(dir.path(), "b")).empty());
  // Without the fault it moves.
  REQUIRE(m->RetypeVolume(kCtx, v.id, "on-b", "on-demand").ok());
  m->Drain();
  got = m->GetVolume(kCtx, v.id);
  CHECK(got->host == "testhost@b#b");
  CHECK(ByteAt(*m->LocalPath(kCtx, v.id), 0) == 'a');
  CHECK(Names(VolumeDir(dir.path(), "a")).empty());
}

}  // namespace cinder

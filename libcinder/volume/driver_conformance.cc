// RunDriverConformance (cinder/driver_conformance.h): the cases every volume driver must pass.
#include "cinder/driver_conformance.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <sstream>
#include <thread>

#include "common/util.h"

namespace cinder {
namespace {

constexpr int64_t kGiB = 1024LL * 1024 * 1024;

const char* ConformanceCodeName(Code c) {
  switch (c) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kUnimplemented: return "Unimplemented";
    default: return "another error";
  }
}

std::string Describe(const Status& st) {
  if (st.ok()) return "OK";
  return std::string(ConformanceCodeName(st.code())) + " (" + st.ToString() + ")";
}

// `length` bytes that depend on `seed`.
std::string Pattern(uint32_t seed, size_t length) {
  std::string s(length, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

// A case's checks: each that fails is recorded, the case goes on where it can.
class Case {
 public:
  explicit Case(ConformanceCase* out) : out_(out) {}
  bool Expect(bool cond, const std::string& what) {
    if (!cond) out_->failures.push_back(what);
    return cond;
  }
  bool ExpectCode(const Status& st, Code want, const std::string& call) {
    return Expect(st.code() == want, call + " answered " + Describe(st) + ", expected " + ConformanceCodeName(want));
  }
  bool ExpectOk(const Status& st, const std::string& call) { return ExpectCode(st, Code::kOk, call); }
  // An optional call the driver does not make: the case is skipped.
  bool Optional(const Status& st, const std::string& call) {
    if (st.code() != Code::kUnimplemented) return true;
    out_->outcome = ConformanceCase::Outcome::kSkipped;
    out_->skip_reason = call + " answered Unimplemented (optional)";
    return false;
  }
  void Skip(const std::string& why) {
    out_->outcome = ConformanceCase::Outcome::kSkipped;
    out_->skip_reason = why;
  }

 private:
  ConformanceCase* out_;
};

// The volume's bytes through its LocalPath, when that is a file or a block device.
class Bytes {
 public:
  Bytes(VolumeDriver& d, const std::string& id, bool enabled) {
    if (!enabled) return;
    path_ = d.LocalPath(id);
    if (path_.empty()) return;
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) path_.clear();
  }
  bool usable() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  bool Write(int64_t offset, const std::string& data) const {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::pwrite(fd, data.data(), data.size(), offset) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
    ::close(fd);
    return ok;
  }
  std::string Read(int64_t offset, size_t length) const {
    std::string s(length, '\0');
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "<cannot open " + path_ + ": " + std::strerror(errno) + ">";
    ssize_t n = ::pread(fd, s.data(), s.size(), offset);
    ::close(fd);
    if (n != static_cast<ssize_t>(length)) return "<short read of " + path_ + ">";
    return s;
  }
  int64_t Size() const {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st {};
    int64_t size = -1;
    if (::fstat(fd, &st) == 0) {
      if (S_ISREG(st.st_mode)) {
        size = st.st_size;
      } else {
        uint64_t bytes = 0;
        if (::ioctl(fd, BLKGETSIZE64, &bytes) == 0) size = static_cast<int64_t>(bytes);
      }
    }
    ::close(fd);
    return size;
  }

 private:
  std::string path_;
};

// Checks through the local path, when there is one, that the volume holds `data` at `offset`
// and is `size_gb` GiB.
void ExpectBytes(Case& c, VolumeDriver& d, const std::string& id, const std::string& what, bool check, int64_t offset,
                 const std::string& data, int64_t size_gb) {
  Bytes b(d, id, check);
  if (!b.usable()) return;
  c.Expect(b.Size() == size_gb * kGiB, what + ": its local path " + b.path() + " is " + std::to_string(b.Size()) +
                                           " bytes, expected " + std::to_string(size_gb) + " GiB");
  c.Expect(
      b.Read(offset, data.size()) == data,
      what + ": its local path " + b.path() + " does not hold the bytes written at offset " + std::to_string(offset));
}

struct SuiteEnv {
  const DriverOpener& open;
  const ConformanceOptions& o;
};

void CreateAndDelete(Case& c, VolumeDriver& d, const SuiteEnv&) {
  const std::string id = NewUuid();
  c.Expect(!d.VolumeExists(id), "VolumeExists(new id) is true before CreateVolume");
  if (!c.ExpectOk(d.CreateVolume(id, 1), "CreateVolume(id, 1)")) return;
  c.Expect(d.VolumeExists(id), "VolumeExists is false after CreateVolume");
  c.ExpectCode(d.CreateVolume(id, 1), Code::kAlreadyExists, "CreateVolume of an existing id");
  c.ExpectOk(d.DeleteVolume(id), "DeleteVolume");
  c.Expect(!d.VolumeExists(id), "VolumeExists is true after DeleteVolume");
  c.ExpectOk(d.DeleteVolume(id), "DeleteVolume of a volume already deleted");
  c.ExpectOk(d.DeleteVolume(NewUuid()), "DeleteVolume of an id never created");
}

void RefusesBadNames(Case& c, VolumeDriver& d, const SuiteEnv&) {
  for (const char* bad : {"../escape", "a/b", ""}) {
    const Status st = d.CreateVolume(bad, 1);
    c.ExpectCode(st, Code::kInvalidArgument, std::string("CreateVolume(\"") + bad + "\", 1)");
    if (st.ok()) (void)d.DeleteVolume(bad);
  }
  const std::string vol = NewUuid();
  if (!c.ExpectOk(d.CreateVolume(vol, 1), "CreateVolume(vol, 1)")) return;
  const Status snap = d.CreateSnapshot(vol, "../escape");
  if (snap.code() != Code::kUnimplemented) {
    c.ExpectCode(snap, Code::kInvalidArgument, "CreateSnapshot(vol, \"../escape\")");
    if (snap.ok()) (void)d.DeleteSnapshot(vol, "../escape");
  }
  c.ExpectOk(d.DeleteVolume(vol), "DeleteVolume");
}

void Extend(Case& c, VolumeDriver& d, const SuiteEnv& env) {
  const std::string id = NewUuid();
  if (!c.ExpectOk(d.CreateVolume(id, 1), "CreateVolume(id, 1)")) return;
  const std::string data = Pattern(1, 65536);
  Bytes b(d, id, env.o.check_data);
  if (b.usable()) c.Expect(b.Write(4096, data), "writing the volume's local path " + b.path());
  c.ExpectCode(d.ExtendVolume(NewUuid(), 2), Code::kNotFound, "ExtendVolume of an unknown id");
  if (c.ExpectOk(d.ExtendVolume(id, 3), "ExtendVolume(id, 3)")) {
    ExpectBytes(c, d, id, "after ExtendVolume(id, 3)", env.o.check_data, 4096, data, 3);
  }
  c.ExpectOk(d.DeleteVolume(id), "DeleteVolume");
}

void Snapshots(Case& c, VolumeDriver& d, const SuiteEnv& env) {
  const std::string vol = NewUuid(), snap = NewUuid();
  if (!c.ExpectOk(d.CreateVolume(vol, 1), "CreateVolume(vol, 1)")) return;
  const std::string before = Pattern(2, 65536), after = Pattern(3, 65536);
  Bytes b(d, vol, env.o.check_data);
  if (b.usable()) c.Expect(b.Write(kGiB / 2, before), "writing the volume's local path");
  const Status st = d.CreateSnapshot(vol, snap);
  if (c.Optional(st, "CreateSnapshot")) {
    c.ExpectOk(st, "CreateSnapshot(vol, snap)");
    c.ExpectCode(d.CreateSnapshot(vol, snap), Code::kAlreadyExists, "CreateSnapshot of an existing snapshot id");
    c.ExpectCode(d.CreateSnapshot(NewUuid(), NewUuid()), Code::kNotFound, "CreateSnapshot of an unknown volume");
    if (b.usable()) {
      c.Expect(b.Write(kGiB / 2, after), "writing the volume after its snapshot");
      const std::string copy = NewUuid();
      if (c.ExpectOk(d.CreateVolumeFromSnapshot(copy, 1, snap), "CreateVolumeFromSnapshot(copy, 1, snap)")) {
        ExpectBytes(c, d, copy, "a volume from a snapshot taken before a write", true, kGiB / 2, before, 1);
        c.ExpectOk(d.DeleteVolume(copy), "DeleteVolume(copy)");
      }
    }
    c.ExpectOk(d.DeleteSnapshot(vol, snap), "DeleteSnapshot");
    c.ExpectOk(d.DeleteSnapshot(vol, snap), "DeleteSnapshot of a snapshot already deleted");
    c.ExpectCode(d.CreateVolumeFromSnapshot(NewUuid(), 1, snap), Code::kNotFound,
                 "CreateVolumeFromSnapshot of a deleted snapshot");
    c.Expect(d.VolumeExists(vol), "the volume is gone after its snapshot was deleted");
  }
  c.ExpectOk(d.DeleteVolume(vol), "DeleteVolume");
}

void VolumeFromSnapshot(Case& c, VolumeDriver& d, const SuiteEnv& env) {
  const std::string vol = NewUuid(), snap = NewUuid(), copy = NewUuid();
  if (!c.ExpectOk(d.CreateVolume(vol, 2), "CreateVolume(vol, 2)")) return;
  const std::string data = Pattern(4, 65536);
  Bytes b(d, vol, env.o.check_data);
  if (b.usable()) c.Expect(b.Write(kGiB + 8192, data), "writing the volume's local path");
  const Status st = d.CreateSnapshot(vol, snap);
  if (c.Optional(st, "CreateSnapshot") && c.ExpectOk(st, "CreateSnapshot")) {
    const Status made = d.CreateVolumeFromSnapshot(copy, 3, snap);
    if (c.Optional(made, "CreateVolumeFromSnapshot") && c.ExpectOk(made, "CreateVolumeFromSnapshot(copy, 3, snap)")) {
      c.Expect(d.VolumeExists(copy), "VolumeExists is false for a volume made from a snapshot");
      ExpectBytes(c, d, copy, "a volume of 3 GiB from a snapshot of 2 GiB", env.o.check_data, kGiB + 8192, data, 3);
      c.ExpectCode(d.CreateVolumeFromSnapshot(copy, 3, snap), Code::kAlreadyExists,
                   "CreateVolumeFromSnapshot onto an existing volume id");
      c.ExpectOk(d.DeleteVolume(copy), "DeleteVolume(copy)");
      c.Expect(!d.VolumeExists(copy), "the copy exists after DeleteVolume");
    }
    const std::string small = NewUuid();
    const Status too_small = d.CreateVolumeFromSnapshot(small, 1, snap);
    c.ExpectCode(too_small, Code::kInvalidArgument, "CreateVolumeFromSnapshot smaller than the snapshot");
    if (too_small.ok()) (void)d.DeleteVolume(small);
    c.ExpectCode(d.CreateVolumeFromSnapshot(NewUuid(), 3, NewUuid()), Code::kNotFound,
                 "CreateVolumeFromSnapshot of an unknown snapshot");
    c.ExpectOk(d.DeleteSnapshot(vol, snap), "DeleteSnapshot");
  }
  c.ExpectOk(d.DeleteVolume(vol), "DeleteVolume");
}

void Clone(Case& c, VolumeDriver& d, const SuiteEnv& env) {
  const std::string vol = NewUuid(), clone = NewUuid();
  if (!c.ExpectOk(d.CreateVolume(vol, 1), "CreateVolume(vol, 1)")) return;
  const std::string data = Pattern(5, 65536), later = Pattern(6, 65536);
  Bytes b(d, vol, env.o.check_data);
  if (b.usable()) c.Expect(b.Write(0, data), "writing the volume's local path");
  const Status st = d.CreateClonedVolume(clone, 2, vol);
  if (c.Optional(st, "CreateClonedVolume") && c.ExpectOk(st, "CreateClonedVolume(clone, 2, vol)")) {
    c.Expect(d.VolumeExists(clone), "VolumeExists is false for a clone");
    if (b.usable()) c.Expect(b.Write(0, later), "writing the source after the clone");
    ExpectBytes(c, d, clone, "a clone, its source written afterwards", env.o.check_data, 0, data, 2);
    c.ExpectCode(d.CreateClonedVolume(clone, 2, vol), Code::kAlreadyExists,
                 "CreateClonedVolume onto an existing volume id");
    c.ExpectCode(d.CreateClonedVolume(NewUuid(), 2, NewUuid()), Code::kNotFound,
                 "CreateClonedVolume of an unknown source");
    c.ExpectOk(d.DeleteVolume(clone), "DeleteVolume(clone)");
    c.Expect(d.VolumeExists(vol), "the source is gone after its clone was deleted");
  }
  c.ExpectOk(d.DeleteVolume(vol), "DeleteVolume");
}

void Revert(Case& c, VolumeDriver& d, const SuiteEnv& env) {
  const std::string vol = NewUuid(), snap = NewUuid();
  if (!c.ExpectOk(d.CreateVolume(vol, 1), "CreateVolume(vol, 1)")) return;
  const std::string data = Pattern(7, 65536), later = Pattern(8, 65536);
  Bytes b(d, vol, env.o.check_data);
  if (b.usable()) c.Expect(b.Write(65536, data), "writing the volume's local path");
  const Status st = d.CreateSnapshot(vol, snap);
  if (c.Optional(st, "CreateSnapshot") && c.ExpectOk(st, "CreateSnapshot")) {
    if (b.usable()) c.Expect(b.Write(65536, later), "writing the volume after its snapshot");
    c.ExpectOk(d.ExtendVolume(vol, 2), "ExtendVolume(vol, 2) after the snapshot");
    const Status reverted = d.RevertToSnapshot(vol, snap, 2);
    if (c.Optional(reverted, "RevertToSnapshot") && c.ExpectOk(reverted, "RevertToSnapshot(vol, snap, 2)")) {
      ExpectBytes(c, d, vol, "a volume reverted to its snapshot, keeping its 2 GiB", env.o.check_data, 65536, data, 2);
      c.ExpectCode(d.RevertToSnapshot(vol, NewUuid(), 2), Code::kNotFound, "RevertToSnapshot to an unknown snapshot");
      c.ExpectCode(d.RevertToSnapshot(NewUuid(), snap, 2), Code::kNotFound, "RevertToSnapshot of an unknown volume");
    }
    c.ExpectOk(d.DeleteSnapshot(vol, snap), "DeleteSnapshot");
  }
  c.ExpectOk(d.DeleteVolume(vol), "DeleteVolume");
}

void Capacity(Case& c, VolumeDriver& d, const SuiteEnv&) {
  auto cap = d.GetCapacity();
  if (c.ExpectOk(cap.status(), "GetCapacity")) {
    c.Expect(cap->total_capacity_gb > 0, "GetCapacity: total_capacity_gb is not positive");
    c.Expect(cap->free_capacity_gb >= 0 && cap->free_capacity_gb <= cap->total_capacity_gb,
             "GetCapacity: free_capacity_gb " + std::to_string(cap->free_capacity_gb) + " is not within [0, total " +
                 std::to_string(cap->total_capacity_gb) + "]");
  }
  auto stats = d.GetStats();
  if (c.ExpectOk(stats.status(), "GetStats") && c.Expect(!stats->pools.empty(), "GetStats: no pool")) {
    for (const PoolStats& p : stats->pools) {
      const std::string pool = "GetStats: pool '" + p.pool_name + "'";
      c.Expect(p.total_capacity_gb > 0, pool + ": total_capacity_gb is not positive");
      c.Expect(
          p.free_capacity_gb >= 0 && (std::isinf(p.total_capacity_gb) || p.free_capacity_gb <= p.total_capacity_gb),
          pool + ": free_capacity_gb is not within [0, total]");
    }
  }
}

void ListsItsVolumes(Case& c, VolumeDriver& d, const SuiteEnv&) {
  const std::string kept = NewUuid(), gone = NewUuid();
  if (!c.ExpectOk(d.CreateVolume(kept, 1), "CreateVolume(kept, 1)")) return;
  if (c.ExpectOk(d.CreateVolume(gone, 1), "CreateVolume(gone, 1)")) c.ExpectOk(d.DeleteVolume(gone), "DeleteVolume");
  auto listed = d.ListVolumes();
  if (c.Optional(listed.status(), "ListVolumes") && c.ExpectOk(listed.status(), "ListVolumes")) {
    auto has = [&](const std::string& id) { return std::find(listed->begin(), listed->end(), id) != listed->end(); };
    c.Expect(has(kept), "ListVolumes does not list a volume it holds");
    c.Expect(!has(gone), "ListVolumes lists a deleted volume");
  }
  c.ExpectOk(d.DeleteVolume(kept), "DeleteVolume");
}

void Concurrent(Case& c, VolumeDriver& d, const SuiteEnv& env) {
  const int threads = std::max(2, env.o.threads);
  std::vector<std::vector<std::string>> errors(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto& errs = errors[static_cast<size_t>(t)];
      for (int i = 0; i < 4; ++i) {
        const std::string id = NewUuid();
        try {
          Status st = d.CreateVolume(id, 1);
          if (st.ok()) st = d.ExtendVolume(id, 2);
          if (st.ok() && !d.VolumeExists(id)) st = Internal("VolumeExists is false");
          Status del = d.DeleteVolume(id);
          if (!st.ok()) errs.push_back("volume " + id + ": " + Describe(st));
          if (!del.ok()) errs.push_back("DeleteVolume(" + id + "): " + Describe(del));
          if (d.VolumeExists(id)) errs.push_back("volume " + id + " exists after DeleteVolume");
        } catch (const std::exception& e) {
          errs.push_back(std::string("threw: ") + e.what());
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  for (const auto& errs : errors) {
    for (const auto& e : errs) c.Expect(false, "concurrent create, extend, delete on different volumes: " + e);
  }
}

}  // namespace

bool ConformanceReport::ok() const { return failed() == 0; }

int ConformanceReport::passed() const {
  int n = 0;
  for (const auto& c : cases) n += c.outcome == ConformanceCase::Outcome::kPassed;
  return n;
}

int ConformanceReport::failed() const {
  int n = 0;
  for (const auto& c : cases) n += c.outcome == ConformanceCase::Outcome::kFailed;
  return n;
}

int ConformanceReport::skipped() const {
  int n = 0;
  for (const auto& c : cases) n += c.outcome == ConformanceCase::Outcome::kSkipped;
  return n;
}

std::string ConformanceReport::ToString() const {
  std::ostringstream out;
  for (const auto& c : cases) {
    switch (c.outcome) {
      case ConformanceCase::Outcome::kPassed: out << "PASS " << c.name << "\n"; break;
      case ConformanceCase::Outcome::kSkipped: out << "SKIP " << c.name << ": " << c.skip_reason << "\n"; break;
      case ConformanceCase::Outcome::kFailed:
        out << "FAIL " << c.name << "\n";
        for (const auto& f : c.failures) out << "     " << f << "\n";
        break;
    }
  }
  out << passed() << " passed, " << failed() << " failed, " << skipped() << " skipped\n";
  return out.str();
}

ConformanceReport RunDriverConformance(const DriverOpener& open, const ConformanceOptions& options) {
  using Fn = void (*)(Case&, VolumeDriver&, const SuiteEnv&);
  static const std::pair<const char*, Fn> kCases[] = {
      {"create and delete", CreateAndDelete},
      {"refuses a name that is not a volume id", RefusesBadNames},
      {"extend keeps the bytes", Extend},
      {"a snapshot keeps its bytes when its volume is written", Snapshots},
      {"a volume from a snapshot holds its bytes, at its own size", VolumeFromSnapshot},
      {"a clone holds its source's bytes", Clone},
      {"revert brings the snapshot's bytes back and keeps the size", Revert},
      {"capacity and pools", Capacity},
      {"lists its volumes", ListsItsVolumes},
      {"concurrent calls on different volumes", Concurrent},
  };
  ConformanceReport report;
  const SuiteEnv env{open, options};
  for (const auto& [name, fn] : kCases) {
    ConformanceCase out;
    out.name = name;
    Case c(&out);
    try {
      auto driver = open();
      if (!driver.ok()) {
        c.Expect(false, "opening the driver: " + driver.status().ToString());
      } else {
        fn(c, **driver, env);
      }
    } catch (const std::exception& e) {
      c.Expect(false, std::string("a driver call threw: ") + e.what());
    } catch (...) {
      c.Expect(false, "a driver call threw");
    }
    if (!out.failures.empty()) out.outcome = ConformanceCase::Outcome::kFailed;
    report.cases.push_back(std::move(out));
  }
  return report;
}

}  // namespace cinder

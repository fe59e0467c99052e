// The backup and restore pipelines on real files in temporary directories: full, incremental
// and chain restores byte-exact, the ownership map against a naive replay of every layer,
// corruption named, a full disk leaving nothing behind, the memory bound, and the backups made
// by the real Cinder's posix driver (tests/data/cinder_posix_backup, tests/tools/
// make_cinder_fixture.py) restored byte-exact.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "backup/engine/chunked_format.h"
#include "backup/engine/codec.h"
#include "backup/engine/fingerprints.h"
#include "backup/engine/hashing.h"
#include "backup/pipeline.h"
#include "cinder/connector.h"
#include "common/json.h"
#include "unit/fault_env.h"

namespace cinder::backup {
namespace {

namespace fs = std::filesystem;

class Dir {
 public:
  Dir() {
    std::string tmpl = (fs::temp_directory_path() / "cinder-backup-test-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A sparse file of `size` bytes with `data` written at each offset.
void WriteSparse(const std::string& path, int64_t size, const std::vector<std::pair<int64_t, std::string>>& data) {
  { std::ofstream out(path, std::ios::binary | std::ios::trunc); }
  REQUIRE(truncate(path.c_str(), size) == 0);
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  for (const auto& [off, bytes] : data) {
    f.seekp(off);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
}

std::string Random(size_t n, std::mt19937* rng) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>((*rng)());
  return s;
}

std::unique_ptr<VolumeSource> Source(const std::string& path, Env* env = Env::Default()) {
  auto f = env->OpenFile(path, Env::OpenMode::kRead);
  REQUIRE(f.ok());
  return FileSource(std::move(f).value());
}

std::unique_ptr<VolumeSink> Sink(const std::string& path, bool is_new) {
  auto f = Env::Default()->OpenFile(path, Env::OpenMode::kReadWrite);
  REQUIRE(f.ok());
  return FileSink(std::move(f).value(), is_new);
}

PipelineOptions SmallOptions(const std::string& codec = "zstd") {
  PipelineOptions o;
  o.compression = codec;
  o.object_size = 64 << 10;
  o.sha_block_size = 4096;
  o.file_size = 1 << 20;
  o.workers = 3;
  o.sync = false;
  return o;
}

BackupJob Job(const std::string& id, int second = 0) {
  BackupJob j;
  j.backup_id = id;
  j.volume_id = "vol-1";
  j.name = "b-" + id;
  j.created_at = "2026-12-07T12:00:00";
  j.volume_meta = "{\"version\": 2, \"volume-metadata\": {\"n\": \"" + id + "\"}}";
  j.start_time = std::chrono::system_clock::from_time_t(1796644800 + second);
  return j;
}

ParentRef Parent(const BackupJob& job, const BackupOutcome& out, int64_t size) {
  return ParentRef{job.backup_id, out.container, out.service_metadata, size, job.volume_id};
}

RestoreLayer Layer(const BackupJob& job, const BackupOutcome& out) {
  return RestoreLayer{job.backup_id, out.container, out.service_metadata};
}

// Restores `chain` to a new file of `size` bytes (or onto junk, when !is_new) and returns it.
int restored_count = 0;
// How many RestoreTo made: the last one is <dir>/restored-<RestoredCount()>.
int RestoredCount() { return restored_count; }

std::string RestoreTo(const std::string& dir, const PipelineOptions& o, ObjectStore* store,
                      const std::vector<RestoreLayer>& chain, int64_t size, bool is_new,
                      RestoreOutcome* outcome = nullptr) {
  const std::string path = dir + "/restored-" + std::to_string(++restored_count);
  if (is_new) {
    WriteSparse(path, size, {});
  } else {
    std::mt19937 rng(99);
    WriteFile(path, Random(static_cast<size_t>(size), &rng));
  }
  auto sink = Sink(path, is_new);
  auto r = RunRestore(o, store, chain, sink.get(), {});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  if (outcome) *outcome = *r;
  return ReadFile(path);
}

// The backup's objects, from its _metadata, in volume order; checks that they tile [0, size).
std::vector<ObjectEntry> CheckTiles(const std::string& root, const BackupOutcome& out, int64_t size) {
  auto md = ParseMetadata(ReadFile(root + "/" + out.container + "/" + MetadataName(out.service_metadata)));
  REQUIRE(md.ok());
  std::vector<ObjectEntry> objs = md->objects;
  CHECK(static_cast<int64_t>(objs.size()) == out.object_count);
  int64_t pos = 0;
  for (size_t i = 0; i < objs.size(); ++i) {
    CHECK(objs[i].name == ObjectName(out.service_metadata, static_cast<int64_t>(i) + 1));  // numbered in order
    CHECK(objs[i].offset == pos);
    pos += objs[i].length;
  }
  CHECK(pos == size);
  return objs;
}

std::vector<std::string> FilesUnder(const std::string& root) {
  std::vector<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out.push_back(e.path().filename().string());
  }
  return out;
}

}  // namespace

TEST_CASE("backup pipeline: full and incremental backups of a random file restore byte-exact, chain included") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(1);
  const int64_t size = (1 << 20) + 3 * 4096;  // not a multiple of the unit
  std::string image = Random(static_cast<size_t>(size), &rng);
  // Some compressible and some zero data too.
  std::fill(image.begin() + 100000, image.begin() + 300000, 'a');
  std::fill(image.begin() + 400000, image.begin() + 600000, '\0');
  const std::string vol = d.path() + "/vol";
  WriteFile(vol, image);

  for (const char* codec : {"zstd", "zlib", "bz2", "none"}) {
    CAPTURE(codec);
    PipelineOptions o = SmallOptions(codec);
    BackupJob full = Job(std::string("full-") + codec);
    auto src = Source(vol);
    auto f = RunBackup(o, store->get(), full, src.get(), {});
    REQUIRE_MESSAGE(f.ok(), f.status().ToString());
    // Every byte covered: a unit with data is cut into 8 objects, a zero unit is one.
    CheckTiles(d.path() + "/store", *f, size);
    CHECK(f->object_count > (size + o.object_size - 1) / o.object_size);
    CHECK(f->container == DefaultContainer(full.backup_id));
    CHECK(f->service_metadata == ObjectPrefix(full));

    // Change a few blocks (one to zeros) and back up incrementally.
    std::string image2 = image;
    image2[5] ^= 1;                                                  // block 0
    std::fill(image2.begin() + 8192, image2.begin() + 12288, '\0');  // block 2 becomes zeros
    image2[70000] ^= 1;                                              // block 17 (unit 1)
    image2[size - 1] ^= 1;                                           // the last block
    WriteFile(vol, image2);
    BackupJob inc = Job(std::string("inc-") + codec, 1);
    inc.parent = Parent(full, *f, size);
    auto src2 = Source(vol);
    auto i = RunBackup(o, store->get(), inc, src2.get(), {});
    REQUIRE_MESSAGE(i.ok(), i.status().ToString());
    // Runs of changed blocks, never across a unit: blocks 0 and 2 (two runs), 17, the last.
    CHECK(i->object_count == 4);

    CHECK(RestoreTo(d.path(), o, store->get(), {Layer(full, *f)}, size, true) == image);
    CHECK(RestoreTo(d.path(), o, store->get(), {Layer(full, *f)}, size, false) == image);
    RestoreOutcome ro;
    CHECK(RestoreTo(d.path(), o, store->get(), {Layer(full, *f), Layer(inc, *i)}, size, true, &ro) == image2);
    CHECK(RestoreTo(d.path(), o, store->get(), {Layer(full, *f), Layer(inc, *i)}, size, false) == image2);
    REQUIRE(ro.volume_meta.size() == 2);
    CHECK(ro.volume_meta[1] == inc.volume_meta);
    WriteFile(vol, image);
  }
}

TEST_CASE("backup pipeline: an incremental hashes only the blocks whose fingerprint changed, else every block") {
  Dir d;
  const std::string root = d.path() + "/store";
  auto store = OpenPosixStore(Env::Default(), root);
  REQUIRE(store.ok());
  std::mt19937 rng(5);
  const int64_t size = (1 << 20) + 4096;  // 257 blocks of 4 KiB
  std::string image = Random(static_cast<size_t>(size), &rng);
  std::fill(image.begin() + 40960, image.begin() + 49152, '\0');  // blocks 10 and 11 are zeros
  const int64_t data_blocks = 257 - 2;
  const std::string vol = d.path() + "/vol";
  WriteFile(vol, image);
  PipelineOptions o = SmallOptions();

  BackupJob full = Job("fp-full");
  auto f = RunBackup(o, store->get(), full, Source(vol).get(), {});
  REQUIRE_MESSAGE(f.ok(), f.status().ToString());
  CHECK_FALSE(f->parent_fingerprints);
  CHECK(f->sha_blocks == data_blocks);
  const std::string fp_path = root + "/" + f->container + "/" + FingerprintsName(f->service_metadata);
  REQUIRE(fs::exists(fp_path));
  CHECK(fs::file_size(fp_path) == 32 + 257 * 16 + 8);

  std::string image2 = image;
  image2[5] ^= 1;                                                              // block 0
  std::fill(image2.begin() + 8192, image2.begin() + 12288, '\0');              // block 2 becomes zeros
  image2[200000] ^= 1;                                                         // block 48
  image2[size - 1] ^= 1;                                                       // the last block
  std::copy(image.begin(), image.begin() + 4096, image2.begin() + 4096 * 30);  // block 30 = block 0
  WriteFile(vol, image2);
  auto sha_list = [&](const BackupOutcome& out) {
    auto parsed = ParseSha256File(ReadFile(root + "/" + out.container + "/" + Sha256FileName(out.service_metadata)));
    REQUIRE(parsed.ok());
    return parsed->sha256s;
  };

  // With the parent's fingerprints: the four changed data blocks are hashed, nothing else.
  BackupJob inc = Job("fp-inc", 1);
  inc.parent = Parent(full, *f, size);
  auto i = RunBackup(o, store->get(), inc, Source(vol).get(), {});
  REQUIRE_MESSAGE(i.ok(), i.status().ToString());
  CHECK(i->parent_fingerprints);
  CHECK(i->sha_blocks == 4);
  CHECK(i->object_count == 5);  // blocks 0, 2, 30, 48 and the last: separate runs
  CHECK(RestoreTo(d.path(), o, store->get(), {Layer(full, *f), Layer(inc, *i)}, size, true) == image2);

  // Its fingerprints carry the chain on: one more change, one block hashed.
  std::string image3 = image2;
  image3[700000] ^= 1;
  WriteFile(vol, image3);
  BackupJob inc2 = Job("fp-inc2", 2);
  inc2.parent = Parent(inc, *i, size);
  auto i2 = RunBackup(o, store->get(), inc2, Source(vol).get(), {});
  REQUIRE_MESSAGE(i2.ok(), i2.status().ToString());
  CHECK(i2->parent_fingerprints);
  CHECK(i2->sha_blocks == 1);
  CHECK(i2->object_count == 1);
  CHECK(RestoreTo(d.path(), o, store->get(), {Layer(full, *f), Layer(inc, *i), Layer(inc2, *i2)}, size, true) ==
        image3);
  WriteFile(vol, image2);

  // A damaged or missing fingerprints file: every block is hashed, and the backup is the same.
  for (const char* damage : {"flip", "remove"}) {
    CAPTURE(damage);
    if (std::string(damage) == "flip") {
      std::string bytes = ReadFile(fp_path);
      bytes[40] ^= 1;
      WriteFile(fp_path, bytes);
    } else {
      REQUIRE(fs::remove(fp_path));
    }
    BackupJob again = Job(std::string("fp-again-") + damage, 3 + (damage[0] == 'r'));
    again.parent = Parent(full, *f, size);
    auto a = RunBackup(o, store->get(), again, Source(vol).get(), {});
    REQUIRE_MESSAGE(a.ok(), a.status().ToString());
    CHECK_FALSE(a->parent_fingerprints);
    CHECK(a->sha_blocks == data_blocks - 1);  // block 2 became zeros
    CHECK(a->object_count == i->object_count);
    CHECK(sha_list(*a) == sha_list(*i));
    CHECK(RestoreTo(d.path(), o, store->get(), {Layer(full, *f), Layer(again, *a)}, size, true) == image2);
  }

  // Deleting a backup removes its fingerprints too.
  const std::string inc_fp = root + "/" + i->container + "/" + FingerprintsName(i->service_metadata);
  REQUIRE(fs::exists(inc_fp));
  REQUIRE(DeleteBackupObjects(store->get(), i->container, i->service_metadata).ok());
  CHECK_FALSE(fs::exists(inc_fp));
}

namespace {

// The directory's FS_TOPDIR_FL (chattr +T), or nullopt where the file system has no such flags.
std::optional<bool> TopDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  int flags = 0;
  const int rc = ::ioctl(fd, FS_IOC_GETFLAGS, &flags);
  ::close(fd);
  if (rc != 0) return std::nullopt;
  return (flags & FS_TOPDIR_FL) != 0;
}

}  // namespace

TEST_CASE("backup pipeline: the store has ext4 spread each container over the block groups (chattr +T)") {
  Dir d;
  const std::string root = d.path() + "/store";
  auto store = OpenPosixStore(Env::Default(), root);
  REQUIRE(store.ok());
  if (!TopDir(root).has_value()) {
    MESSAGE("skipped: " << root << " is on a file system without inode flags (not ext2/3/4)");
    return;
  }
  CHECK(*TopDir(root));
  // Cinder's default container, three levels: the two above it spread what is made in them.
  const std::string container = DefaultContainer("6a4b1c2d-0000-4000-8000-000000000001");
  REQUIRE((*store)->CreateContainer(container).ok());
  CHECK(*TopDir(root + "/" + container.substr(0, 2)));
  CHECK(*TopDir(root + "/" + container.substr(0, 5)));
  CHECK_FALSE(*TopDir(root + "/" + container));  // its objects stay together
  // A level that existed before is flagged too; a one-level container needs nothing more.
  REQUIRE(::mkdir((root + "/old").c_str(), 0770) == 0);
  REQUIRE((*store)->CreateContainer("old/mine").ok());
  CHECK(*TopDir(root + "/old"));
  REQUIRE((*store)->CreateContainer("plain").ok());
  CHECK_FALSE(*TopDir(root + "/plain"));
}

TEST_CASE("backup pipeline: a sparse volume is read by its extents and every byte is still covered") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(2);
  const int64_t size = 16 << 20;
  const std::string vol = d.path() + "/vol";
  const std::string a = Random(5000, &rng), b = Random(70000, &rng);
  WriteSparse(vol, size, {{100, a}, {9 << 20, b}});
  const std::string image = ReadFile(vol);

  for (const char* codec : {"zstd", "none"}) {
    CAPTURE(codec);
    PipelineOptions o = SmallOptions(codec);
    o.object_size = 1 << 20;
    BackupJob job = Job(std::string("sparse-") + codec);
    auto src = Source(vol);
    auto r = RunBackup(o, store->get(), job, src.get(), {});
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->object_count == 2 * 8 + 14);  // every byte covered, as Cinder's full backup
    const std::vector<ObjectEntry> objs = CheckTiles(d.path() + "/store", *r, size);
    CHECK(r->bytes_read <= 3 << 20);  // the holes were not read
    if (std::string(codec) == "none") {
      // Zero objects of "none" are sparse files.
      struct stat st {};
      auto zero_obj = std::find_if(objs.begin(), objs.end(), [](const ObjectEntry& e) { return e.offset == 5 << 20; });
      REQUIRE(zero_obj != objs.end());
      const std::string obj = d.path() + "/store/" + r->container + "/" + zero_obj->name;
      REQUIRE(stat(obj.c_str(), &st) == 0);
      CHECK(st.st_size == (1 << 20));
      CHECK(st.st_blocks * 512 < (1 << 20));
    } else {
      CHECK(r->bytes_stored < (1 << 20));
    }
    RestoreOutcome ro;
    const std::string restored = RestoreTo(d.path(), o, store->get(), {Layer(job, *r)}, size, true, &ro);
    CHECK(restored == image);
    CHECK(ro.bytes_written < (1 << 20));  // zeros skipped on a new volume
    // Onto an existing volume full of other data: the zeros are holes punched, not written.
    CHECK(RestoreTo(d.path(), o, store->get(), {Layer(job, *r)}, size, false, &ro) == image);
    CHECK(ro.bytes_written < (1 << 20));
    struct stat st {};
    REQUIRE(stat((d.path() + "/restored-" + std::to_string(RestoredCount())).c_str(), &st) == 0);
    CHECK(st.st_blocks * 512 < 2 * (1 << 20));
  }
}

TEST_CASE("backup pipeline: an object that does not shrink is stored raw and recorded \"none\"") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(3);
  const std::string vol = d.path() + "/vol";
  WriteFile(vol, Random(64 << 10, &rng) + std::string(64 << 10, 'x'));
  PipelineOptions o = SmallOptions("ZSTD");
  BackupJob job = Job("raw");
  auto src = Source(vol);
  auto r = RunBackup(o, store->get(), job, src.get(), {});
  REQUIRE(r.ok());
  const std::string meta = ReadFile(d.path() + "/store/" + r->container + "/" + MetadataName(r->service_metadata));
  auto md = ParseMetadata(meta);
  REQUIRE(md.ok());
  REQUIRE(md->objects.size() == 16);  // two units of 8 objects
  CHECK(md->objects[0].compression == "none");
  CHECK(md->objects[15].compression == "zstd");  // lower-cased as Cinder records it
  CHECK(fs::file_size(d.path() + "/store/" + r->container + "/" + md->objects[0].name) == (8u << 10));
  CHECK(md->created_at == "2026-12-07 12:00:00+00:00");
  CHECK(md->volume_meta == job.volume_meta);
}

TEST_CASE("backup pipeline: the ownership map restores random chains as a naive replay of every layer does") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(4);
  const int64_t size = 512 << 10;
  const std::string vol = d.path() + "/vol";
  std::string image = Random(static_cast<size_t>(size), &rng);
  WriteFile(vol, image);
  PipelineOptions o = SmallOptions("zlib");
  o.object_size = 32 << 10;
  std::vector<RestoreLayer> chain;
  std::vector<BackupJob> jobs;
  std::vector<BackupOutcome> outs;
  for (int layer = 0; layer < 8; ++layer) {
    BackupJob job = Job("chain-" + std::to_string(layer), layer);
    if (layer > 0) job.parent = Parent(jobs.back(), outs.back(), size);
    auto src = Source(vol);
    auto r = RunBackup(o, store->get(), job, src.get(), {});
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    jobs.push_back(job);
    outs.push_back(*r);
    chain.push_back(Layer(job, *r));

    // The naive replay: every layer's every object, oldest first, written whole.
    std::string replay(static_cast<size_t>(size), '\0');
    for (const RestoreLayer& l : chain) {
      const std::string dir = d.path() + "/store/" + l.container + "/";
      auto md = ParseMetadata(ReadFile(dir + MetadataName(l.service_metadata)));
      REQUIRE(md.ok());
      for (const ObjectEntry& e : md->objects) {
        auto body = DecompressAll(*ParseCodec(e.compression), ReadFile(dir + e.name));
        REQUIRE(body.ok());
        REQUIRE(static_cast<int64_t>(body->size()) == e.length);
        replay.replace(static_cast<size_t>(e.offset), body->size(), *body);
      }
    }
    CHECK(replay == image);
    RestoreOutcome ro;
    CHECK(RestoreTo(d.path(), o, store->get(), chain, size, layer % 2 == 0, &ro) == image);
    CHECK(ro.objects_read <= 8 * size / o.object_size + layer * 40);

    // Change random blocks (some to zeros, some runs) for the next layer.
    const int changes = 1 + static_cast<int>(rng() % 12);
    for (int c = 0; c < changes; ++c) {
      const int64_t block = rng() % (size / 4096);
      const int64_t blocks = 1 + rng() % 3;
      const int64_t len = std::min<int64_t>(blocks * 4096, size - block * 4096);
      const std::string fill =
          rng() % 3 == 0 ? std::string(static_cast<size_t>(len), '\0') : Random(static_cast<size_t>(len), &rng);
      image.replace(static_cast<size_t>(block * 4096), fill.size(), fill);
    }
    WriteFile(vol, image);
  }
}

// A disk whose large writes are slow: the whole pieces of a chain's older layer are still queued
// while a newer layer's small objects are applied.
class SlowLargeWrites : public VolumeSink {
 public:
  explicit SlowLargeWrites(std::unique_ptr<VolumeSink> inner) : inner_(std::move(inner)) {}
  Result<int64_t> Size() override { return inner_->Size(); }
  bool IsNew() const override { return inner_->IsNew(); }
  Status WriteAt(int64_t offset, const char* data, size_t n) override {
    if (n >= (32u << 10)) std::this_thread::sleep_for(std::chrono::milliseconds(15));
    return inner_->WriteAt(offset, data, n);
  }
  Status Zero(int64_t offset, int64_t len) override { return inner_->Zero(offset, len); }
  Status Sync() override { return inner_->Sync(); }

 private:
  std::unique_ptr<VolumeSink> inner_;
};

TEST_CASE("backup pipeline: a chain's newer layer lands after the older layer's slow whole pieces") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(8);
  const int64_t size = 1 << 20;
  const std::string vol = d.path() + "/vol";
  std::string image = Random(static_cast<size_t>(size), &rng);
  WriteFile(vol, image);
  PipelineOptions o = SmallOptions();
  BackupJob full = Job("slow-full");
  auto f = RunBackup(o, store->get(), full, Source(vol).get(), {});
  REQUIRE_MESSAGE(f.ok(), f.status().ToString());
  // One block changed in every unit of the full backup, one of them to zeros.
  std::string image2 = image;
  for (int64_t unit = 0; unit < size / o.object_size; ++unit) image2[unit * o.object_size + 5000] ^= 0x5a;
  std::fill(image2.begin() + 8192, image2.begin() + 12288, '\0');
  WriteFile(vol, image2);
  BackupJob inc = Job("slow-inc", 1);
  inc.parent = Parent(full, *f, size);
  auto i = RunBackup(o, store->get(), inc, Source(vol).get(), {});
  REQUIRE_MESSAGE(i.ok(), i.status().ToString());
  REQUIRE(i->object_count == size / o.object_size);  // unit 0: blocks 1 and 2 are one run

  for (bool is_new : {true, false}) {
    CAPTURE(is_new);
    const std::string path = d.path() + "/slow-" + std::to_string(is_new);
    if (is_new) {
      WriteSparse(path, size, {});
    } else {
      WriteFile(path, Random(static_cast<size_t>(size), &rng));
    }
    SlowLargeWrites sink(Sink(path, is_new));
    auto r = RunRestore(o, store->get(), {Layer(full, *f), Layer(inc, *i)}, &sink, {});
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(ReadFile(path) == image2);
  }
}

TEST_CASE("backup pipeline: a flipped byte fails the restore, naming the object") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(5);
  const std::string vol = d.path() + "/vol";
  WriteFile(vol, Random(256 << 10, &rng));
  for (const char* codec : {"none", "zstd"}) {
    CAPTURE(codec);
    PipelineOptions o = SmallOptions(codec);
    BackupJob job = Job(std::string("flip-") + codec);
    auto src = Source(vol);
    auto r = RunBackup(o, store->get(), job, src.get(), {});
    REQUIRE(r.ok());
    const std::string name = ObjectName(r->service_metadata, 3);
    const std::string path = d.path() + "/store/" + r->container + "/" + name;
    std::string body = ReadFile(path);
    body[body.size() / 2] ^= 0x10;
    WriteFile(path, body);
    const std::string target = d.path() + "/target";
    WriteSparse(target, 256 << 10, {});
    auto sink = Sink(target, true);
    auto res = RunRestore(o, store->get(), {Layer(job, *r)}, sink.get(), {});
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().message().find(name) != std::string::npos);
    CHECK(res.status().message().find("corrupt") != std::string::npos);
  }
}

TEST_CASE("backup pipeline: a full disk fails the backup with the system's message and leaves no object") {
  Dir d;
  testing::FaultInjectionEnv env;
  auto store = OpenPosixStore(&env, d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(6);
  const std::string vol = d.path() + "/vol";
  WriteFile(vol, Random(1 << 20, &rng));
  for (int nth : {1, 5, 128, 129, 130, 131}) {  // the first object, others, the JSON files
    CAPTURE(nth);
    env.FailNth(testing::FaultInjectionEnv::Op::kWrite, nth, ENOSPC);
    BackupJob job = Job("enospc-" + std::to_string(nth));
    auto src = Source(vol);
    auto r = RunBackup(SmallOptions("none"), store->get(), job, src.get(), {});
    env.Clear();
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kResourceExhausted);
    CHECK(r.status().message().find("No space left on device") != std::string::npos);
    CHECK(FilesUnder(d.path() + "/store").empty());
    CHECK_FALSE(fs::exists(d.path() + "/store/" + DefaultContainer(job.backup_id)));
  }
}

TEST_CASE("backup pipeline: a volume that cannot be written fails the restore with the system's message") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(16);
  PipelineOptions o = SmallOptions();
  testing::FaultInjectionEnv env;
  // 2 MiB: batches of eight objects, written by the writer threads; 40 KiB: one object,
  // streamed and written by its worker.
  for (int64_t size : {int64_t{2} << 20, int64_t{40} << 10}) {
    const std::string vol = d.path() + "/vol";
    WriteFile(vol, Random(static_cast<size_t>(size), &rng));
    BackupJob job = Job("wfail-" + std::to_string(size));
    auto b = RunBackup(o, store->get(), job, Source(vol).get(), {});
    REQUIRE(b.ok());
    for (int nth : {1, 3, 20}) {
      CAPTURE(size);
      CAPTURE(nth);
      if (size < o.object_size && nth > 1) continue;  // one write only
      const std::string target = d.path() + "/target";
      WriteSparse(target, size, {});
      auto f = env.OpenFile(target, Env::OpenMode::kReadWrite);
      REQUIRE(f.ok());
      auto sink = FileSink(std::move(f).value(), true);
      env.FailNth(testing::FaultInjectionEnv::Op::kWrite, nth, EIO);
      auto r = RunRestore(o, store->get(), {Layer(job, *b)}, sink.get(), {});
      env.Clear();
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().message().find("Failed to write the volume at offset") != std::string::npos);
      CHECK(r.status().message().find("Input/output error") != std::string::npos);
    }
  }
}

TEST_CASE("backup pipeline: buffers in flight are bounded by the options, whatever the volume's size") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(7);
  const std::string vol = d.path() + "/vol";
  WriteFile(vol, Random(4 << 20, &rng));
  PipelineOptions o = SmallOptions();
  o.workers = 4;
  o.buffers = 2;
  auto src = Source(vol);
  auto r = RunBackup(o, store->get(), Job("mem"), src.get(), {});
  REQUIRE(r.ok());
  CHECK(r->peak_buffers >= 1);
  CHECK(r->peak_buffers <= 2);
  CHECK(r->object_count == 64 * 8);
}

TEST_CASE("backup pipeline: Cinder's listing rule: a stray .tmp. file is ignored, a stray prefixed file refused") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(8);
  const std::string vol = d.path() + "/vol";
  const std::string image = Random(128 << 10, &rng);
  WriteFile(vol, image);
  PipelineOptions o = SmallOptions();
  BackupJob job = Job("listing");
  auto src = Source(vol);
  auto r = RunBackup(o, store->get(), job, src.get(), {});
  REQUIRE(r.ok());
  const std::string dir = d.path() + "/store/" + r->container + "/";
  WriteFile(dir + TempName(ObjectName(r->service_metadata, 9)), "partial");
  CHECK(RestoreTo(d.path(), o, store->get(), {Layer(job, *r)}, 128 << 10, true) == image);
  WriteFile(dir + ObjectName(r->service_metadata, 99999), "stray");
  const std::string target = d.path() + "/target";
  WriteSparse(target, 128 << 10, {});
  auto sink = Sink(target, true);
  auto res = RunRestore(o, store->get(), {Layer(job, *r)}, sink.get(), {});
  REQUIRE_FALSE(res.ok());
  CHECK(res.status().message().find("actual object list does not match object list stored in metadata") !=
        std::string::npos);
  // Delete removes every object, the temporary files and the directories it made.
  REQUIRE(DeleteBackupObjects(store->get(), r->container, r->service_metadata).ok());
  CHECK_FALSE(fs::exists(d.path() + "/store/" + r->container));
  CHECK(fs::exists(d.path() + "/store"));
  CHECK(DeleteBackupObjects(store->get(), r->container, r->service_metadata).ok());
  CHECK(CheckBackupReadable(store->get(), r->container, r->service_metadata).code() == Code::kNotFound);
}

TEST_CASE("backup pipeline: cancel through progress, incremental refusals, object counts") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(9);
  const std::string vol = d.path() + "/vol";
  WriteFile(vol, Random(256 << 10, &rng));
  PipelineOptions o = SmallOptions();
  BackupJob job = Job("cancel");
  auto src = Source(vol);
  int calls = 0;
  auto r = RunBackup(o, store->get(), job, src.get(), [&](int64_t done, int64_t total) {
    ++calls;
    CHECK(done <= total);
    return false;
  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kAborted);
  CHECK(calls >= 1);
  CHECK(FilesUnder(d.path() + "/store").empty());

  BackupJob full = Job("full");
  auto f = RunBackup(o, store->get(), full, src.get(), {});
  REQUIRE(f.ok());
  CHECK(CheckBackupReadable(store->get(), f->container, f->service_metadata).ok());
  BackupJob inc = Job("inc", 1);
  inc.parent = Parent(full, *f, 128 << 10);  // the volume grew
  auto grown = RunBackup(o, store->get(), inc, src.get(), {});
  REQUIRE_FALSE(grown.ok());
  CHECK(grown.status().message() == "Volume size increased since the last backup. Do a full backup.");
  inc.parent = Parent(full, *f, 256 << 10);
  PipelineOptions o2 = o;
  o2.sha_block_size = 8192;
  auto changed = RunBackup(o2, store->get(), inc, src.get(), {});
  REQUIRE_FALSE(changed.ok());
  CHECK(changed.status().message() ==
        "Hash block size has changed since the last backup. New hash block size: 8192. Old hash block size: 4096. "
        "Do a full backup.");
  PipelineOptions o3 = o;
  o3.file_size = 5000;
  auto bad = RunBackup(o3, store->get(), inc, src.get(), {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "Chunk size is not multiple of block size for creating hash.");
  // An unchanged volume: an incremental with no objects, which restores the same bytes.
  auto same = RunBackup(o, store->get(), inc, src.get(), {});
  REQUIRE(same.ok());
  CHECK(same->object_count == 0);
  CHECK(RestoreTo(d.path(), o, store->get(), {Layer(full, *f), Layer(inc, *same)}, 256 << 10, false) == ReadFile(vol));
}

TEST_CASE("backup pipeline: our _metadata and _sha256file are what Python's json.dumps writes of them") {
  if (access("/usr/bin/python3", X_OK) != 0) return;  // no Python here: the golden files cover it
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(10);
  const std::string vol = d.path() + "/vol";
  WriteFile(vol, Random(300 << 10, &rng));
  BackupJob job = Job("python");
  job.name = "caf\xc3\xa9 \"q\"";
  job.description.reset();
  auto src = Source(vol);
  auto r = RunBackup(SmallOptions(), store->get(), job, src.get(), {});
  REQUIRE(r.ok());
  for (const std::string& name : {MetadataName(r->service_metadata), Sha256FileName(r->service_metadata)}) {
    const std::string path = d.path() + "/store/" + r->container + "/" + name;
    const std::string cmd =
        "/usr/bin/python3 -c 'import json,sys; d=open(sys.argv[1],\"rb\").read(); "
        "sys.exit(0 if json.dumps(json.loads(d), sort_keys=True, indent=2).encode() == d else 1)' " +
        path;
    CHECK_MESSAGE(std::system(cmd.c_str()) == 0, name);
  }
}

TEST_CASE("backup pipeline: backups made by the real Cinder's posix driver restore byte-exact, and take ours on top") {
  const std::string data = std::string(CINDER_TEST_DATA_DIR) + "/cinder_posix_backup";
  auto manifest = json::Parse(ReadFile(data + "/manifest.json"));
  REQUIRE(manifest.ok());
  Dir d;
  fs::copy(data + "/store", d.path() + "/store", fs::copy_options::recursive);
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  const int64_t size = manifest->Find("size")->as_int();
  PipelineOptions o;  // Cinder's block size; object size does not matter for a restore
  o.sync = false;
  o.workers = 2;
  std::vector<RestoreLayer> chain;
  Hasher hasher;
  for (const json::Value& b : manifest->Find("backups")->as_array()) {
    chain.push_back(
        {b.Find("id")->as_string(), b.Find("container")->as_string(), b.Find("service_metadata")->as_string()});
    CAPTURE(b.Find("compression")->as_string());
    for (bool is_new : {true, false}) {
      const std::string got = RestoreTo(d.path(), o, store->get(), chain, size, is_new);
      const Sha256Digest sha = hasher.Sha256(got.data(), got.size());
      CHECK(ToHex(sha.data(), sha.size()) == b.Find("image_sha256")->as_string());
    }
  }
  // An incremental of ours on top of Cinder's chain.
  std::string image = RestoreTo(d.path(), o, store->get(), chain, size, true);
  image[123456] ^= 1;
  const std::string vol = d.path() + "/vol";
  WriteFile(vol, image);
  BackupJob job = Job("ours-on-cinder");
  job.volume_id = manifest->Find("volume_id")->as_string();
  const RestoreLayer& last = chain.back();
  job.parent = ParentRef{last.backup_id, last.container, last.service_metadata, size, job.volume_id};
  auto src = Source(vol);
  auto r = RunBackup(o, store->get(), job, src.get(), {});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->object_count == 1);
  chain.push_back(Layer(job, *r));
  CHECK(RestoreTo(d.path(), o, store->get(), chain, size, false) == image);
}

}  // namespace cinder::backup

namespace cinder::backup {

TEST_CASE("backup pipeline: the real Cinder's restore reads a chain we wrote (skipped without Cinder's source)") {
  const char* env_src = std::getenv("CINDER_SOURCE");
  const std::string cinder = env_src ? env_src : "/work/.mirror/openstack+cinder/repo";
  if (!fs::exists(cinder) || access("/usr/bin/python3", X_OK) != 0) {
    // Cinder's source is not vendored here (it is read, never copied): CINDER_SOURCE names a
    // checkout of openstack/cinder; without one, only the other direction (the checked-in
    // fixture made by Cinder's driver) is tested.
    MESSAGE("skipped: no Cinder source at " << cinder << " (set CINDER_SOURCE)");
    return;
  }
  if (std::system("/usr/bin/python3 -c 'import oslo_config, oslo_log, oslo_utils, zstd' 2>/dev/null") != 0) {
    MESSAGE("skipped: python3 lacks oslo.config, oslo.log, oslo.utils or zstd (Debian's python3-oslo.*, python3-zstd)");
    return;
  }
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(11);
  const int64_t size = 2 << 20;
  std::string image = Random(static_cast<size_t>(size), &rng);
  std::fill(image.begin() + 300000, image.begin() + 900000, '\0');
  const std::string vol = d.path() + "/vol";
  std::string manifest = "{\"volume_id\": \"vol-1\", \"size\": " + std::to_string(size) + ", \"backups\": [";
  PipelineOptions o;
  o.sync = false;
  o.object_size = 256 << 10;
  std::optional<ParentRef> parent;
  const char* codecs[] = {"zstd", "zlib", "bz2"};
  for (int n = 0; n < 3; ++n) {
    WriteFile(vol, image);
    o.compression = codecs[n];
    BackupJob job = Job("reverse-" + std::to_string(n), n);
    job.parent = parent;
    auto src = Source(vol);
    auto r = RunBackup(o, store->get(), job, src.get(), {});
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    Hasher h;
    const Sha256Digest sha = h.Sha256(image.data(), image.size());
    manifest += std::string(n ? ", " : "") + "{\"id\": \"" + job.backup_id + "\", \"container\": \"" + r->container +
                "\", \"service_metadata\": \"" + r->service_metadata +
                "\", \"parent_id\": " + (parent ? "\"" + parent->backup_id + "\"" : std::string("null")) +
                ", \"image_sha256\": \"" + ToHex(sha.data(), sha.size()) + "\"}";
    parent = Parent(job, *r, size);
    image[static_cast<size_t>(rng() % size)] ^= 1;
    std::fill(image.begin() + 40000 * (n + 1), image.begin() + 40000 * (n + 1) + 5000, '\0');
  }
  WriteFile(d.path() + "/manifest.json", manifest + "]}");
  const std::string cmd = "/usr/bin/python3 " + std::string(CINDER_TEST_DATA_DIR) +
                          "/../tools/make_cinder_fixture.py --cinder " + cinder + " --check-restore " + d.path() +
                          " >/dev/null";
  CHECK(std::system(cmd.c_str()) == 0);
}

}  // namespace cinder::backup

namespace cinder::backup {

TEST_CASE("backup pipeline: a volume opened through the connector backs up and restores (DeviceSource/Sink)") {
  Dir d;
  auto store = OpenPosixStore(Env::Default(), d.path() + "/store");
  REQUIRE(store.ok());
  std::mt19937 rng(12);
  const int64_t size = 1 << 20;
  const std::string image = Random(static_cast<size_t>(size), &rng);
  const std::string vol = d.path() + "/vol", target = d.path() + "/target";
  WriteFile(vol, image);
  WriteFile(target, std::string(static_cast<size_t>(size), 'j'));  // an existing volume's junk
  auto in = OpenConnection(R"({"driver_volume_type": "local", "device_path": ")" + vol + R"(", "access_mode": "ro"})");
  REQUIRE(in.ok());
  auto src = DeviceSource(in->get());
  PipelineOptions o = SmallOptions();
  BackupJob job = Job("device");
  auto r = RunBackup(o, store->get(), job, src.get(), {});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  auto out = OpenConnection(R"({"driver_volume_type": "local", "device_path": ")" + target + R"("})");
  REQUIRE(out.ok());
  auto sink = DeviceSink(out->get(), false);
  auto res = RunRestore(o, store->get(), {Layer(job, *r)}, sink.get(), {});
  REQUIRE_MESSAGE(res.ok(), res.status().ToString());
  CHECK(ReadFile(target) == image);
}

}  // namespace cinder::backup

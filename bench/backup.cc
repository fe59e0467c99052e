// bench_backup: the backup engine on file volumes (libcinder/backup/pipeline.h), as the issue's
// performance targets measure it. For each data set, a volume file of --size-mib is written
// (not timed; it stays in the page cache: warm figures), then:
//   backup     a full backup (MB/s of volume bytes)
//   restore    its restore to a new (sparse) file, verified (md5 per object, SHA-256 per block)
//   incr       (random, half) an incremental after 1% of the 32 KiB blocks changed (seconds)
//   chain      the full + incremental chain restored (MB/s)
// and where the time went (seconds summed over the worker threads). Each restore is compared
// with the volume afterwards. With --rss-gib N it instead backs up an N GiB synthetic
// half-compressible volume (generated on the fly, nothing read from disk) and prints the
// process's peak resident memory (VmHWM).
//
//   bench_backup [--dir /var/tmp] [--size-mib 1024] [--workers 0] [--codec zstd] [--sync 1]
//                [--sets random,half,zeros,sparse] [--rss-gib 0]
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backup/pipeline.h"
#include "common/util.h"

using namespace cinder;
using namespace cinder::backup;

namespace {

struct Args {
  std::string dir = "/var/tmp";
  int64_t size_mib = 1024;
  int workers = 0;
  std::string codec = "zstd";
  bool sync = true;
  std::string sets = "random,half,zeros,sparse";
  int64_t rss_gib = 0;
  int64_t unit_kib = 0;  // 0: PipelineOptions' default
};

uint64_t SplitMix(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Fills buf with random bytes (mask 0xff) or 4-bit bytes (mask 0x0f), from `seed`.
void Fill(char* buf, size_t n, uint64_t seed, uint8_t mask) {
  uint64_t s = seed;
  const uint64_t m = 0x0101010101010101ULL * mask;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t v = SplitMix(&s) & m;
    std::memcpy(buf + i, &v, 8);
  }
  for (; i < n; ++i) buf[i] = static_cast<char>(SplitMix(&s) & mask);
}

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// CPU seconds (user + system) of this process so far: the machine is shared, so the figures
// say how much CPU each phase took as well as how long.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

long VmHwmKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

void Die(const Status& st, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
  std::exit(1);
}

std::unique_ptr<File> Open(const std::string& path, Env::OpenMode mode) {
  auto f = Env::Default()->OpenFile(path, mode);
  if (!f.ok()) Die(f.status(), path.c_str());
  return std::move(f).value();
}

void MakeVolume(const std::string& path, const std::string& kind, int64_t size) {
  std::filesystem::remove(path);
  auto f = Open(path, Env::OpenMode::kCreate);
  if (kind == "sparse") {
    if (!f->Truncate(size).ok()) std::exit(1);
    return;
  }
  std::vector<char> buf(4 << 20);
  for (int64_t off = 0; off < size; off += static_cast<int64_t>(buf.size())) {
    if (kind == "random") Fill(buf.data(), buf.size(), off + 1, 0xff);
    if (kind == "half") Fill(buf.data(), buf.size(), off + 1, 0x0f);
    if (kind == "zeros") std::memset(buf.data(), 0, buf.size());
    if (!f->WriteAt(off, buf.data(), buf.size()).ok()) std::exit(1);
  }
  // On disk before the clock starts: a backup's syncs should not pay for writing the volume.
  if (!f->Sync().ok()) std::exit(1);
}

// Changes 1% of the 32 KiB blocks (random data) in place.
void Change1Percent(const std::string& path, int64_t size) {
  auto f = Open(path, Env::OpenMode::kReadWrite);
  std::mt19937_64 rng(42);
  const int64_t blocks = size / 32768;
  std::vector<char> buf(32768);
  for (int64_t i = 0; i < blocks / 100; ++i) {
    const int64_t b = static_cast<int64_t>(rng() % static_cast<uint64_t>(blocks));
    Fill(buf.data(), buf.size(), rng(), 0xff);
    if (!f->WriteAt(b * 32768, buf.data(), buf.size()).ok()) std::exit(1);
  }
  if (!f->Sync().ok()) std::exit(1);
}

bool SameFiles(const std::string& a, const std::string& b, int64_t size) {
  auto fa = Open(a, Env::OpenMode::kRead), fb = Open(b, Env::OpenMode::kRead);
  std::vector<char> x(4 << 20), y(4 << 20);
  for (int64_t off = 0; off < size; off += static_cast<int64_t>(x.size())) {
    auto ra = fa->ReadAt(off, x.data(), x.size());
    auto rb = fb->ReadAt(off, y.data(), y.size());
    if (!ra.ok() || !rb.ok() || *ra != *rb || std::memcmp(x.data(), y.data(), *ra) != 0) return false;
  }
  return true;
}

double Mbs(int64_t bytes, double seconds) { return static_cast<double>(bytes) / 1e6 / seconds; }

// Each backup gets a fresh id, as the service's do (and so its own container: reusing one path
// would also reuse the block group where the last run's objects were just deleted).
BackupJob Job(int n) {
  BackupJob j;
  j.backup_id = NewUuid();
  j.volume_id = "bench-volume";
  j.created_at = "2026-12-07T12:00:00";
  j.start_time = std::chrono::system_clock::now() + std::chrono::seconds(n);
  return j;
}

void PrintBackupStages(const BackupOutcome& o) {
  std::printf("      stages (thread-seconds): read %.2f  hash %.2f  compress %.2f  write %.2f\n", o.read_seconds,
              o.hash_seconds, o.compress_seconds, o.write_seconds);
}

double TimedRestore(const PipelineOptions& po, ObjectStore* store, const std::vector<RestoreLayer>& chain,
                    const std::string& target, int64_t size, RestoreOutcome* out) {
  std::filesystem::remove(target);
  auto f = Open(target, Env::OpenMode::kCreate);
  if (!f->Truncate(size).ok()) std::exit(1);
  auto sink = FileSink(std::move(f), true);
  const double t0 = Now();
  auto r = RunRestore(po, store, chain, sink.get(), {});
  const double t = Now() - t0;
  if (!r.ok()) Die(r.status(), "restore");
  *out = *r;
  return t;
}

void RunSet(const Args& a, const PipelineOptions& po, ObjectStore* store, const std::string& kind) {
  const int64_t size = a.size_mib << 20;
  const std::string vol = a.dir + "/bench-backup-volume", target = a.dir + "/bench-backup-restored";
  MakeVolume(vol, kind, size);
  std::printf("%s (%lld MiB, %s):\n", kind.c_str(), static_cast<long long>(a.size_mib), po.compression.c_str());

  BackupJob full = Job(0);
  auto src = FileSource(Open(vol, Env::OpenMode::kRead));
  double c0 = CpuSeconds(), t0 = Now();
  auto f = RunBackup(po, store, full, src.get(), {});
  double t = Now() - t0, c = CpuSeconds() - c0;
  if (!f.ok()) Die(f.status(), "backup");
  std::printf("  backup   %7.2f s  %8.0f MB/s  cpu %5.2f s (%lld objects, %.1f MB stored)\n", t, Mbs(size, t), c,
              static_cast<long long>(f->object_count), static_cast<double>(f->bytes_stored) / 1e6);
  PrintBackupStages(*f);

  RestoreOutcome ro;
  c0 = CpuSeconds();
  t = TimedRestore(po, store, {{full.backup_id, f->container, f->service_metadata}}, target, size, &ro);
  c = CpuSeconds() - c0;
  std::printf("  restore  %7.2f s  %8.0f MB/s  cpu %5.2f s %s\n", t, Mbs(size, t), c,
              SameFiles(vol, target, size) ? "(same bytes)" : "DIFFERS");
  std::printf("      stages (thread-seconds): read+decompress %.2f  verify %.2f  write %.2f\n", ro.read_seconds,
              ro.hash_seconds, ro.write_seconds);

  if (kind == "random" || kind == "half") {
    Change1Percent(vol, size);
    BackupJob inc = Job(1);
    inc.parent = ParentRef{full.backup_id, f->container, f->service_metadata, size, full.volume_id};
    auto src2 = FileSource(Open(vol, Env::OpenMode::kRead));
    c0 = CpuSeconds();
    t0 = Now();
    auto i = RunBackup(po, store, inc, src2.get(), {});
    t = Now() - t0;
    c = CpuSeconds() - c0;
    if (!i.ok()) Die(i.status(), "incremental");
    std::printf("  incr 1%%  %7.3f s                 cpu %5.2f s (%lld objects, %.1f MB stored)\n", t, c,
                static_cast<long long>(i->object_count), static_cast<double>(i->bytes_stored) / 1e6);
    PrintBackupStages(*i);
    c0 = CpuSeconds();
    t = TimedRestore(
        po, store,
        {{full.backup_id, f->container, f->service_metadata}, {inc.backup_id, i->container, i->service_metadata}},
        target, size, &ro);
    c = CpuSeconds() - c0;
    std::printf("  chain    %7.2f s  %8.0f MB/s  cpu %5.2f s %s (%lld objects read)\n", t, Mbs(size, t), c,
                SameFiles(vol, target, size) ? "(same bytes)" : "DIFFERS", static_cast<long long>(ro.objects_read));
    (void)DeleteBackupObjects(store, i->container, i->service_metadata);
  }
  (void)DeleteBackupObjects(store, f->container, f->service_metadata);
  std::filesystem::remove(vol);
  std::filesystem::remove(target);
  sync();
}

// A volume made up as it is read: 4-bit bytes, the same for the same offset.
class SyntheticSource : public VolumeSource {
 public:
  explicit SyntheticSource(int64_t size) : size_(size) {}
  Result<int64_t> Size() override { return size_; }
  Status ReadAt(int64_t offset, char* buf, size_t n) override {
    Fill(buf, n, static_cast<uint64_t>(offset) + 1, 0x0f);
    return Status::OK();
  }

 private:
  int64_t size_;
};

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir")
      a.dir = v;
    else if (k == "--size-mib")
      a.size_mib = std::stoll(v);
    else if (k == "--workers")
      a.workers = std::stoi(v);
    else if (k == "--codec")
      a.codec = v;
    else if (k == "--sync")
      a.sync = v != "0";
    else if (k == "--sets")
      a.sets = v;
    else if (k == "--rss-gib")
      a.rss_gib = std::stoll(v);
    else if (k == "--unit-kib")
      a.unit_kib = std::stoll(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  PipelineOptions po;
  po.compression = a.codec;
  po.workers = a.workers;
  po.sync = a.sync;
  if (a.unit_kib > 0) po.object_size = a.unit_kib << 10;
  const std::string root = a.dir + "/bench-backup-store";
  auto store = OpenPosixStore(Env::Default(), root);
  if (!store.ok()) Die(store.status(), "store");
  std::printf("bench_backup: dir %s, workers %d (0 = cores: %u), object %lld KiB, sync %d\n", a.dir.c_str(), a.workers,
              std::thread::hardware_concurrency(), static_cast<long long>(po.object_size >> 10), a.sync);

  if (a.rss_gib > 0) {
    const long before = VmHwmKib();
    SyntheticSource src(a.rss_gib << 30);
    BackupJob job = Job(0);
    const double t0 = Now();
    auto r = RunBackup(po, store->get(), job, &src, {});
    const double t = Now() - t0;
    if (!r.ok()) Die(r.status(), "backup");
    std::printf(
        "rss: %lld GiB synthetic half-compressible backup in %.1f s (%.0f MB/s), %lld objects, "
        "%.0f MB stored; VmHWM before %ld KiB, after %ld KiB (%d buffers)\n",
        static_cast<long long>(a.rss_gib), t, Mbs(a.rss_gib << 30, t), static_cast<long long>(r->object_count),
        static_cast<double>(r->bytes_stored) / 1e6, before, VmHwmKib(), r->peak_buffers);
    PrintBackupStages(*r);
    (void)DeleteBackupObjects(store->get(), r->container, r->service_metadata);
    return 0;
  }
  size_t start = 0;
  while (start <= a.sets.size()) {
    size_t end = a.sets.find(',', start);
    if (end == std::string::npos) end = a.sets.size();
    const std::string kind = a.sets.substr(start, end - start);
    if (!kind.empty()) RunSet(a, po, store->get(), kind);
    start = end + 1;
  }
  std::printf("peak RSS (VmHWM) %ld KiB\n", VmHwmKib());
  return 0;
}

// RunBackup: the volume in work units (PipelineOptions::object_size, 4 MiB) through T threads,
// each of which reads a unit (or learns from NextData that it is a hole), hashes its 32 KiB
// blocks, cuts its objects (the whole unit for a full backup; the runs of blocks whose hash
// differs from the parent's for an incremental), compresses and md5s them and writes each to a
// temporary file. The calling thread takes the units' results in volume order, names their
// objects (-00001, -00002, ...), renames them into place and streams the hash list to the
// _sha256file; then writes _metadata last. Memory: T unit buffers and T compression buffers,
// whatever the volume's size; finished units wait as small descriptors, at most kWindow units
// ahead of the one being named.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "backup/backup_metrics.h"
#include "backup/engine/chunked_format.h"
#include "backup/engine/common.h"
#include "backup/engine/fingerprints.h"
#include "backup/engine/md5x8.h"

namespace cinder::backup {

namespace {

// One object cut from a unit, written to its temporary file.
struct PendingObject {
  std::unique_ptr<ObjectStore::Writer> writer;
  int64_t offset = 0;
  int64_t length = 0;
  std::string compression;
  std::string md5;
  int64_t stored = 0;
};

struct UnitResult {
  std::vector<PendingObject> objects;
  std::vector<Sha256Digest> shas;
  std::vector<Fingerprint> fps;
  int64_t bytes_read = 0;
  int64_t sha_blocks = 0;
};

Status Named(const Status& st, const std::string& what) { return Status(st.code(), what + ": " + st.message()); }

// Adds the time since the last lap to a counter (nanoseconds).
class Stopwatch {
 public:
  Stopwatch() : t_(std::chrono::steady_clock::now()) {}
  void Lap(std::atomic<int64_t>* into) {
    const auto now = std::chrono::steady_clock::now();
    into->fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(now - t_).count(), std::memory_order_relaxed);
    t_ = now;
  }

 private:
  std::chrono::steady_clock::time_point t_;
};

class BackupRun {
 public:
  BackupRun(const ResolvedOptions& o, ObjectStore* store, const BackupJob& job, VolumeSource* source,
            const Progress& progress)
      : o_(o), store_(store), job_(job), source_(source), progress_(progress) {}

  Result<BackupOutcome> Run();

 private:
  void Worker();
  Status DoUnit(int64_t unit, std::vector<char>* buf, std::vector<char>* cbuf, Compressor* comp, Hasher* hasher,
                UnitResult* out);
  // Writes [data, data + len) (at volume offset `offset`) as one object to a temporary file.
  // `md5`: the object's when already known (a full backup's, taken with the block hashes).
  Status CutObject(int64_t unit, int index, const char* data, int64_t offset, int64_t len, bool zero, std::string md5,
                   std::vector<char>* cbuf, Compressor* comp, Hasher* hasher, UnitResult* out);
  void Fail(Status st) {
    std::lock_guard<std::mutex> l(mu_);
    if (status_.ok()) status_ = std::move(st);
    failed_.store(true);
    cv_.notify_all();
  }
  Status Commit(int64_t unit, UnitResult* r);
  void Cleanup();

  static constexpr int64_t kWindow = 32;
  static constexpr int kSegments = 8;                 // objects a full unit is cut into (Md5x8's lanes)
  static constexpr int64_t kSyncEachBytes = 1 << 20;  // units finished ahead of the one being named, at most

  const ResolvedOptions& o_;
  ObjectStore* store_;
  const BackupJob& job_;
  VolumeSource* source_;
  const Progress& progress_;

  std::string container_, prefix_;
  bool created_container_ = false;
  int64_t size_ = 0, units_ = 0;
  std::vector<Sha256Digest> parent_;  // the parent's hashes (incremental), else empty
  // The parent's fingerprints when usable (else empty: every block is hashed), and this
  // backup's chain seed.
  std::vector<Fingerprint> parent_fp_;
  uint64_t seed_ = 0;
  Fingerprint zero_fp_{};  // of a zero block of o_.block bytes

  std::atomic<int64_t> next_unit_{0};
  std::atomic<bool> failed_{false};
  std::atomic<int> buffers_{0};
  std::atomic<int64_t> ns_read_{0}, ns_hash_{0}, ns_compress_{0}, ns_write_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  Status status_;                       // guarded by mu_
  std::map<int64_t, UnitResult> done_;  // guarded by mu_
  int64_t committing_ = 0;              // guarded by mu_: the next unit to name

  // The committer's (the calling thread's) state.
  int64_t next_object_ = 1;
  std::vector<ObjectEntry> entries_;
  std::vector<std::string> published_;
  std::unique_ptr<ObjectStore::Writer> sha_writer_;
  std::unique_ptr<FingerprintsWriter> fp_writer_;
  int64_t sha_blocks_ = 0;
  std::string sha_chunk_;
  bool any_sha_ = false;
  int64_t bytes_stored_ = 0, bytes_read_ = 0;
};

Status BackupRun::CutObject(int64_t unit, int index, const char* data, int64_t offset, int64_t len, bool zero,
                            std::string md5, std::vector<char>* cbuf, Compressor* comp, Hasher* hasher,
                            UnitResult* out) {
  Stopwatch watch;
  PendingObject obj;
  obj.offset = offset;
  obj.length = len;
  const char* body = data;
  int64_t body_len = len;
  obj.compression = "none";
  bool sparse = false;
  std::string zero_body;  // the cached compressed zeros
  if (zero) {
    obj.md5 = Zeros::Get().Md5(len);
    auto c = Zeros::Get().Compressed(o_.codec, o_.level, len);
    if (!c.ok()) return c.status();
    if (o_.codec != CodecKind::kNone && static_cast<int64_t>(c->size()) < len) {
      zero_body = std::move(c).value();
      body = zero_body.data();
      body_len = static_cast<int64_t>(zero_body.size());
      obj.compression = o_.compression;
    } else {
      sparse = true;
    }
  } else {
    if (md5.empty()) {
      hasher->Md5Begin();
      hasher->Md5Update(data, static_cast<size_t>(len));
      md5 = hasher->Md5HexEnd();
      watch.Lap(&ns_hash_);
    }
    obj.md5 = std::move(md5);
    if (o_.codec != CodecKind::kNone) {
      const size_t need = comp->Bound(static_cast<size_t>(len));
      if (cbuf->size() < need) cbuf->resize(need);
      auto n = comp->Compress(data, static_cast<size_t>(len), cbuf->data(), cbuf->size());
      if (!n.ok()) return n.status();
      if (static_cast<int64_t>(*n) < len) {  // not smaller: stored raw, as Cinder
        body = cbuf->data();
        body_len = static_cast<int64_t>(*n);
        obj.compression = o_.compression;
      }
      watch.Lap(&ns_compress_);
    }
  }
  const std::string tmp_name = prefix_ + ".u" + std::to_string(unit) + "." + std::to_string(index);
  auto w = store_->NewObject(container_, tmp_name);
  if (!w.ok()) return Named(w.status(), "Failed to create backup object in " + container_);
  obj.writer = std::move(w).value();
  Status st = sparse ? obj.writer->AppendZeros(len) : obj.writer->Append(body, static_cast<size_t>(body_len));
  // A large object is fsync'd by the thread that wrote it (the writeback overlaps the other
  // threads' work and the dirty page cache stays small: measured faster here than one sync at
  // the end); small ones (an incremental's) are left to the one syncfs before _metadata.
  if (st.ok()) st = obj.writer->Finish(o_.sync && body_len >= kSyncEachBytes);
  if (!st.ok()) return Named(st, "Failed to write backup object in " + container_);
  obj.stored = sparse ? len : body_len;
  out->objects.push_back(std::move(obj));
  watch.Lap(&ns_write_);
  return Status::OK();
}

Status BackupRun::DoUnit(int64_t unit, std::vector<char>* buf, std::vector<char>* cbuf, Compressor* comp,
                         Hasher* hasher, UnitResult* out) {
  Stopwatch watch;
  const int64_t off = unit * o_.unit;
  const int64_t len = std::min(o_.unit, size_ - off);
  // A unit with no data (a hole) is zeros without reading it.
  bool zero = false;
  auto ext = source_->NextData(off);
  if (!ext.ok()) return Named(ext.status(), "Failed to read the volume at offset " + std::to_string(off));
  if (ext->length == 0 || ext->offset >= off + len) zero = true;
  if (!zero) {
    if (buf->empty()) {
      buf->resize(static_cast<size_t>(o_.unit));
      buffers_.fetch_add(1);
    }
    Status st = source_->ReadAt(off, buf->data(), static_cast<size_t>(len));
    if (!st.ok()) return Named(st, "Failed to read the volume at offset " + std::to_string(off));
    out->bytes_read = len;
    zero = IsAllZero(buf->data(), static_cast<size_t>(len));
  }
  watch.Lap(&ns_read_);
  const int64_t nblocks = (len + o_.block - 1) / o_.block;
  const int64_t first_block = off / o_.block;
  out->shas.resize(static_cast<size_t>(nblocks));
  out->fps.resize(static_cast<size_t>(nblocks));
  std::vector<char> zero_block(static_cast<size_t>(nblocks), 0);
  // A full backup cuts a whole unit into kSegments objects whose md5s are taken together, in
  // the lanes of AVX2 registers (md5 is the costliest hash here: ~5 cycles a byte on one
  // stream). A shorter unit (the volume's last) is one object, its md5 taken block by block with
  // the SHA-256s while each block is in the cache. A zero block's SHA-256 is the cached one.
  const bool split = parent_.empty() && !zero && len == o_.unit && o_.unit % (kSegments * o_.block) == 0;
  const bool md5_here = parent_.empty() && !zero && !split;
  int64_t zeros_pending = 0;
  if (md5_here) hasher->Md5Begin();
  for (int64_t b = 0; b < nblocks; ++b) {
    const char* p = zero ? nullptr : buf->data() + b * o_.block;
    const int64_t blen = std::min(o_.block, len - b * o_.block);
    if (zero || IsAllZero(p, static_cast<size_t>(blen))) {
      out->shas[b] = Zeros::Get().Sha(blen);
      out->fps[b] = blen == o_.block ? zero_fp_ : BlockFingerprint(Zeros::Get().Buffer(blen), blen, seed_);
      zero_block[b] = 1;
      zeros_pending += blen;
      continue;
    }
    out->fps[b] = BlockFingerprint(p, static_cast<size_t>(blen), seed_);
    if (!parent_fp_.empty() && out->fps[b] == parent_fp_[first_block + b]) {
      out->shas[b] = parent_[first_block + b];  // unchanged since the parent
    } else {
      out->shas[b] = hasher->Sha256(p, static_cast<size_t>(blen));
      ++out->sha_blocks;
    }
    if (md5_here) {
      if (zeros_pending > 0) hasher->Md5Update(p - zeros_pending, static_cast<size_t>(zeros_pending));
      zeros_pending = 0;
      hasher->Md5Update(p, static_cast<size_t>(blen));
    }
  }
  std::string md5;
  if (md5_here) {
    if (zeros_pending > 0) hasher->Md5Update(buf->data() + len - zeros_pending, static_cast<size_t>(zeros_pending));
    md5 = hasher->Md5HexEnd();
  }
  watch.Lap(&ns_hash_);
  const char* data = zero ? nullptr : buf->data();
  if (split) {
    const int64_t seg = len / kSegments, seg_blocks = seg / o_.block;
    const char* parts[kSegments];
    std::string md5s[kSegments];
    for (int i = 0; i < kSegments; ++i) parts[i] = data + i * seg;
    Md5x8(parts, static_cast<size_t>(seg), md5s);
    watch.Lap(&ns_hash_);
    for (int i = 0; i < kSegments; ++i) {
      const bool seg_zero = std::all_of(zero_block.begin() + i * seg_blocks, zero_block.begin() + (i + 1) * seg_blocks,
                                        [](char z) { return z != 0; });
      CINDER_RETURN_IF_ERROR(CutObject(unit, i, seg_zero ? nullptr : parts[i], off + i * seg, seg, seg_zero,
                                       std::move(md5s[i]), cbuf, comp, hasher, out));
    }
    return Status::OK();
  }
  if (parent_.empty()) return CutObject(unit, 0, data, off, len, zero, std::move(md5), cbuf, comp, hasher, out);
  // Incremental: each maximal run of blocks whose hash changed is one object.
  int index = 0;
  for (int64_t b = 0; b < nblocks;) {
    if (out->shas[b] == parent_[first_block + b]) {
      ++b;
      continue;
    }
    int64_t e = b;
    bool run_zero = true;
    while (e < nblocks && out->shas[e] != parent_[first_block + e]) {
      run_zero = run_zero && zero_block[e];
      ++e;
    }
    const int64_t ro = b * o_.block, rl = std::min(e * o_.block, len) - ro;
    CINDER_RETURN_IF_ERROR(CutObject(unit, index++, run_zero ? nullptr : data + ro, off + ro, rl, run_zero,
                                     std::string(), cbuf, comp, hasher, out));
    b = e;
  }
  return Status::OK();
}

void BackupRun::Worker() {
  std::vector<char> buf, cbuf;
  auto comp = Compressor::New(o_.codec, o_.level);
  Hasher hasher;
  while (!failed_.load()) {
    const int64_t unit = next_unit_.fetch_add(1);
    if (unit >= units_) break;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return failed_.load() || unit < committing_ + kWindow; });
      if (failed_.load()) break;
    }
    UnitResult r;
    Status st = DoUnit(unit, &buf, &cbuf, comp.get(), &hasher, &r);
    if (!st.ok()) {
      Fail(std::move(st));
      break;
    }
    std::lock_guard<std::mutex> l(mu_);
    done_.emplace(unit, std::move(r));
    cv_.notify_all();
  }
}

Status BackupRun::Commit(int64_t unit, UnitResult* r) {
  for (PendingObject& p : r->objects) {
    ObjectEntry e;
    e.name = ObjectName(prefix_, next_object_);
    Status st = p.writer->Publish(e.name);
    if (!st.ok()) return Named(st, "Failed to write backup object " + e.name);
    published_.push_back(e.name);
    ++next_object_;
    e.compression = p.compression;
    e.length = p.length;
    e.md5 = std::move(p.md5);
    e.offset = p.offset;
    bytes_stored_ += p.stored;
    BackupMetrics::Get().stored_bytes.Inc(static_cast<uint64_t>(p.stored));
    entries_.push_back(std::move(e));
  }
  bytes_read_ += r->bytes_read;
  BackupMetrics::Get().read_bytes.Inc(static_cast<uint64_t>(r->bytes_read));
  sha_blocks_ += r->sha_blocks;
  if (Status st = fp_writer_->Append(r->fps); !st.ok()) {
    return Named(st, "Failed to write backup object " + FingerprintsName(prefix_));
  }
  for (const Sha256Digest& d : r->shas) {
    AppendSha256FileEntry(&sha_chunk_, !any_sha_, d);
    any_sha_ = true;
  }
  if (sha_chunk_.size() >= (256 << 10) || unit + 1 == units_) {
    Status st = sha_writer_->Append(sha_chunk_.data(), sha_chunk_.size());
    if (!st.ok()) return Named(st, "Failed to write backup object " + Sha256FileName(prefix_));
    sha_chunk_.clear();
  }
  return Status::OK();
}

void BackupRun::Cleanup() {
  sha_writer_.reset();
  fp_writer_.reset();
  (void)store_->Delete(container_, FingerprintsName(prefix_));
  {
    std::lock_guard<std::mutex> l(mu_);
    done_.clear();  // unpublished temporary files go with their writers
  }
  for (const std::string& n : published_) (void)store_->Delete(container_, n);
  // Anything else of this backup's (a JSON file, a temporary file of an earlier attempt).
  if (auto names = store_->List(container_, prefix_); names.ok()) {
    for (const std::string& n : *names) (void)store_->Delete(container_, n);
  }
  if (auto names = store_->List(container_, std::string(kTempPrefix) + prefix_); names.ok()) {
    for (const std::string& n : *names) (void)store_->Delete(container_, n);
  }
  if (created_container_) (void)store_->RemoveEmptyContainer(container_);
}

Result<BackupOutcome> BackupRun::Run() {
  container_ = job_.container.empty() ? DefaultContainer(job_.backup_id) : job_.container;
  CINDER_RETURN_IF_ERROR(ValidateContainer(container_));
  prefix_ = ObjectPrefix(job_);
  auto size = source_->Size();
  if (!size.ok()) return Named(size.status(), "Failed to read the volume's size");
  size_ = *size;
  units_ = (size_ + o_.unit - 1) / o_.unit;

  if (job_.parent) {
    const ParentRef& p = *job_.parent;
    if (!p.volume_id.empty() && p.volume_id != job_.volume_id) {
      return FailedPrecondition("The parent backup " + p.backup_id + " is not a backup of volume " + job_.volume_id +
                                ". Do a full backup.");
    }
    if (p.size_bytes > 0 && size_ > p.size_bytes) {
      return FailedPrecondition("Volume size increased since the last backup. Do a full backup.");
    }
    auto parsed = ReadSha256File(store_, p.container, Sha256FileName(p.service_metadata));
    if (!parsed.ok()) return Named(parsed.status(), "The parent backup " + p.backup_id);
    if (parsed->header.chunk_size != o_.block) {
      return FailedPrecondition(
          "Hash block size has changed since the last backup. New hash block size: " + std::to_string(o_.block) +
          ". Old hash block size: " + std::to_string(parsed->header.chunk_size) + ". Do a full backup.");
    }
    const int64_t need = (size_ + o_.block - 1) / o_.block;
    if (static_cast<int64_t>(parsed->sha256s.size()) < need) {
      return FailedPrecondition("Volume size increased since the last backup. Do a full backup.");
    }
    parent_ = std::move(parsed->sha256s);
    // The parent's fingerprints, when it has usable ones: then only changed blocks are hashed.
    auto fps = ReadFingerprints(store_, p.container, p.service_metadata, o_.block);
    if (fps.ok() && static_cast<int64_t>(fps->blocks.size()) >= need) {
      seed_ = fps->seed;
      parent_fp_ = std::move(fps->blocks);
    }
  }
  if (parent_fp_.empty()) seed_ = NewFingerprintSeed();
  {
    const std::string zeros(static_cast<size_t>(o_.block), '\0');
    zero_fp_ = BlockFingerprint(zeros.data(), zeros.size(), seed_);
  }

  created_container_ = store_->List(container_, "\x01").status().code() == Code::kNotFound;
  CINDER_RETURN_IF_ERROR(store_->CreateContainer(container_));

  Sha256FileHeader head;
  head.backup_description = job_.description;
  head.backup_id = job_.backup_id;
  head.backup_name = job_.name;
  head.chunk_size = o_.block;
  head.created_at = PythonDatetime(job_.created_at);
  head.volume_id = job_.volume_id;
  {
    auto w = store_->NewObject(container_, Sha256FileName(prefix_));
    if (!w.ok()) {
      Status st = Named(w.status(), "Failed to create backup object " + Sha256FileName(prefix_));
      Cleanup();
      return st;
    }
    sha_writer_ = std::move(w).value();
    sha_chunk_ = Sha256FileHead(head);
    auto fw =
        FingerprintsWriter::Start(store_, container_, prefix_, o_.block, seed_, (size_ + o_.block - 1) / o_.block);
    if (!fw.ok()) {
      Status st = Named(fw.status(), "Failed to create backup object " + FingerprintsName(prefix_));
      Cleanup();
      return st;
    }
    fp_writer_ = std::move(fw).value();
  }

  std::vector<std::thread> threads;
  const int nthreads = static_cast<int>(std::min<int64_t>(o_.threads, std::max<int64_t>(units_, 1)));
  for (int i = 0; i < nthreads; ++i) threads.emplace_back([this] { Worker(); });

  using Clock = std::chrono::steady_clock;
  auto last_progress = Clock::now();
  Status st;
  for (int64_t unit = 0; unit < units_; ++unit) {
    UnitResult r;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return failed_.load() || done_.count(unit) > 0; });
      if (failed_.load()) break;
      auto it = done_.find(unit);
      r = std::move(it->second);
      done_.erase(it);
    }
    st = Commit(unit, &r);
    {
      std::lock_guard<std::mutex> l(mu_);
      committing_ = unit + 1;
      cv_.notify_all();
    }
    if (!st.ok()) {
      Fail(st);
      break;
    }
    if (progress_ && Clock::now() - last_progress >= std::chrono::seconds(1)) {
      last_progress = Clock::now();
      if (!progress_(std::min(size_, (unit + 1) * o_.unit), size_)) {
        Fail(Aborted("Backup cancelled."));
        break;
      }
    }
  }
  for (std::thread& t : threads) t.join();
  {
    std::lock_guard<std::mutex> l(mu_);
    st = status_;
  }
  if (st.ok() && units_ == 0 && !sha_chunk_.empty()) {
    Status a = sha_writer_->Append(sha_chunk_.data(), sha_chunk_.size());
    sha_chunk_.clear();
    if (!a.ok()) st = Named(a, "Failed to write backup object " + Sha256FileName(prefix_));
  }
  if (st.ok()) {
    const std::string tail = Sha256FileTail(head, any_sha_);
    st = sha_writer_->Append(tail.data(), tail.size());
    if (st.ok()) st = sha_writer_->Commit(/*sync=*/false);
    if (!st.ok()) st = Named(st, "Failed to write backup object " + Sha256FileName(prefix_));
  }
  if (st.ok()) {
    published_.push_back(Sha256FileName(prefix_));
    st = fp_writer_->Commit(/*sync=*/false);  // made durable with the rest by SyncContainer
    if (!st.ok()) st = Named(st, "Failed to write backup object " + FingerprintsName(prefix_));
  }
  if (st.ok()) {
    BackupMetadata m;
    m.backup_description = job_.description;
    m.backup_id = job_.backup_id;
    m.backup_name = job_.name;
    m.created_at = head.created_at;
    m.objects = std::move(entries_);
    if (job_.parent) m.parent_id = job_.parent->backup_id;
    m.volume_id = job_.volume_id;
    if (!job_.volume_meta.empty()) m.volume_meta = job_.volume_meta;
    const std::string text = SerializeMetadata(m);
    auto w = store_->NewObject(container_, MetadataName(prefix_));
    st = w.ok() ? (*w)->Append(text.data(), text.size()) : w.status();
    // The objects and the hash list are durable before the metadata names them.
    if (st.ok() && o_.sync) st = store_->SyncContainer(container_);
    if (st.ok()) st = (*w)->Commit(o_.sync);
    if (st.ok() && o_.sync) st = store_->SyncContainer(container_);
    if (!st.ok()) st = Named(st, "Failed to write backup object " + MetadataName(prefix_));
  }
  if (st.ok() && progress_ && !progress_(size_, size_)) st = Aborted("Backup cancelled.");
  if (!st.ok()) {
    Cleanup();
    return st;
  }
  BackupOutcome out;
  out.container = container_;
  out.service_metadata = prefix_;
  out.object_count = next_object_ - 1;
  out.bytes_stored = bytes_stored_;
  out.bytes_read = bytes_read_;
  out.peak_buffers = buffers_.load();
  out.sha_blocks = sha_blocks_;
  out.parent_fingerprints = !parent_fp_.empty();
  out.read_seconds = static_cast<double>(ns_read_.load()) * 1e-9;
  out.hash_seconds = static_cast<double>(ns_hash_.load()) * 1e-9;
  out.compress_seconds = static_cast<double>(ns_compress_.load()) * 1e-9;
  out.write_seconds = static_cast<double>(ns_write_.load()) * 1e-9;
  return out;
}

}  // namespace

std::string ObjectPrefix(const BackupJob& job) {
  return MakePrefix(job.volume_id, job.backup_id, job.start_time ? *job.start_time : std::chrono::system_clock::now());
}

std::string ContainerName(const BackupJob& job) {
  return job.container.empty() ? DefaultContainer(job.backup_id) : job.container;
}

Result<BackupOutcome> RunBackup(const PipelineOptions& options, ObjectStore* store, const BackupJob& job,
                                VolumeSource* source, const Progress& progress) {
  auto o = Resolve(options);
  if (!o.ok()) return o.status();
  BackupRun run(*o, store, job, source, progress);
  return run.Run();
}

}  // namespace cinder::backup

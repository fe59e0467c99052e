// RunRestore: a chain of backups (full first) onto a volume, each needed object read once.
// Every layer's _metadata is read first; an ownership map over the volume's SHA blocks gives
// each block to the newest layer with an object covering it; the objects that own at least one
// block are then restored by T threads, each streaming one object at a time through its
// decompressor in unit-sized pieces (so an object of any size needs one unit buffer and one
// input buffer), checking the md5 of the whole object and the SHA-256 of each block it writes
// against the requested backup's _sha256file, and writing only the blocks it owns. A full
// backup's unit (eight objects side by side) is decoded whole into one of the worker's two
// aligned buffers, verified, and written as one piece by a writer thread (past the page cache:
// VolumeSink::WriteAt of a file is File::WriteDirectAt) while the worker fills the other.
// In a chain, such a piece is written whole even where a newer layer owns some of its blocks (the
// stale blocks are not verified, and the newer layer writes over them): cutting it around them
// made many smaller writes and left holes filled later, and the chain restored 25-30% slower than
// its full backup alone. The layers are therefore written in order: no object of a layer is
// applied before every write of the older layers is done (a barrier per layer).
// Also DeleteBackupObjects and CheckBackupReadable.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
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

Status Named(const Status& st, const std::string& what) { return Status(st.code(), what + ": " + st.message()); }

Status Corrupt(const std::string& msg) { return Status(Code::kInternal, msg).ForUser(); }

Result<std::string> ReadWhole(ObjectStore* store, const std::string& container, const std::string& name) {
  auto r = store->OpenObject(container, name);
  if (!r.ok()) return Named(r.status(), "Failed to read backup object " + name);
  auto size = (*r)->Size();
  if (!size.ok()) return Named(size.status(), "Failed to read backup object " + name);
  std::string text(static_cast<size_t>(*size), '\0');
  auto got = (*r)->ReadAt(0, text.data(), text.size());
  if (!got.ok()) return Named(got.status(), "Failed to read backup object " + name);
  text.resize(*got);
  return text;
}

Result<BackupMetadata> ReadMetadata(ObjectStore* store, const std::string& container, const std::string& prefix) {
  auto text = ReadWhole(store, container, MetadataName(prefix));
  if (!text.ok()) return text.status();
  auto md = ParseMetadata(*text);
  if (!md.ok()) return Named(md.status(), MetadataName(prefix));
  if (md->version != kFormatVersion) {
    return FailedPrecondition("No support to restore backup version " + md->version);
  }
  return md;
}

constexpr uint32_t kNoOwner = UINT32_MAX;
// Threads that write verified batches to the volume (a queue depth of two for the disk).
constexpr int kWriters = 2;

struct FlatObject {
  int layer = 0;
  const ObjectEntry* entry = nullptr;
};

// A worker's output buffer and how many of its writes are still queued (guarded by
// RestoreRun::wmu_).
struct Slot {
  AlignedBuffer buf;
  int pending = 0;
};
struct PendingWrite {
  int64_t at;
  const char* data;
  int64_t len;
};

class RestoreRun {
 public:
  RestoreRun(const ResolvedOptions& o, ObjectStore* store, const std::vector<RestoreLayer>& chain, VolumeSink* sink,
             const Progress& progress)
      : o_(o), store_(store), chain_(chain), sink_(sink), progress_(progress) {}
  Result<RestoreOutcome> Run();

 private:
  void Worker();
  // The writer threads: a verified batch is written while its worker decodes the next into its
  // other slot, so the disk's time overlaps the decoding and hashing.
  void Writer();
  void Submit(Slot* slot, const std::vector<PendingWrite>& writes);
  void WaitIdle(Slot* slot);
  Status RestoreObject(uint32_t id, std::vector<char>* in, AlignedBuffer* out, Hasher* hasher,
                       std::map<CodecKind, std::unique_ptr<Decompressor>>* decs);
  // Verifies and writes the owned blocks of out[0, n), which is object `id`'s bytes from
  // volume offset `voff`.
  // Eight objects of the same length that fit in the unit buffer together (a full backup's unit
  // cut in eight): each decoded whole into its eighth of `out`, their md5s taken together
  // (Md5x8), then verified and written.
  // The writes go to the writer threads, from `slot`.
  Status RestoreBatch(const uint32_t ids[8], std::vector<char>* in, Slot* slot, Hasher* hasher,
                      std::map<CodecKind, std::unique_ptr<Decompressor>>* decs);
  // Decodes object `id` whole into dst[0, e.length).
  Status DecodeWhole(uint32_t id, std::vector<char>* in, char* dst,
                     std::map<CodecKind, std::unique_ptr<Decompressor>>* decs);
  // (md5_zero_pending null: the caller checks the md5.)
  // `ids`: the object whose bytes data[i * id_len, (i + 1) * id_len) are is ids[i] (several
  // objects side by side in the volume and in `data` go out in one write per run).
  // `defer`: the data writes are added to it instead of made (zeros are still made at once).
  Status Apply(const uint32_t* ids, int64_t id_len, int64_t voff, const char* data, int64_t n, Hasher* hasher,
               int64_t* md5_zero_pending, bool* md5_fed, std::vector<PendingWrite>* defer = nullptr);
  void Fail(Status st) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (status_.ok()) status_ = std::move(st);
      failed_.store(true);
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> l(wmu_);  // wakes the workers waiting at a layer's barrier
    wcv_.notify_all();
  }
  // Blocks until every object of the layers older than `layer` is applied and its writes done
  // (or the run failed). Once passed, a layer's barrier stays passed.
  void WaitForOlderLayers(int layer);
  // An object of the work list is applied (its writes, if deferred, may still be queued).
  void ObjectApplied();
  std::string Describe(uint32_t id) const {
    const FlatObject& f = flat_[id];
    return "backup object " + f.entry->name + " of backup " + chain_[f.layer].backup_id;
  }

  const ResolvedOptions& o_;
  ObjectStore* store_;
  const std::vector<RestoreLayer>& chain_;
  VolumeSink* sink_;
  const Progress& progress_;

  std::vector<BackupMetadata> layers_;
  std::vector<FlatObject> flat_;
  std::vector<uint32_t> owner_;  // per SHA block: the flat object that restores it
  std::vector<Sha256Digest> shas_;
  std::string sha_name_;
  int64_t volume_bytes_ = 0;
  bool is_new_ = false;
  std::vector<uint32_t> work_;
  // layer_start_[l]: the index in work_ of layer l's first object (work_ is in layer order).
  std::vector<size_t> layer_start_;
  std::unique_ptr<std::atomic<bool>[]> layer_open_;  // layer l's barrier passed

  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::atomic<int64_t> bytes_done_{0};
  std::atomic<int64_t> bytes_written_{0};
  std::atomic<int> running_{0};
  // Summed over threads: the workers' total, their applying (verify and inline writes), their
  // inline writes, and the writer threads' writes.
  std::atomic<int64_t> ns_total_{0}, ns_apply_{0}, ns_write_{0}, ns_writer_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  Status status_;  // guarded by mu_

  std::mutex wmu_;
  std::condition_variable wcv_;
  std::deque<std::pair<Slot*, PendingWrite>> wq_;  // guarded by wmu_
  bool wdone_ = false;                             // guarded by wmu_
  int64_t writes_pending_ = 0;                     // queued or being written; guarded by wmu_
  size_t applied_ = 0;                             // objects of work_ applied; guarded by wmu_
};

Status RestoreRun::Apply(const uint32_t* ids, int64_t id_len, int64_t voff, const char* data, int64_t n, Hasher* hasher,
                         int64_t* md5_zero_pending, bool* md5_fed, std::vector<PendingWrite>* defer) {
  const auto apply_start = std::chrono::steady_clock::now();
  const int64_t first = voff / o_.block;
  // The owned blocks go out as runs: data written, zeros made a hole (an existing volume) or
  // skipped (a new one, which reads as zeros).
  enum class Run { kNone, kData, kZero };
  Run run = Run::kNone;
  int64_t run_start = 0;
  auto flush = [&](int64_t end) -> Status {
    const Run kind = run;
    run = Run::kNone;
    if (kind == Run::kNone || end <= run_start) return Status::OK();
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t at = voff + run_start, len = end - run_start;
    if (kind == Run::kData && defer != nullptr) {
      defer->push_back({at, data + run_start, len});
      bytes_written_.fetch_add(len);
      BackupMetrics::Get().restored_bytes.Inc(static_cast<uint64_t>(len));
      return Status::OK();
    }
    Status st =
        kind == Run::kData ? sink_->WriteAt(at, data + run_start, static_cast<size_t>(len)) : sink_->Zero(at, len);
    if (!st.ok()) return Named(st, "Failed to write the volume at offset " + std::to_string(at));
    if (kind == Run::kData) {
      bytes_written_.fetch_add(len);
      BackupMetrics::Get().restored_bytes.Inc(static_cast<uint64_t>(len));
    }
    ns_write_.fetch_add(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    return Status::OK();
  };
  auto extend = [&](Run kind, int64_t pos) -> Status {
    if (run == kind) return Status::OK();
    CINDER_RETURN_IF_ERROR(flush(pos));
    run = kind;
    run_start = pos;
    return Status::OK();
  };
  int64_t owned_bytes = 0;
  for (int64_t pos = 0; pos < n; pos += o_.block) {
    const int64_t blen = std::min(o_.block, n - pos);
    const char* b = data + pos;
    const bool z = IsAllZero(b, static_cast<size_t>(blen));
    if (o_.verify && md5_zero_pending != nullptr) {
      if (z) {
        *md5_zero_pending += blen;
      } else {
        if (*md5_zero_pending > 0) {
          for (int64_t left = *md5_zero_pending; left > 0;) {
            const int64_t k = std::min<int64_t>(left, 4 << 20);
            hasher->Md5Update(Zeros::Get().Buffer(k), static_cast<size_t>(k));
            left -= k;
          }
          *md5_zero_pending = 0;
        }
        hasher->Md5Update(b, static_cast<size_t>(blen));
        *md5_fed = true;
      }
    }
    const int64_t gb = first + pos / o_.block;
    const uint32_t id = ids[pos / id_len];
    if (owner_[gb] != id) {
      // A newer layer's block inside a piece that goes out whole: written stale, unverified,
      // and written over by that layer (the layers' barrier orders the writes).
      if (defer != nullptr && owner_[gb] != kNoOwner && flat_[owner_[gb]].layer > flat_[id].layer) {
        CINDER_RETURN_IF_ERROR(extend(Run::kData, pos));
      } else {
        CINDER_RETURN_IF_ERROR(flush(pos));
      }
      continue;
    }
    owned_bytes += blen;
    if (o_.verify) {
      const Sha256Digest d = z ? Zeros::Get().Sha(blen) : hasher->Sha256(b, static_cast<size_t>(blen));
      if (d != shas_[gb]) {
        return Corrupt("Restore failed: " + Describe(id) + " is corrupt: the block at volume offset " +
                       std::to_string(gb * o_.block) + " does not match its SHA-256 in " + sha_name_ + ".");
      }
    }
    // A new volume reads as zeros, unless an older layer wrote this block stale (see above).
    if (z && is_new_ && flat_[id].layer == 0) {
      CINDER_RETURN_IF_ERROR(flush(pos));
      continue;
    }
    CINDER_RETURN_IF_ERROR(extend(z ? Run::kZero : Run::kData, pos));
  }
  CINDER_RETURN_IF_ERROR(flush(n));
  bytes_done_.fetch_add(owned_bytes);
  ns_apply_.fetch_add(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - apply_start).count());
  return Status::OK();
}

Status RestoreRun::RestoreObject(uint32_t id, std::vector<char>* in, AlignedBuffer* out, Hasher* hasher,
                                 std::map<CodecKind, std::unique_ptr<Decompressor>>* decs) {
  const FlatObject& f = flat_[id];
  const ObjectEntry& e = *f.entry;
  const RestoreLayer& layer = chain_[f.layer];
  auto codec = ParseCodec(e.compression);
  if (!codec.ok()) return Corrupt("Restore failed: " + Describe(id) + ": " + codec.status().message());
  auto reader = store_->OpenObject(layer.container, e.name);
  if (!reader.ok()) return Named(reader.status(), "Failed to read " + Describe(id));
  if (out->empty()) out->resize(static_cast<size_t>(o_.unit));
  if (o_.verify) hasher->Md5Begin();
  int64_t md5_zero_pending = 0;
  bool md5_fed = false;

  int64_t obj_pos = 0;  // uncompressed bytes of the object done
  int64_t in_pos = 0;   // compressed bytes read
  if (*codec == CodecKind::kNone) {
    while (obj_pos < e.length) {
      const int64_t n = std::min<int64_t>(o_.unit, e.length - obj_pos);
      auto got = (*reader)->ReadAt(obj_pos, out->data(), static_cast<size_t>(n));
      if (!got.ok()) return Named(got.status(), "Failed to read " + Describe(id));
      if (static_cast<int64_t>(*got) < n) {
        return Corrupt("Restore failed: " + Describe(id) + " is corrupt: it is shorter than its length " +
                       std::to_string(e.length) + ".");
      }
      CINDER_RETURN_IF_ERROR(
          Apply(&id, e.length, e.offset + obj_pos, out->data(), n, hasher, &md5_zero_pending, &md5_fed));
      obj_pos += n;
      if (failed_.load()) return Status::OK();
    }
  } else {
    auto& dec = (*decs)[*codec];
    if (!dec) dec = Decompressor::New(*codec);
    CINDER_RETURN_IF_ERROR(dec->Reset());
    if (in->empty()) in->resize(1 << 20);
    const char* ip = in->data();
    size_t in_left = 0;
    bool eof = false, done = false;
    while (true) {
      // Fill the unit buffer (one byte more than the object has left, to see excess output).
      size_t out_len = 0;
      const size_t cap = static_cast<size_t>(std::min<int64_t>(o_.unit, e.length - obj_pos + 1));
      while (out_len < cap) {
        if (in_left == 0 && !eof) {
          auto got = (*reader)->ReadAt(in_pos, in->data(), in->size());
          if (!got.ok()) return Named(got.status(), "Failed to read " + Describe(id));
          in_pos += static_cast<int64_t>(*got);
          ip = in->data();
          in_left = *got;
          if (*got == 0) eof = true;
        }
        if (in_left == 0 && eof) break;
        const size_t before_in = in_left, before_out = out_len;
        Status st = dec->Step(&ip, &in_left, out->data(), cap, &out_len, &done);
        if (!st.ok()) return Corrupt("Restore failed: " + Describe(id) + " is corrupt: " + st.message());
        if (in_left == before_in && out_len == before_out) {
          if (in_left == 0) continue;  // wants more input
          break;                       // stream ended with bytes after it
        }
      }
      if (obj_pos + static_cast<int64_t>(out_len) > e.length) {
        return Corrupt("Restore failed: " + Describe(id) + " is corrupt: it holds more than its length " +
                       std::to_string(e.length) + ".");
      }
      if (out_len == 0) break;
      CINDER_RETURN_IF_ERROR(Apply(&id, e.length, e.offset + obj_pos, out->data(), static_cast<int64_t>(out_len),
                                   hasher, &md5_zero_pending, &md5_fed));
      obj_pos += static_cast<int64_t>(out_len);
      if (failed_.load()) return Status::OK();
      if (obj_pos == e.length && in_left == 0 && eof) break;
    }
    if (!done || in_left > 0) {
      return Corrupt("Restore failed: " + Describe(id) + " is corrupt: its " + e.compression +
                     " stream is truncated or has data after its end.");
    }
  }
  if (obj_pos != e.length) {
    return Corrupt("Restore failed: " + Describe(id) + " is corrupt: it holds " + std::to_string(obj_pos) +
                   " bytes, its metadata says " + std::to_string(e.length) + ".");
  }
  if (o_.verify) {
    std::string md5;
    if (!md5_fed) {
      md5 = Zeros::Get().Md5(e.length);
    } else {
      for (int64_t left = md5_zero_pending; left > 0;) {
        const int64_t k = std::min<int64_t>(left, 4 << 20);
        hasher->Md5Update(Zeros::Get().Buffer(k), static_cast<size_t>(k));
        left -= k;
      }
      md5 = hasher->Md5HexEnd();
    }
    if (md5 != e.md5) {
      return Corrupt("Restore failed: " + Describe(id) + " is corrupt: its md5 is " + md5 + ", its metadata says " +
                     e.md5 + ".");
    }
  }
  return Status::OK();
}

Status RestoreRun::DecodeWhole(uint32_t id, std::vector<char>* in, char* dst,
                               std::map<CodecKind, std::unique_ptr<Decompressor>>* decs) {
  const FlatObject& f = flat_[id];
  const ObjectEntry& e = *f.entry;
  auto codec = ParseCodec(e.compression);
  if (!codec.ok()) return Corrupt("Restore failed: " + Describe(id) + ": " + codec.status().message());
  auto reader = store_->OpenObject(chain_[f.layer].container, e.name);
  if (!reader.ok()) return Named(reader.status(), "Failed to read " + Describe(id));
  const size_t len = static_cast<size_t>(e.length);
  if (*codec == CodecKind::kNone) {
    auto got = (*reader)->ReadAt(0, dst, len);
    if (!got.ok()) return Named(got.status(), "Failed to read " + Describe(id));
    if (*got < len) {
      return Corrupt("Restore failed: " + Describe(id) + " is corrupt: it is shorter than its length " +
                     std::to_string(e.length) + ".");
    }
    return Status::OK();
  }
  auto& dec = (*decs)[*codec];
  if (!dec) dec = Decompressor::New(*codec);
  CINDER_RETURN_IF_ERROR(dec->Reset());
  if (in->empty()) in->resize(1 << 20);
  const char* ip = in->data();
  size_t in_left = 0, out_len = 0;
  int64_t in_pos = 0;
  bool eof = false, done = false;
  while (true) {
    if (in_left == 0 && !eof) {
      auto got = (*reader)->ReadAt(in_pos, in->data(), in->size());
      if (!got.ok()) return Named(got.status(), "Failed to read " + Describe(id));
      in_pos += static_cast<int64_t>(*got);
      ip = in->data();
      in_left = *got;
      eof = *got == 0;
    }
    if (in_left == 0 && eof) break;
    const size_t before_in = in_left, before_out = out_len;
    Status st = dec->Step(&ip, &in_left, dst, len, &out_len, &done);
    if (!st.ok()) return Corrupt("Restore failed: " + Describe(id) + " is corrupt: " + st.message());
    if (in_left == before_in && out_len == before_out && in_left > 0) break;  // full, or data after the end
  }
  if (out_len != len || !done || in_left > 0) {
    return Corrupt("Restore failed: " + Describe(id) + " is corrupt: its " + e.compression +
                   " stream does not hold exactly its length " + std::to_string(e.length) + ".");
  }
  return Status::OK();
}

Status RestoreRun::RestoreBatch(const uint32_t ids[8], std::vector<char>* in, Slot* slot, Hasher* hasher,
                                std::map<CodecKind, std::unique_ptr<Decompressor>>* decs) {
  const int64_t len = flat_[ids[0]].entry->length;
  WaitIdle(slot);  // its last batch is written
  AlignedBuffer* out = &slot->buf;
  if (static_cast<int64_t>(out->size()) < 8 * len) out->resize(static_cast<size_t>(std::max(o_.unit, 8 * len)));
  const char* parts[8];
  for (int k = 0; k < 8; ++k) {
    char* dst = out->data() + k * len;
    CINDER_RETURN_IF_ERROR(DecodeWhole(ids[k], in, dst, decs));
    parts[k] = dst;
  }
  if (o_.verify) {
    std::string md5s[8];
    Md5x8(parts, static_cast<size_t>(len), md5s);
    for (int k = 0; k < 8; ++k) {
      const ObjectEntry& e = *flat_[ids[k]].entry;
      if (md5s[k] != e.md5) {
        return Corrupt("Restore failed: " + Describe(ids[k]) + " is corrupt: its md5 is " + md5s[k] +
                       ", its metadata says " + e.md5 + ".");
      }
    }
  }
  // Side by side in the volume too (a full backup's unit): verified and written as one piece.
  const int64_t start = flat_[ids[0]].entry->offset;
  bool adjacent = true;
  for (int k = 1; k < 8; ++k) adjacent = adjacent && flat_[ids[k]].entry->offset == start + k * len;
  std::vector<PendingWrite> writes;
  if (adjacent) {
    CINDER_RETURN_IF_ERROR(Apply(ids, len, start, parts[0], 8 * len, hasher, nullptr, nullptr, &writes));
  } else {
    for (int k = 0; k < 8; ++k) {
      CINDER_RETURN_IF_ERROR(
          Apply(&ids[k], len, flat_[ids[k]].entry->offset, parts[k], len, hasher, nullptr, nullptr, &writes));
    }
  }
  Submit(slot, writes);
  return Status::OK();
}

void RestoreRun::Submit(Slot* slot, const std::vector<PendingWrite>& writes) {
  if (writes.empty()) return;
  std::lock_guard<std::mutex> l(wmu_);
  for (const PendingWrite& w : writes) wq_.emplace_back(slot, w);
  slot->pending += static_cast<int>(writes.size());
  writes_pending_ += static_cast<int64_t>(writes.size());
  wcv_.notify_all();
}

void RestoreRun::ObjectApplied() {
  std::lock_guard<std::mutex> l(wmu_);
  ++applied_;
  wcv_.notify_all();
}

void RestoreRun::WaitForOlderLayers(int layer) {
  if (layer == 0 || layer_open_[layer].load(std::memory_order_acquire)) return;
  std::unique_lock<std::mutex> l(wmu_);
  // Nothing of this layer or a newer one is queued before its barrier passes, so once the older
  // layers' objects are all applied, an empty queue means their writes are done.
  wcv_.wait(l, [&] { return failed_.load() || (applied_ >= layer_start_[layer] && writes_pending_ == 0); });
  if (!failed_.load()) layer_open_[layer].store(true, std::memory_order_release);
}

void RestoreRun::WaitIdle(Slot* slot) {
  std::unique_lock<std::mutex> l(wmu_);
  wcv_.wait(l, [&] { return slot->pending == 0; });
}

void RestoreRun::Writer() {
  std::unique_lock<std::mutex> l(wmu_);
  while (true) {
    wcv_.wait(l, [&] { return !wq_.empty() || wdone_; });
    if (wq_.empty()) return;
    auto [slot, w] = wq_.front();
    wq_.pop_front();
    l.unlock();
    if (!failed_.load()) {  // after a failure the rest is dropped
      const auto t0 = std::chrono::steady_clock::now();
      Status st = sink_->WriteAt(w.at, w.data, static_cast<size_t>(w.len));
      if (!st.ok()) Fail(Named(st, "Failed to write the volume at offset " + std::to_string(w.at)));
      ns_writer_.fetch_add(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    }
    l.lock();
    --slot->pending;
    --writes_pending_;
    wcv_.notify_all();
  }
}

void RestoreRun::Worker() {
  std::vector<char> in;
  Slot slots[2];  // one being written while the other is filled
  int cur = 0;
  Hasher hasher;
  std::map<CodecKind, std::unique_ptr<Decompressor>> decs;
  while (!failed_.load()) {
    // Eight objects at a time: together when they are a full backup's unit, else one by one.
    const size_t i = next_.fetch_add(8);
    if (i >= work_.size()) break;
    const size_t n = std::min<size_t>(8, work_.size() - i);
    const int64_t len = flat_[work_[i]].entry->length;
    bool batch = n == 8 && len > 0 && 8 * len <= std::max<int64_t>(o_.unit, 4 << 20);
    for (size_t k = 1; batch && k < n; ++k) {
      // One layer: a batch's writes may go out in any order.
      batch = flat_[work_[i + k]].entry->length == len && flat_[work_[i + k]].layer == flat_[work_[i]].layer;
    }
    const auto t0 = std::chrono::steady_clock::now();
    Status st;
    if (batch) {
      // A batch's eight objects have one length and are in order, so one layer.
      WaitForOlderLayers(flat_[work_[i]].layer);
      st = RestoreBatch(&work_[i], &in, &slots[cur], &hasher, &decs);
      cur ^= 1;
      if (st.ok()) {
        for (int k = 0; k < 8; ++k) ObjectApplied();
      }
    } else {
      WaitIdle(&slots[cur]);
      for (size_t k = 0; k < n && st.ok() && !failed_.load(); ++k) {
        WaitForOlderLayers(flat_[work_[i + k]].layer);
        if (failed_.load()) break;
        st = RestoreObject(work_[i + k], &in, &slots[cur].buf, &hasher, &decs);
        if (st.ok()) ObjectApplied();
      }
    }
    ns_total_.fetch_add(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    if (!st.ok()) {
      Fail(std::move(st));
      break;
    }
  }
  // The slots' writes are done before their buffers go.
  WaitIdle(&slots[0]);
  WaitIdle(&slots[1]);
  std::lock_guard<std::mutex> l(mu_);
  --running_;
  cv_.notify_all();
}

Result<RestoreOutcome> RestoreRun::Run() {
  if (chain_.empty()) return InvalidArgument("Nothing to restore: the chain of backups is empty");
  // Every layer's metadata, and Cinder's check that its container holds exactly its objects.
  layers_.reserve(chain_.size());
  for (const RestoreLayer& l : chain_) {
    auto md = ReadMetadata(store_, l.container, l.service_metadata);
    if (!md.ok()) return Named(md.status(), "Backup " + l.backup_id);
    auto names = store_->List(l.container, l.service_metadata);
    if (!names.ok()) return Named(names.status(), "Backup " + l.backup_id + ": container " + l.container);
    std::vector<std::string> actual;
    for (std::string& n : *names) {
      if (n != MetadataName(l.service_metadata) && n != Sha256FileName(l.service_metadata)) {
        actual.push_back(std::move(n));
      }
    }
    std::vector<std::string> listed;
    listed.reserve(md->objects.size());
    for (const ObjectEntry& e : md->objects) listed.push_back(e.name);
    std::sort(actual.begin(), actual.end());
    std::sort(listed.begin(), listed.end());
    if (actual != listed) {
      return FailedPrecondition("Backup " + l.backup_id +
                                ": restore_backup aborted, actual object list does not match object list stored in "
                                "metadata.");
    }
    layers_.push_back(std::move(md).value());
  }
  for (int li = 0; li < static_cast<int>(layers_.size()); ++li) {
    for (const ObjectEntry& e : layers_[li].objects) {
      flat_.push_back({li, &e});
      volume_bytes_ = std::max(volume_bytes_, e.offset + e.length);
    }
  }
  if (flat_.size() >= kNoOwner) return InvalidArgument("Too many backup objects in the chain");
  for (uint32_t id = 0; id < flat_.size(); ++id) {
    const ObjectEntry& e = *flat_[id].entry;
    if (e.offset % o_.block != 0 || (e.length % o_.block != 0 && e.offset + e.length != volume_bytes_)) {
      return InvalidArgument("Restore failed: " + Describe(id) + " is not aligned to the hash block size " +
                             std::to_string(o_.block) + ".");
    }
  }
  const int64_t nblocks = (volume_bytes_ + o_.block - 1) / o_.block;

  const RestoreLayer& requested = chain_.back();
  if (o_.verify) {
    sha_name_ = Sha256FileName(requested.service_metadata);
    auto parsed = ReadSha256File(store_, requested.container, sha_name_);
    if (!parsed.ok()) return Named(parsed.status(), "Backup " + requested.backup_id);
    if (parsed->header.chunk_size != o_.block) {
      return FailedPrecondition("Backup " + requested.backup_id + " was made with hash block size " +
                                std::to_string(parsed->header.chunk_size) +
                                "; set backup_sha_block_size_bytes to it to restore it.");
    }
    if (static_cast<int64_t>(parsed->sha256s.size()) < nblocks) {
      return FailedPrecondition("Backup " + requested.backup_id + ": " + sha_name_ + " has " +
                                std::to_string(parsed->sha256s.size()) + " hashes, its objects cover " +
                                std::to_string(nblocks) + " blocks.");
    }
    shas_ = std::move(parsed->sha256s);
  }

  auto sink_size = sink_->Size();
  if (!sink_size.ok()) return Named(sink_size.status(), "Failed to read the volume's size");
  if (*sink_size < volume_bytes_) {
    return InvalidArgument("volume size " + std::to_string(*sink_size) + " is too small to restore backup of size " +
                           std::to_string(volume_bytes_) + ".");
  }
  is_new_ = sink_->IsNew();

  // Ownership, newest layer first; within a layer a later object wins, as a replay would.
  owner_.assign(static_cast<size_t>(nblocks), kNoOwner);
  {
    // flat_ is layer-major in layer order; ids of layer li start at base[li].
    std::vector<uint32_t> base(layers_.size() + 1, 0);
    for (size_t li = 0; li < layers_.size(); ++li) base[li + 1] = base[li] + layers_[li].objects.size();
    for (int li = static_cast<int>(layers_.size()) - 1; li >= 0; --li) {
      for (uint32_t id = base[li + 1]; id-- > base[li];) {
        const ObjectEntry& e = *flat_[id].entry;
        const int64_t b0 = e.offset / o_.block, b1 = (e.offset + e.length + o_.block - 1) / o_.block;
        bool owns = false;
        for (int64_t b = b0; b < b1; ++b) {
          if (owner_[b] == kNoOwner) {
            owner_[b] = id;
            owns = true;
          }
        }
        if (owns) work_.push_back(id);
      }
    }
  }
  // Layer by layer, each in volume order: a layer's objects of one length stay together, so the
  // workers' batches of eight (one md5 pass for eight objects) are not broken up by another
  // layer's objects between them. Every block has one owner, so the order is free.
  std::sort(work_.begin(), work_.end(), [&](uint32_t a, uint32_t b) {
    return std::make_pair(flat_[a].layer, flat_[a].entry->offset) <
           std::make_pair(flat_[b].layer, flat_[b].entry->offset);
  });
  layer_start_.assign(layers_.size(), work_.size());
  for (size_t i = work_.size(); i-- > 0;) layer_start_[flat_[work_[i]].layer] = i;
  for (size_t li = layers_.size() - 1; li-- > 0;) layer_start_[li] = std::min(layer_start_[li], layer_start_[li + 1]);
  layer_open_ = std::make_unique<std::atomic<bool>[]>(layers_.size());
  for (size_t li = 0; li < layers_.size(); ++li) layer_open_[li].store(false);

  // Blocks no object covers read as zeros.
  for (int64_t b = 0; b < nblocks;) {
    if (owner_[b] != kNoOwner) {
      ++b;
      continue;
    }
    int64_t e = b;
    while (e < nblocks && owner_[e] == kNoOwner) {
      const int64_t blen = std::min(o_.block, volume_bytes_ - e * o_.block);
      if (o_.verify && shas_[e] != Zeros::Get().Sha(blen)) {
        return Corrupt("Restore failed: backup " + requested.backup_id +
                       " has no object for the data at volume offset " + std::to_string(e * o_.block) + ".");
      }
      ++e;
    }
    if (!is_new_) {
      const int64_t end = std::min(e * o_.block, volume_bytes_);
      Status st = sink_->Zero(b * o_.block, end - b * o_.block);
      if (!st.ok()) return Named(st, "Failed to write the volume at offset " + std::to_string(b * o_.block));
    }
    b = e;
  }

  std::vector<std::thread> threads;
  const int nthreads = static_cast<int>(std::min<size_t>(o_.threads, std::max<size_t>(work_.size(), 1)));
  running_ = nthreads;
  for (int i = 0; i < nthreads; ++i) threads.emplace_back([this] { Worker(); });
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) writers.emplace_back([this] { Writer(); });
  {
    std::unique_lock<std::mutex> l(mu_);
    while (running_ > 0) {
      cv_.wait_for(l, std::chrono::seconds(1));
      if (running_ > 0 && progress_ && !failed_.load()) {
        l.unlock();
        const bool go_on = progress_(bytes_done_.load(), volume_bytes_);
        l.lock();
        if (!go_on && status_.ok()) {
          status_ = Aborted("Restore cancelled.");
          failed_.store(true);
          std::lock_guard<std::mutex> wl(wmu_);  // wakes the workers waiting at a layer's barrier
          wcv_.notify_all();
        }
      }
    }
  }
  for (std::thread& t : threads) t.join();
  {
    std::lock_guard<std::mutex> l(wmu_);
    wdone_ = true;
    wcv_.notify_all();
  }
  for (std::thread& t : writers) t.join();
  Status st;
  {
    std::lock_guard<std::mutex> l(mu_);
    st = status_;
  }
  if (!st.ok()) return st;
  if (o_.sync) {
    st = sink_->Sync();
    if (!st.ok()) return Named(st, "Failed to flush the restored volume");
  }
  if (progress_ && !progress_(volume_bytes_, volume_bytes_)) return Aborted("Restore cancelled.");
  RestoreOutcome out;
  for (const BackupMetadata& m : layers_) out.volume_meta.push_back(m.volume_meta.value_or(std::string()));
  out.bytes_written = bytes_written_.load();
  out.objects_read = static_cast<int64_t>(work_.size());
  out.read_seconds = static_cast<double>(ns_total_.load() - ns_apply_.load()) * 1e-9;
  out.hash_seconds = static_cast<double>(ns_apply_.load() - ns_write_.load()) * 1e-9;
  out.write_seconds = static_cast<double>(ns_write_.load() + ns_writer_.load()) * 1e-9;
  return out;
}

}  // namespace

Result<RestoreOutcome> RunRestore(const PipelineOptions& options, ObjectStore* store,
                                  const std::vector<RestoreLayer>& chain, VolumeSink* sink, const Progress& progress) {
  auto o = Resolve(options);
  if (!o.ok()) return o.status();
  RestoreRun run(*o, store, chain, sink, progress);
  return run.Run();
}

Status DeleteBackupObjects(ObjectStore* store, const std::string& container, const std::string& prefix) {
  if (prefix.empty()) return InvalidArgument("A backup without a prefix has no objects to delete");
  auto names = store->List(container, prefix);
  if (!names.ok()) return names.status().code() == Code::kNotFound ? Status::OK() : names.status();
  // The metadata first: a backup half deleted is then visibly incomplete.
  const std::string meta = MetadataName(prefix);
  if (std::find(names->begin(), names->end(), meta) != names->end()) {
    Status st = store->Delete(container, meta);
    if (!st.ok()) return Named(st, "Failed to delete backup object " + meta);
  }
  for (const std::string& n : *names) {
    if (n == meta) continue;
    Status st = store->Delete(container, n);
    if (!st.ok()) return Named(st, "Failed to delete backup object " + n);
  }
  if (Status st = store->Delete(container, FingerprintsName(prefix)); !st.ok()) {
    return Named(st, "Failed to delete backup object " + FingerprintsName(prefix));
  }
  for (const std::string& p : {prefix, FingerprintsName(prefix)}) {
    if (auto tmps = store->List(container, std::string(kTempPrefix) + p); tmps.ok()) {
      for (const std::string& n : *tmps) (void)store->Delete(container, n);
    }
  }
  return store->RemoveEmptyContainer(container);
}

Status CheckBackupReadable(ObjectStore* store, const std::string& container, const std::string& prefix) {
  auto md = ReadMetadata(store, container, prefix);
  return md.ok() ? Status::OK() : md.status();
}

}  // namespace cinder::backup

// What the backup and restore pipelines share: the options checked once, and what is known of
// zeros (their hashes and compressed forms are computed once per length, so zero and hole units
// cost nothing but a file creation).
#ifndef CINDER_BACKUP_ENGINE_COMMON_H_
#define CINDER_BACKUP_ENGINE_COMMON_H_

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <tuple>
#include <vector>

#include "backup/engine/chunked_format.h"
#include "backup/engine/codec.h"
#include "backup/engine/hashing.h"
#include "backup/pipeline.h"
#include "cinder/env.h"

namespace cinder::backup {

// A buffer aligned for File::WriteDirectAt: a restore's blocks go to the volume past the page
// cache, at the disk's speed (as Cinder's copy_volume uses dd's oflag=direct), rather than
// through gigabytes of cache that the final fsync must then flush.
class AlignedBuffer {
 public:
  char* data() { return p_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Grows to `n` bytes (the contents are not kept).
  void resize(size_t n) {
    if (n <= size_) return;
    const size_t a = File::kDirectAlignment;
    p_.reset(static_cast<char*>(std::aligned_alloc(a, (n + a - 1) / a * a)));
    if (!p_) throw std::bad_alloc();
    size_ = n;
  }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> p_;
  size_t size_ = 0;
};

// PipelineOptions, checked and resolved.
struct ResolvedOptions {
  CodecKind codec = CodecKind::kZstd;
  std::string compression;  // as recorded: lower-cased
  int level = 0;
  int64_t block = 32768;   // the SHA block
  int64_t unit = 4 << 20;  // a work unit: a multiple of block, <= file_size
  int threads = 1;
  bool verify = true;
  bool sync = true;
};
Result<ResolvedOptions> Resolve(const PipelineOptions& options);

// The SHA-256 and md5 of n zero bytes, and n zeros compressed; computed on first use.
// Thread-safe.
class Zeros {
 public:
  static Zeros& Get();
  Sha256Digest Sha(int64_t n);
  std::string Md5(int64_t n);
  // n zeros compressed with `kind` at `level` (kNone: empty, the caller makes a sparse file).
  Result<std::string> Compressed(CodecKind kind, int level, int64_t n);
  // A buffer of at least n zeros (n <= 4 MiB... grows as asked).
  const char* Buffer(int64_t n);

 private:
  std::mutex mu_;
  std::map<int64_t, Sha256Digest> sha_;
  std::map<int64_t, std::string> md5_;
  std::map<std::tuple<int, int, int64_t>, std::string> compressed_;
  std::string buffer_;
  std::vector<std::string> old_buffers_;  // kept: callers may still read them
};

// Reads and parses a _sha256file a piece at a time (Sha256FileParser): what stays in memory is
// the binary hashes, never the text. Errors say "Failed to read backup object NAME: ..." or
// "NAME: ..." (not such a file).
Result<Sha256File> ReadSha256File(ObjectStore* store, const std::string& container, const std::string& name);

}  // namespace cinder::backup

#endif  // CINDER_BACKUP_ENGINE_COMMON_H_

// What the backup and restore pipelines share: the options checked once, and what is known of
// zeros (their hashes and compressed forms are computed once per length, so zero and hole units
// cost nothing but a file creation).
#ifndef CINDER_BACKUP_ENGINE_COMMON_H_
#define CINDER_BACKUP_ENGINE_COMMON_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "backup/engine/codec.h"
#include "backup/engine/hashing.h"
#include "backup/pipeline.h"

namespace cinder::backup {

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

}  // namespace cinder::backup

#endif  // CINDER_BACKUP_ENGINE_COMMON_H_

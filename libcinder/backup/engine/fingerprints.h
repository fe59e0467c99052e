// Block fingerprints: how an incremental backup finds the blocks that did not change without
// taking their SHA-256.
//
// Each backup we write also keeps, beside Cinder's files, `fingerprints_<prefix>`: one 128-bit
// XXH3 of every SHA block (seeded with a random number the backup's chain keeps), in volume
// order. An incremental reads its parent's, fingerprints each block it reads (~10x faster than
// SHA-256 on this machine), and takes the SHA-256 only of the blocks whose fingerprint differs;
// a block whose fingerprint matches keeps the parent's SHA-256 in the new _sha256file. So the
// 1% that changed is hashed, not the whole volume. Without a usable parent file (a backup
// written by Cinder, a damaged or missing file, another block size), every block is hashed,
// as before.
//
// The name does not start with the backup's prefix, so Cinder's listing check of the backup's
// objects never sees it; Cinder's own drivers ignore it (and would leave it behind when Cinder
// deleted the backup).
//
// File layout (little-endian): "CINDERFP", u32 version (1), u32 block size, u64 seed, u64
// count, count x (u64 low, u64 high), then u64 XXH3-64 of all the bytes before it.
#ifndef CINDER_BACKUP_ENGINE_FINGERPRINTS_H_
#define CINDER_BACKUP_ENGINE_FINGERPRINTS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backup/pipeline.h"
#include "cinder/status.h"

namespace cinder::backup {

using Fingerprint = std::array<uint64_t, 2>;

// The fingerprint of one block under a chain's seed.
Fingerprint BlockFingerprint(const char* data, size_t n, uint64_t seed);
// A new chain's seed (random).
uint64_t NewFingerprintSeed();

std::string FingerprintsName(const std::string& prefix);

struct Fingerprints {
  uint64_t seed = 0;
  std::vector<Fingerprint> blocks;
};

// The fingerprints of the backup with `prefix`, checked (layout, checksum, block size). NotFound
// when it has none; InvalidArgument when the file is not a valid one for `block`.
Result<Fingerprints> ReadFingerprints(ObjectStore* store, const std::string& container, const std::string& prefix,
                                      int64_t block);

// Streams a backup's fingerprints to its file, in volume order.
class FingerprintsWriter {
 public:
  // Creates the (invisible until Commit) object.
  static Result<std::unique_ptr<FingerprintsWriter>> Start(ObjectStore* store, const std::string& container,
                                                           const std::string& prefix, int64_t block, uint64_t seed,
                                                           int64_t count);
  ~FingerprintsWriter();
  Status Append(const std::vector<Fingerprint>& fps);
  // Checks that `count` were appended, writes the checksum, publishes the file.
  Status Commit(bool sync);

 private:
  FingerprintsWriter() = default;
  Status Flush();
  std::unique_ptr<ObjectStore::Writer> writer_;
  void* state_ = nullptr;  // XXH3_state_t
  std::string pending_;
  int64_t count_ = 0, appended_ = 0;
};

}  // namespace cinder::backup

#endif  // CINDER_BACKUP_ENGINE_FINGERPRINTS_H_

// Copying a volume's data between backends (retype with migration): on one host, a sparse
// copy between the two drivers' local paths; between hosts, the destination pulls the source's
// data extents over RPC, chunk by chunk, skipping holes.
#ifndef CINDER_VOLUME_VOLUME_COPY_H_
#define CINDER_VOLUME_VOLUME_COPY_H_

#include <cstdint>
#include <functional>
#include <string>

#include "cinder/status.h"

namespace cinder {

class Env;

// One piece of a volume's data: `data` starts at byte `offset`; `eof`: no data from the
// requested offset on (the rest is a hole).
struct VolumeChunk {
  int64_t offset = 0;
  std::string data;
  bool eof = false;
};

inline constexpr int64_t kVolumeChunkBytes = 4 << 20;

// The first data at or after `offset` in the file at `path`, at most `max_bytes` of it, read
// through `env`.
Result<VolumeChunk> ReadVolumeChunk(Env* env, const std::string& path, int64_t offset,
                                    int64_t max_bytes = kVolumeChunkBytes);

// Writes every chunk `fetch(offset)` gives, from offset 0 until eof, into the existing file at
// `dst_path` (already of the volume's size) through `env`, then syncs it. Returns the bytes
// written.
Result<int64_t> PullVolume(Env* env, const std::function<Result<VolumeChunk>(int64_t offset)>& fetch,
                           const std::string& dst_path);

}  // namespace cinder

#endif  // CINDER_VOLUME_VOLUME_COPY_H_

#include "volume/volume_copy.h"

#include <algorithm>
#include <memory>

#include "cinder/env.h"

namespace cinder {

namespace {

Status Failed(const std::string& what, const std::string& path, const Status& st) {
  return Internal(what + " " + path + ": " + st.message());
}

}  // namespace

Result<VolumeChunk> ReadVolumeChunk(Env* env, const std::string& path, int64_t offset, int64_t max_bytes) {
  Result<std::unique_ptr<File>> f = env->OpenFile(path, Env::OpenMode::kRead);
  if (!f.ok()) {
    if (f.status().code() == Code::kNotFound) return NotFound("volume data " + path + " does not exist");
    return Failed("cannot open", path, f.status());
  }
  VolumeChunk c;
  c.offset = offset;
  Result<DataExtent> e = (*f)->NextData(offset);
  if (!e.ok()) return Failed("cannot seek in", path, e.status());
  if (e->length == 0) {  // only a hole from here on
    c.eof = true;
    return c;
  }
  c.offset = e->offset;
  c.data.resize(static_cast<size_t>(std::min(e->length, max_bytes)));
  Result<size_t> n = (*f)->ReadAt(e->offset, c.data.data(), c.data.size());
  if (!n.ok()) return Failed("cannot read", path, n.status());
  c.data.resize(*n);  // fewer: shrank meanwhile
  if (*n == 0) c.eof = true;
  return c;
}

Result<int64_t> PullVolume(Env* env, const std::function<Result<VolumeChunk>(int64_t offset)>& fetch,
                           const std::string& dst_path) {
  Result<std::unique_ptr<File>> f = env->OpenFile(dst_path, Env::OpenMode::kReadWrite);
  if (!f.ok()) return Failed("cannot open", dst_path, f.status());
  int64_t offset = 0, written = 0;
  while (true) {
    CINDER_ASSIGN_OR_RETURN(VolumeChunk c, fetch(offset));
    if (c.eof) break;
    if (c.offset < offset) return Internal("the source sent data out of order");
    Status st = (*f)->WriteAt(c.offset, c.data.data(), c.data.size());
    if (!st.ok()) return Failed("cannot write", dst_path, st);
    written += static_cast<int64_t>(c.data.size());
    offset = c.offset + static_cast<int64_t>(c.data.size());
  }
  if (Status st = (*f)->Sync(); !st.ok()) return Failed("cannot sync", dst_path, st);
  if (Status st = (*f)->Close(); !st.ok()) return Failed("cannot close", dst_path, st);
  return written;
}

}  // namespace cinder

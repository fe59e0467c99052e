#include "backup/engine/common.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace cinder::backup {

Result<ResolvedOptions> Resolve(const PipelineOptions& o) {
  ResolvedOptions r;
  auto codec = ParseCodec(o.compression);
  if (!codec.ok()) return codec.status();
  r.codec = *codec;
  r.compression = o.compression;
  for (char& c : r.compression) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  r.level = r.codec == CodecKind::kZstd ? o.zstd_level : r.codec == CodecKind::kZlib ? o.zlib_level : 9;
  if (o.sha_block_size <= 0) return InvalidArgument("backup_sha_block_size_bytes must be positive");
  if (o.file_size <= 0 || o.file_size % o.sha_block_size != 0) {
    return InvalidArgument("Chunk size is not multiple of block size for creating hash.");
  }
  r.block = o.sha_block_size;
  r.unit = std::min(o.object_size, o.file_size) / r.block * r.block;
  if (r.unit <= 0) r.unit = r.block;
  int workers = o.workers > 0 ? o.workers : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int buffers = o.buffers > 0 ? o.buffers : workers;
  r.threads = std::max(1, std::min(workers, buffers));
  r.verify = o.verify_on_restore;
  r.sync = o.sync;
  return r;
}

Zeros& Zeros::Get() {
  static Zeros* z = new Zeros();
  return *z;
}

const char* Zeros::Buffer(int64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  if (static_cast<int64_t>(buffer_.size()) < n) {
    if (!buffer_.empty()) old_buffers_.push_back(std::move(buffer_));
    buffer_.assign(static_cast<size_t>(std::max<int64_t>(n, 4 << 20)), '\0');
  }
  return buffer_.data();
}

Sha256Digest Zeros::Sha(int64_t n) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = sha_.find(n);
    if (it != sha_.end()) return it->second;
  }
  const char* z = Buffer(n);
  Hasher h;
  Sha256Digest d = h.Sha256(z, static_cast<size_t>(n));
  std::lock_guard<std::mutex> l(mu_);
  sha_[n] = d;
  return d;
}

std::string Zeros::Md5(int64_t n) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = md5_.find(n);
    if (it != md5_.end()) return it->second;
  }
  const char* z = Buffer(std::min<int64_t>(n, 4 << 20));
  Hasher h;
  h.Md5Begin();
  for (int64_t done = 0; done < n;) {
    const int64_t k = std::min<int64_t>(n - done, 4 << 20);
    h.Md5Update(z, static_cast<size_t>(k));
    done += k;
  }
  std::string d = h.Md5HexEnd();
  std::lock_guard<std::mutex> l(mu_);
  md5_[n] = d;
  return d;
}

Result<std::string> Zeros::Compressed(CodecKind kind, int level, int64_t n) {
  if (kind == CodecKind::kNone) return std::string();
  const auto key = std::make_tuple(static_cast<int>(kind), level, n);
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = compressed_.find(key);
    if (it != compressed_.end()) return it->second;
  }
  const char* z = Buffer(n);
  auto c = CompressAll(kind, level, std::string_view(z, static_cast<size_t>(n)));
  if (!c.ok()) return c.status();
  std::lock_guard<std::mutex> l(mu_);
  compressed_[key] = *c;
  return std::move(c).value();
}

Result<Sha256File> ReadSha256File(ObjectStore* store, const std::string& container, const std::string& name) {
  auto failed = [&](const Status& st) {
    return Status(st.code(), "Failed to read backup object " + name + ": " + st.message());
  };
  auto r = store->OpenObject(container, name);
  if (!r.ok()) return failed(r.status());
  Sha256FileParser parser;
  std::string buf(1 << 20, '\0');
  for (int64_t off = 0;;) {
    auto got = (*r)->ReadAt(off, buf.data(), buf.size());
    if (!got.ok()) return failed(got.status());
    if (*got == 0) break;
    parser.Feed(std::string_view(buf.data(), *got));
    off += static_cast<int64_t>(*got);
  }
  auto f = parser.Finish();
  if (!f.ok()) return Status(f.status().code(), name + ": " + f.status().message());
  return f;
}

}  // namespace cinder::backup

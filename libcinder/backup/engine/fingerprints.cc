#include "backup/engine/fingerprints.h"

#include <xxhash.h>

#include <cstring>
#include <random>

namespace cinder::backup {

namespace {

constexpr char kMagic[8] = {'C', 'I', 'N', 'D', 'E', 'R', 'F', 'P'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeader = 8 + 4 + 4 + 8 + 8;
constexpr size_t kEntry = 16;

void Put32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
void Put64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t Get(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

Fingerprint BlockFingerprint(const char* data, size_t n, uint64_t seed) {
  const XXH128_hash_t h = XXH3_128bits_withSeed(data, n, seed);
  return {h.low64, h.high64};
}

uint64_t NewFingerprintSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

std::string FingerprintsName(const std::string& prefix) { return "fingerprints_" + prefix; }

Result<Fingerprints> ReadFingerprints(ObjectStore* store, const std::string& container, const std::string& prefix,
                                      int64_t block) {
  const std::string name = FingerprintsName(prefix);
  auto reader = store->OpenObject(container, name);
  if (!reader.ok()) return reader.status();
  auto size = (*reader)->Size();
  if (!size.ok()) return size.status();
  if (*size < static_cast<int64_t>(kHeader + 8) || (*size - kHeader - 8) % kEntry != 0) {
    return InvalidArgument(name + " is not a fingerprints file");
  }
  std::string text(static_cast<size_t>(*size), '\0');
  auto got = (*reader)->ReadAt(0, text.data(), text.size());
  if (!got.ok()) return got.status();
  if (*got != text.size()) return InvalidArgument(name + " is truncated");
  const char* p = text.data();
  const uint64_t count = Get(p + 24, 8);
  if (std::memcmp(p, kMagic, 8) != 0 || Get(p + 8, 4) != kVersion || count != (text.size() - kHeader - 8) / kEntry ||
      XXH3_64bits(p, text.size() - 8) != Get(p + text.size() - 8, 8)) {
    return InvalidArgument(name + " is not a valid fingerprints file");
  }
  if (static_cast<int64_t>(Get(p + 12, 4)) != block) {
    return InvalidArgument(name + " was made with another block size");
  }
  Fingerprints out;
  out.seed = Get(p + 16, 8);
  out.blocks.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    const char* e = p + kHeader + i * kEntry;
    out.blocks[i] = {Get(e, 8), Get(e + 8, 8)};
  }
  return out;
}

Result<std::unique_ptr<FingerprintsWriter>> FingerprintsWriter::Start(ObjectStore* store, const std::string& container,
                                                                      const std::string& prefix, int64_t block,
                                                                      uint64_t seed, int64_t count) {
  auto w = store->NewObject(container, FingerprintsName(prefix));
  if (!w.ok()) return w.status();
  std::unique_ptr<FingerprintsWriter> out(new FingerprintsWriter());
  out->writer_ = std::move(w).value();
  auto* state = XXH3_createState();
  XXH3_64bits_reset(state);
  out->state_ = state;
  out->count_ = count;
  out->pending_.append(kMagic, 8);
  Put32(&out->pending_, kVersion);
  Put32(&out->pending_, static_cast<uint32_t>(block));
  Put64(&out->pending_, seed);
  Put64(&out->pending_, static_cast<uint64_t>(count));
  return out;
}

FingerprintsWriter::~FingerprintsWriter() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

Status FingerprintsWriter::Flush() {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), pending_.data(), pending_.size());
  Status st = writer_->Append(pending_.data(), pending_.size());
  pending_.clear();
  return st;
}

Status FingerprintsWriter::Append(const std::vector<Fingerprint>& fps) {
  for (const Fingerprint& f : fps) {
    Put64(&pending_, f[0]);
    Put64(&pending_, f[1]);
  }
  appended_ += static_cast<int64_t>(fps.size());
  return pending_.size() >= (256 << 10) ? Flush() : Status::OK();
}

Status FingerprintsWriter::Commit(bool sync) {
  if (appended_ != count_) {
    return Internal("fingerprints: " + std::to_string(appended_) + " of " + std::to_string(count_) + " blocks");
  }
  CINDER_RETURN_IF_ERROR(Flush());
  std::string tail;
  Put64(&tail, XXH3_64bits_digest(static_cast<XXH3_state_t*>(state_)));
  CINDER_RETURN_IF_ERROR(writer_->Append(tail.data(), tail.size()));
  return writer_->Commit(sync);
}

}  // namespace cinder::backup

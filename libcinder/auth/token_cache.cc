#include "auth/token_cache.h"

namespace cinder::auth {

std::optional<int64_t> TokenCache::Generation() {
  std::lock_guard<std::mutex> lock(gen_mu_);
  const auto now = Clock::now();
  if (generation_value_ && now - generation_read_ < std::chrono::seconds(1)) return generation_value_;
  auto g = generation_();
  if (!g || g != generation_value_) {
    std::unique_lock<std::shared_mutex> w(mu_);
    map_.clear();
  }
  generation_value_ = g;
  generation_read_ = now;
  return g;
}

std::optional<TokenCache::Entry> TokenCache::Get(const std::string& id_hash, double now_epoch) {
  if (cache_time_.count() == 0 || !Generation()) return std::nullopt;
  std::shared_lock<std::shared_mutex> r(mu_);
  auto it = map_.find(id_hash);
  if (it == map_.end()) return std::nullopt;
  if (Clock::now() - it->second.stored >= cache_time_ || now_epoch >= it->second.entry.expires_epoch) {
    return std::nullopt;
  }
  return it->second.entry;
}

void TokenCache::Put(const std::string& id_hash, Entry e, int64_t generation_before) {
  if (cache_time_.count() == 0) return;
  auto g = Generation();
  if (!g || *g != generation_before) return;
  std::unique_lock<std::shared_mutex> w(mu_);
  if (map_.size() >= kMaxEntries) map_.clear();
  map_[id_hash] = Slot{std::move(e), Clock::now()};
}

void TokenCache::Clear() {
  std::unique_lock<std::shared_mutex> w(mu_);
  map_.clear();
}

}  // namespace cinder::auth

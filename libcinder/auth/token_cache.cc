#include "auth/token_cache.h"

namespace cinder::auth {

std::optional<int64_t> TokenCache::Generation() {
  const auto now = Clock::now();
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  // Read within the last second: no lock (every authenticated request passes here).
  const int64_t at = fresh_at_ns_.load(std::memory_order_acquire);
  if (at != 0 && now_ns - at < 1000000000) return fresh_value_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(gen_mu_);
  if (generation_value_ && now - generation_read_ < std::chrono::seconds(1)) return generation_value_;
  auto g = generation_();
  if (!g || g != generation_value_) {
    std::unique_lock<std::shared_mutex> w(mu_);
    map_.clear();
  }
  generation_value_ = g;
  generation_read_ = now;
  if (g) {
    fresh_value_.store(*g, std::memory_order_relaxed);
    fresh_at_ns_.store(now_ns, std::memory_order_release);
  } else {
    fresh_at_ns_.store(0, std::memory_order_release);
  }
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

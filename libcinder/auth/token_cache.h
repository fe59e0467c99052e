// TokenCache: the validations an API process trusts without reading the database again. An
// entry lives `cache_time` seconds (it is validated again after that: a user removed from an
// LDAP directory loses access then) and never past its token's expiry; every entry goes when
// the database's revocation counter moves (a token revoked, a password changed, a user,
// project or role assignment changed), which the cache reads at most once a second. So a
// revocation bites on every API process within a second, and an authenticated request costs
// a SHA-256 and a lookup.
#ifndef CINDER_AUTH_TOKEN_CACHE_H_
#define CINDER_AUTH_TOKEN_CACHE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "cinder/auth_manager.h"
#include "cinder/context.h"

namespace cinder::auth {

class TokenCache {
 public:
  struct Entry {
    TokenInfo info;
    RequestContext ctx;
    double expires_epoch = 0;  // the token's expiry, seconds since the epoch
  };
  using Clock = std::chrono::steady_clock;

  // `generation` reads the revocation counter (nullopt when it cannot: the cache is then not
  // trusted until it can).
  TokenCache(int64_t cache_time_s, std::function<std::optional<int64_t>()> generation)
      : cache_time_(std::chrono::seconds(cache_time_s)), generation_(std::move(generation)) {}

  std::optional<Entry> Get(const std::string& id_hash, double now_epoch);
  // Keeps `e` iff the counter has not moved since `generation_before` (read before the
  // validation that made it), so that a revocation racing with the validation is not lost.
  void Put(const std::string& id_hash, Entry e, int64_t generation_before);
  // The counter as last read (refreshed when older than a second); nullopt when unreadable.
  std::optional<int64_t> Generation();
  void Clear();

 private:
  static constexpr size_t kMaxEntries = 100000;
  struct Slot {
    Entry entry;
    Clock::time_point stored;
  };
  std::chrono::seconds cache_time_;
  std::function<std::optional<int64_t>()> generation_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, Slot> map_;
  std::mutex gen_mu_;  // one reader of the counter at a time
  std::optional<int64_t> generation_value_;
  Clock::time_point generation_read_{};
  // The last good read, for the lock-free path: its value and when (steady ns; 0: none).
  std::atomic<int64_t> fresh_value_{0};
  std::atomic<int64_t> fresh_at_ns_{0};
};

}  // namespace cinder::auth

#endif  // CINDER_AUTH_TOKEN_CACHE_H_

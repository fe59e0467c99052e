// ListCache: pages of volume lists as the database last gave them, each with the list
// generation it was read at, so that a list whose generation has not moved is answered
// without reading the rows again. Internal to libcinder/db.
//
// The generation is the database's (the list_generations table, schema 10): every change of a
// row a project's lists show (volumes, volume_metadata, volume_attachment, a volume type's
// name) bumps it in the change's own transaction, by triggers, so several API processes on one
// database, each with its own cache, never answer a list older than a change committed before
// the list was asked for. An entry is filled with rows read after its generation (so they are
// never older than it) and used only while the database's generation still equals the entry's.
#ifndef CINDER_DB_LIST_CACHE_H_
#define CINDER_DB_LIST_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cinder/volume.h"

namespace cinder::db {

// The bound of a ListCache: at most `max_entries` lists holding at most `max_volumes` volumes
// in total (a list larger than that alone is not kept); the least recently used go first.
// About 1-2 KiB a volume (its strings, metadata and attachments), so the defaults hold at most
// ~20 MiB.
struct ListCacheLimits {
  std::size_t max_entries = 256;
  std::size_t max_volumes = 10000;
};

class ListCache {
 public:
  using Limits = ListCacheLimits;
  struct Entry {
    int64_t generation = 0;
    VolumeList list;
  };
  struct Stats {
    uint64_t hits = 0;    // answered from an entry whose generation was current
    uint64_t misses = 0;  // read from the database (no entry, or an older generation)
    std::size_t entries = 0;
    std::size_t volumes = 0;
  };

  explicit ListCache(Limits limits = {}) : limits_(limits) {}

  // The entry of `key` (most recently used now), or null. Thread-safe.
  std::shared_ptr<const Entry> Find(const std::string& key);
  // Keeps `list` under `key`, read at `generation`, evicting the least recently used entries
  // beyond the bound. Thread-safe.
  void Put(const std::string& key, int64_t generation, const VolumeList& list);
  void CountHit();
  void CountMiss();
  // Replaces the bound (zero entries: nothing is kept) and drops every entry.
  void SetLimits(Limits limits);
  Stats stats() const;

 private:
  using Lru = std::list<std::string>;  // keys, most recently used first
  struct Slot {
    std::shared_ptr<const Entry> entry;
    Lru::iterator lru;
  };
  void EvictLocked();

  mutable std::mutex mu_;  // guards everything below
  Limits limits_;
  Lru lru_;
  std::unordered_map<std::string, Slot> slots_;
  std::size_t volumes_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

// The key of a list of `project`'s volumes: every parameter that shapes its answer (filters,
// sort, marker, with_count and the page size `limit` after the configured maximum applied).
std::string ListCacheKey(const std::string& project, const VolumeListQuery& q, int64_t limit);

}  // namespace cinder::db

#endif  // CINDER_DB_LIST_CACHE_H_

// ListCache: a bounded LRU of volume lists, each with its generation.
#include "db/list_cache.h"

#include <utility>

namespace cinder::db {

std::shared_ptr<const ListCache::Entry> ListCache::Find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.entry;
}

void ListCache::Put(const std::string& key, int64_t generation, const VolumeList& list) {
  // Built outside the lock: the copy of the rows is the expensive part.
  const std::size_t n = list.volumes.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (limits_.max_entries == 0 || n > limits_.max_volumes) return;
  }
  auto entry = std::make_shared<Entry>();
  entry->generation = generation;
  entry->list = list;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(key);
  if (it != slots_.end()) {
    volumes_ -= it->second.entry->list.volumes.size();
    it->second.entry = std::move(entry);
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  } else {
    lru_.push_front(key);
    slots_.emplace(key, Slot{std::move(entry), lru_.begin()});
  }
  volumes_ += n;
  EvictLocked();
}

void ListCache::EvictLocked() {
  while (!lru_.empty() && (slots_.size() > limits_.max_entries || volumes_ > limits_.max_volumes)) {
    auto it = slots_.find(lru_.back());
    volumes_ -= it->second.entry->list.volumes.size();
    slots_.erase(it);
    lru_.pop_back();
  }
}

void ListCache::CountHit() {
  std::lock_guard<std::mutex> lock(mu_);
  ++hits_;
}

void ListCache::CountMiss() {
  std::lock_guard<std::mutex> lock(mu_);
  ++misses_;
}

void ListCache::SetLimits(Limits limits) {
  std::lock_guard<std::mutex> lock(mu_);
  limits_ = limits;
  slots_.clear();
  lru_.clear();
  volumes_ = 0;
}

ListCache::Stats ListCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Stats{hits_, misses_, slots_.size(), volumes_};
}

namespace {

// Appends a field as its length and bytes, so that no two queries share a key.
void Field(std::string* key, const std::string& v) {
  *key += std::to_string(v.size());
  *key += ':';
  *key += v;
}

void Optional(std::string* key, const std::optional<std::string>& v) {
  if (!v) {
    *key += '-';
    return;
  }
  *key += '+';
  Field(key, *v);
}

}  // namespace

std::string ListCacheKey(const std::string& project, const VolumeListQuery& q, int64_t limit) {
  std::string key;
  key.reserve(64 + project.size());
  Field(&key, project);
  Optional(&key, q.name);
  Optional(&key, q.status);
  Optional(&key, q.availability_zone);
  Optional(&key, q.migration_status);
  key += !q.bootable ? '-' : *q.bootable ? 't' : 'f';
  key += !q.use_quota ? '-' : *q.use_quota ? 't' : 'f';
  Optional(&key, q.size);
  Optional(&key, q.group_id);
  for (const Metadata* md : {&q.metadata, &q.like, &q.glance_metadata}) {
    key += 'm' + std::to_string(md->size()) + ':';
    for (const auto& [k, v] : *md) {
      Field(&key, k);
      Field(&key, v);
    }
  }
  for (const std::vector<TimeComparison>* times : {&q.created_at, &q.updated_at}) {
    key += 't' + std::to_string(times->size()) + ':';
    for (const TimeComparison& t : *times) {
      Field(&key, t.op);
      Field(&key, t.time);
    }
  }
  key += 's' + std::to_string(q.sort.size()) + ':';
  for (const SortKey& s : q.sort) {
    Field(&key, s.key);
    key += s.ascending ? 'a' : 'd';
  }
  key += 'l' + std::to_string(limit) + ':';
  Optional(&key, q.marker);
  key += q.with_count ? 'c' : 'n';
  return key;
}

}  // namespace cinder::db

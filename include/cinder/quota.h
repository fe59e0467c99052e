// Quotas: how much of each resource a project may hold, and what it holds.
#ifndef CINDER_QUOTA_H_
#define CINDER_QUOTA_H_

#include <cstdint>
#include <map>
#include <string>

namespace cinder {

// One resource of a project's quota set: its limit (-1: unlimited), what exists (in_use) and
// what operations under way hold (reserved).
struct QuotaDetail {
  int64_t limit = -1;
  int64_t in_use = 0;
  int64_t reserved = 0;
};

// Resource name -> detail. Resources are Cinder's: volumes, gigabytes, snapshots,
// per_volume_gigabytes, backups, backup_gigabytes, groups, and per volume type
// volumes_TYPE, gigabytes_TYPE, snapshots_TYPE (TYPE: the type's name).
using QuotaSet = std::map<std::string, QuotaDetail>;

}  // namespace cinder

#endif  // CINDER_QUOTA_H_

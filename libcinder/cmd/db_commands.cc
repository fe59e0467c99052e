// The database commands of cinder-manage, as library calls.
#include "cinder/service.h"
#include "cmd/daemon_base.h"
#include "common/util.h"
#include "db/store.h"

namespace cinder {

Status DbSync(const Options& options) {
  CINDER_RETURN_IF_ERROR(EnsureStatePath(options));
  CINDER_ASSIGN_OR_RETURN(auto store, Store::Open(options.DatabaseUrl()));
  return store->Migrate();
}

Result<int> DbVersion(const Options& options) {
  CINDER_ASSIGN_OR_RETURN(auto store, Store::Open(options.DatabaseUrl()));
  return store->SchemaVersion();
}

Result<int64_t> DbPurge(const Options& options, int days) {
  if (days < 0) return InvalidArgument("Must supply a non-negative value for age.");
  CINDER_ASSIGN_OR_RETURN(auto store, Store::Open(options.DatabaseUrl()));
  CINDER_RETURN_IF_ERROR(store->CheckSchema());
  return store->Purge(IsoSecondsAgo(static_cast<int64_t>(days) * 86400));
}

}  // namespace cinder

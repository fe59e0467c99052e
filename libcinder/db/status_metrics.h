// The metrics that come from the database (docs/metrics.md): volumes, snapshots and backups by
// status, and each service up or down by GET os-services' rule. A thread of its own counts
// them every [metrics] refresh_interval and renders the text; a scrape only copies it.
#ifndef CINDER_DB_STATUS_METRICS_H_
#define CINDER_DB_STATUS_METRICS_H_

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "cinder/options.h"
#include "common/metrics.h"
#include "db/store.h"

namespace cinder {

class StatusMetrics {
 public:
  // Counts once now, then every options.metrics.refresh_interval seconds until destroyed.
  // `store` must outlive it. nullptr when [metrics] enabled is false.
  static std::unique_ptr<StatusMetrics> Start(const Options& options, Store* store);
  ~StatusMetrics();

  // Counts and renders now (the thread calls it; tests may too).
  void Refresh();

 private:
  StatusMetrics(const Options& options, Store* store);

  const Options options_;
  Store* store_;
  std::shared_ptr<metrics::Section> section_;
  // The statuses seen so far per table: one that empties shows 0 rather than vanishing.
  std::map<std::string, std::set<std::string>> seen_;
  std::mutex mu_;  // stopping_; Refresh runs one at a time
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cinder

#endif  // CINDER_DB_STATUS_METRICS_H_

#include "db/status_metrics.h"

#include <vector>

#include "common/log.h"
#include "db/directory.h"

namespace cinder {

std::unique_ptr<StatusMetrics> StatusMetrics::Start(const Options& options, Store* store) {
  if (!options.metrics.enabled) return nullptr;
  std::unique_ptr<StatusMetrics> m(new StatusMetrics(options, store));
  m->Refresh();
  m->thread_ = std::thread([p = m.get()] {
    std::unique_lock<std::mutex> l(p->mu_);
    while (
        !p->cv_.wait_for(l, std::chrono::seconds(p->options_.metrics.refresh_interval), [p] { return p->stopping_; })) {
      l.unlock();
      p->Refresh();
      l.lock();
    }
  });
  return m;
}

StatusMetrics::StatusMetrics(const Options& options, Store* store)
    : options_(options), store_(store), section_(metrics::Registry::Default().AddSection("db_status")) {}

StatusMetrics::~StatusMetrics() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StatusMetrics::Refresh() {
  static std::mutex refreshing;  // one at a time (seen_)
  std::lock_guard<std::mutex> one(refreshing);
  std::string out;
  metrics::TextWriter w(&out);
  bool failed = false;
  struct Table {
    const char* table;
    const char* name;
    const char* help;
  };
  static const Table kTables[] = {
      {"volumes", "cinder_volumes", "Volumes by status (not deleted), from the database."},
      {"snapshots", "cinder_snapshots", "Snapshots by status (not deleted), from the database."},
      {"backups", "cinder_backups", "Backups by status (not deleted), from the database."},
  };
  for (const auto& t : kTables) {
    auto counts = store_->CountByStatus(t.table);
    if (!counts.ok()) {
      failed = true;
      CINDER_LOG(kWarning, "metrics") << "cannot count " << t.table << ": " << counts.status().ToString();
      continue;
    }
    auto& seen = seen_[t.table];
    for (const auto& [status, n] : *counts) seen.insert(status);
    if (seen.empty()) continue;
    w.Begin(t.name, t.help, metrics::Type::kGauge);
    for (const auto& status : seen) {
      auto it = counts->find(status);
      w.Sample(t.name, {{"status", status}}, it == counts->end() ? 0 : static_cast<double>(it->second));
    }
  }
  auto services = store_->ListServices(std::nullopt, std::nullopt);
  if (!services.ok()) {
    failed = true;
    CINDER_LOG(kWarning, "metrics") << "cannot list the services: " << services.status().ToString();
  } else if (!services->empty()) {
    // GET os-services' rule: heard from within service_down_time.
    w.Begin("cinder_service_up",
            "1 when a service was heard from within service_down_time (GET os-services' state \"up\"), else 0.",
            metrics::Type::kGauge);
    for (const auto& s : *services) {
      const bool up = ServiceIsUp(s, options_.service_down_time, options_.env);
      w.Sample("cinder_service_up", {{"binary", s.binary}, {"host", s.host}, {"zone", s.availability_zone}},
               up ? 1 : 0);
    }
    w.Begin("cinder_service_disabled", "1 when a service is disabled (GET os-services' status \"disabled\"), else 0.",
            metrics::Type::kGauge);
    for (const auto& s : *services) {
      w.Sample("cinder_service_disabled", {{"binary", s.binary}, {"host", s.host}, {"zone", s.availability_zone}},
               s.disabled ? 1 : 0);
    }
  }
  w.Begin("cinder_metrics_database_refresh_ok",
          "1 when the last count from the database succeeded, else 0 (the counts shown are then older).",
          metrics::Type::kGauge);
  w.Sample("cinder_metrics_database_refresh_ok", {}, failed ? 0 : 1);
  if (failed) {
    // Keep the last good counts, with the flag at 0.
    auto last = section_->Get();
    if (!last->empty()) {
      std::string kept = *last;
      const std::string flag = "cinder_metrics_database_refresh_ok 1\n";
      auto pos = kept.rfind(flag);
      if (pos != std::string::npos) kept.replace(pos, flag.size(), "cinder_metrics_database_refresh_ok 0\n");
      section_->Set(std::move(kept));
      return;
    }
  }
  section_->Set(std::move(out));
}

}  // namespace cinder

#include "scheduler/scheduler_service.h"

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <thread>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>

#include "common/util.h"
#include "db/directory.h"
#include "db/heartbeat.h"
#include "rpc/args.h"
#include "volume/volume_service.h"

namespace cinder {

namespace {

struct PoolState {
  double total = 0;
  double free = 0;    // as last reported
  double placed = 0;  // GiB placed here since that report
};

std::string FormatGb(double gb) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", std::floor(gb));
  return buf;
}

class SchedulerServiceImpl : public SchedulerService {
 public:
  SchedulerServiceImpl(const Options& options, Store* store, Transport* transport)
      : options_(options), store_(store), transport_(transport), heartbeat_(store, options.report_interval) {}

  ~SchedulerServiceImpl() override {
    {
      std::lock_guard<std::mutex> l(sweep_mu_);
      stopping_ = true;
    }
    sweep_cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
  }

  Status Start() {
    CINDER_ASSIGN_OR_RETURN(std::string endpoint,
                            transport_->Serve(kSchedulerTopic, [this](const RpcRequest& r) { return Handle(r); }));
    ServiceInfo svc;
    svc.host = options_.host;
    svc.binary = "cinder-scheduler";
    svc.topic = kSchedulerTopic;
    svc.availability_zone = options_.storage_availability_zone;
    svc.endpoint = endpoint;
    svc.rpc_version = kRpcVersion;
    CINDER_RETURN_IF_ERROR(heartbeat_.Register(svc));
    sweeper_ = std::thread([this] {
      std::unique_lock<std::mutex> l(sweep_mu_);
      while (!sweep_cv_.wait_for(l, std::chrono::seconds(options_.report_interval), [this] { return stopping_; })) {
        l.unlock();
        Sweep();
        l.lock();
      }
    });
    return Status::OK();
  }

 private:
  Result<std::string> Handle(const RpcRequest& r) {
    CINDER_ASSIGN_OR_RETURN(rpc::Args args, rpc::Args::Decode(r.args));
    if (r.method == "update_service_capabilities") {
      CINDER_ASSIGN_OR_RETURN(std::string host, args.Str("host"));
      CINDER_ASSIGN_OR_RETURN(double total, args.Double("total"));
      CINDER_ASSIGN_OR_RETURN(double free, args.Double("free"));
      std::lock_guard<std::mutex> l(mu_);
      pools_[host] = PoolState{total, free, 0};
      return std::string();
    }
    if (r.method == "select_backend") {
      CINDER_ASSIGN_OR_RETURN(int64_t size, args.Int("size"));
      CINDER_ASSIGN_OR_RETURN(std::string host, Select(size));
      return rpc::Args().Set("host", host).Encode();
    }
    return Unimplemented("cinder-scheduler has no method " + r.method);
  }

  // The pool that holds `size` GiB with the most free space less what was placed on it since
  // its last report (so a burst spreads over equal pools), on a cinder-volume service that is
  // up and enabled. The capacity check itself uses the reported free space: the file driver is
  // thin (sparse files), so placed volumes take no space yet. Claims come with issue #4.
  Result<std::string> Select(int64_t size) {
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    std::set<std::string> usable;
    bool any_enabled = false;
    for (const auto& s : services) {
      if (s.disabled) continue;
      any_enabled = true;
      if (ServiceIsUp(s, options_.service_down_time)) usable.insert(s.host);
    }
    if (!services.empty() && !any_enabled) {
      return InvalidArgument("Invalid input received: No valid backend was found: every backend's "
                             "cinder-volume service is disabled.");
    }
    LearnMissing(usable);
    std::lock_guard<std::mutex> l(mu_);
    PoolState* best = nullptr;
    std::string best_host;
    double largest = 0;
    for (auto& [host, pool] : pools_) {
      if (!usable.count(host.substr(0, host.find('#')))) continue;
      largest = std::max(largest, pool.free);
      if (static_cast<double>(size) <= pool.free &&
          (!best || pool.free - pool.placed > best->free - best->placed)) {
        best = &pool;
        best_host = host;
      }
    }
    if (!best) {
      if (usable.empty()) {
        return InvalidArgument("Invalid input received: No valid backend was found: no cinder-volume "
                               "service is up.");
      }
      return InvalidArgument("Invalid input received: Requested volume size " + std::to_string(size) +
                             " GB is larger than the free capacity of every backend (largest: " +
                             FormatGb(largest) + " GB).");
    }
    best->placed += static_cast<double>(size);
    return best_host;
  }

  // Work taken by a volume host that then died is failed once the host is down, so that no
  // volume waits forever for it: creating -> error, extending -> error_extending. (deleting is
  // left for the host to resume when it returns.) Every scheduler sweeps; the compare-and-swap
  // makes that harmless.
  void Sweep() {
    auto services = store_->ListServices(std::nullopt, std::string("cinder-volume"));
    if (!services.ok()) return;
    std::set<std::string> down;
    for (const auto& s : *services) {
      if (!ServiceIsUp(s, options_.service_down_time)) down.insert(s.host);
    }
    if (down.empty()) return;
    auto stuck = store_->VolumesInStatus("", {volume_status::kCreating, volume_status::kExtending});
    if (!stuck.ok()) return;
    for (const auto& v : *stuck) {
      if (!down.count(v.host.substr(0, v.host.find('#')))) continue;
      const bool creating = v.status == volume_status::kCreating;
      auto r = store_->CasVolumeStatus(v.id, {v.status},
                                       creating ? volume_status::kError : volume_status::kErrorExtending);
      if (r.ok() && *r) {
        std::cerr << "cinder-scheduler: volume " << v.id << " was " << v.status << " on " << v.host
                  << ", which is down; it is now " << (creating ? "error" : "error_extending") << "\n";
      }
    }
  }

  // Asks the live backends that have not reported yet (this scheduler just started, or they
  // did) for their capacity, instead of waiting for their next report.
  void LearnMissing(const std::set<std::string>& usable) {
    std::vector<std::string> missing;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (const auto& host : usable) {
        auto it = pools_.lower_bound(host + "#");
        if (it == pools_.end() || it->first.rfind(host + "#", 0) != 0) missing.push_back(host);
      }
    }
    for (const auto& host : missing) {
      RpcRequest req;
      req.method = "capacity";
      auto reply = transport_->Call(VolumeTopic(host), req, std::chrono::milliseconds(2000));
      if (!reply.ok()) continue;
      auto args = rpc::Args::Decode(*reply);
      if (!args.ok()) continue;
      auto pool = args->Str("host");
      auto total = args->Double("total");
      auto free = args->Double("free");
      if (!pool.ok() || !total.ok() || !free.ok()) continue;
      std::lock_guard<std::mutex> l(mu_);
      pools_.emplace(*pool, PoolState{*total, *free, 0});
    }
  }

  Options options_;
  Store* store_;
  Transport* transport_;
  ServiceHeartbeat heartbeat_;
  std::mutex mu_;
  std::map<std::string, PoolState> pools_;  // host@backend#pool
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace

Result<std::unique_ptr<SchedulerService>> SchedulerService::Start(const Options& options, Store* store,
                                                                  Transport* transport) {
  auto svc = std::make_unique<SchedulerServiceImpl>(options, store, transport);
  CINDER_RETURN_IF_ERROR(svc->Start());
  return std::unique_ptr<SchedulerService>(std::move(svc));
}

}  // namespace cinder

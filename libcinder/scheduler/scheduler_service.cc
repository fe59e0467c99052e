#include "scheduler/scheduler_service.h"

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <thread>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "cinder/scheduler.h"
#include "common/message_field.h"
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

class SchedulerServiceImpl : public SchedulerService {
 public:
  SchedulerServiceImpl(const Options& options, Store* store, Transport* transport)
      : options_(options),
        store_(store),
        transport_(transport),
        scheduler_(NewCapacityScheduler()),
        heartbeat_(store, options.report_interval) {}

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
        ReapMessages();
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
      RequestSpec spec;
      CINDER_ASSIGN_OR_RETURN(spec.size, args.Int("size"));
      if (auto az = args.Str("availability_zone"); az.ok()) spec.availability_zone = *az;
      if (auto ex = args.Str("exclude"); ex.ok()) {
        for (auto& h : Split(*ex, ',')) {
          if (!h.empty()) spec.exclude.insert(h);
        }
      }
      CINDER_ASSIGN_OR_RETURN(std::string host, Select(std::move(spec)));
      return rpc::Args().Set("host", host).Encode();
    }
    return Unimplemented("cinder-scheduler has no method " + r.method);
  }

  // Builds every pool's state (reports, plus service liveness and enablement from the
  // services table) and lets the Scheduler choose; the choice is recorded as placed on the pool
  // until its next report, so that concurrent requests spread.
  Result<std::string> Select(RequestSpec spec) {
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    std::map<std::string, const ServiceInfo*> by_host;
    std::set<std::string> usable;
    for (const auto& svc : services) {
      by_host[svc.host] = &svc;
      if (!svc.disabled && ServiceIsUp(svc, options_.service_down_time)) usable.insert(svc.host);
    }
    LearnMissing(usable);
    std::lock_guard<std::mutex> l(mu_);
    std::vector<PoolCapabilities> pools;
    for (const auto& [host, state] : pools_) {
      auto svc = by_host.find(host.substr(0, host.find('#')));
      if (svc == by_host.end()) continue;  // a backend no longer registered
      PoolCapabilities p;
      p.host = host;
      p.availability_zone = svc->second->availability_zone;
      p.total_capacity_gb = state.total;
      p.free_capacity_gb = state.free;
      p.placed_gb = state.placed;
      p.up = ServiceIsUp(*svc->second, options_.service_down_time);
      p.enabled = !svc->second->disabled;
      pools.push_back(p);
    }
    if (pools.empty() && !services.empty()) {
      // Registered backends that never reported: say which way they are unusable.
      for (const auto& svc : services) {
        PoolCapabilities p;
        p.host = svc.host + "#";
        p.up = false;
        p.enabled = !svc.disabled;
        pools.push_back(p);
      }
    }
    CINDER_ASSIGN_OR_RETURN(std::string chosen, scheduler_->SelectPool(spec, pools));
    pools_[chosen].placed += static_cast<double>(spec.size);
    return chosen;
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
      // Only while the volume is still on the dead host (a reschedule may have moved it).
      auto r = store_->CasVolumeStatus(v.id, {v.status},
                                       creating ? volume_status::kError : volume_status::kErrorExtending,
                                       {}, v.host);
      if (r.ok() && *r) {
        std::cerr << "cinder-scheduler: volume " << v.id << " was " << v.status << " on " << v.host
                  << ", which is down; it is now " << (creating ? "error" : "error_extending") << "\n";
        // Why, for the user (Cinder's DRIVER_NOT_INITIALIZED: the backend is not there).
        namespace mf = message_field;
        Status st = store_->InsertMessage(mf::NewMessage(
            v.project_id, "", mf::kResourceVolume, v.id,
            creating ? mf::kCreateVolumeFromBackend : mf::kExtendVolume, mf::kDriverNotInitialized,
            options_.message_ttl));
        if (!st.ok()) std::cerr << "cinder-scheduler: cannot record a message: " << st.ToString() << "\n";
      }
    }
  }

  // Removes expired user messages every message_reap_interval, as Cinder's scheduler does.
  void ReapMessages() {
    auto now = std::chrono::steady_clock::now();
    if (last_reap_ && now - *last_reap_ < std::chrono::seconds(options_.message_reap_interval)) return;
    last_reap_ = now;
    auto removed = store_->DeleteExpiredMessages(NowIso());
    if (!removed.ok()) {
      std::cerr << "cinder-scheduler: cannot remove expired messages: " << removed.status().ToString() << "\n";
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
  std::unique_ptr<Scheduler> scheduler_;
  ServiceHeartbeat heartbeat_;
  std::mutex mu_;
  std::map<std::string, PoolState> pools_;  // host@backend#pool
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  bool stopping_ = false;
  std::optional<std::chrono::steady_clock::time_point> last_reap_;  // sweeper thread only
  std::thread sweeper_;
};

}  // namespace

Result<std::unique_ptr<SchedulerService>> SchedulerService::Start(const Options& options, Store* store,
                                                                  Transport* transport) {
  auto svc = std::make_unique<SchedulerServiceImpl>(options, store, transport);
  Status st = svc->Start();
  if (!st.ok()) {
    transport->Stop();  // the topic may be served already: no request may reach `svc` now
    return st;
  }
  return std::unique_ptr<SchedulerService>(std::move(svc));
}

}  // namespace cinder

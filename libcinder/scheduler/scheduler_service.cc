#include "scheduler/scheduler_service.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>

#include "common/util.h"
#include "db/heartbeat.h"
#include "rpc/args.h"
#include "volume/volume_service.h"

namespace cinder {

namespace {

struct PoolState {
  double total = 0;
  double free = 0;  // as last reported
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
    return heartbeat_.Register(svc);
  }

 private:
  Result<std::string> Handle(const RpcRequest& r) {
    CINDER_ASSIGN_OR_RETURN(rpc::Args args, rpc::Args::Decode(r.args));
    if (r.method == "update_service_capabilities") {
      CINDER_ASSIGN_OR_RETURN(std::string host, args.Str("host"));
      CINDER_ASSIGN_OR_RETURN(double total, args.Double("total"));
      CINDER_ASSIGN_OR_RETURN(double free, args.Double("free"));
      std::lock_guard<std::mutex> l(mu_);
      pools_[host] = PoolState{total, free};
      return std::string();
    }
    if (r.method == "select_backend") {
      CINDER_ASSIGN_OR_RETURN(int64_t size, args.Int("size"));
      CINDER_ASSIGN_OR_RETURN(std::string host, Select(size));
      return rpc::Args().Set("host", host).Encode();
    }
    return Unimplemented("cinder-scheduler has no method " + r.method);
  }

  // The pool with the most free space that holds `size` GiB, on a cinder-volume service that is
  // up and enabled. Nothing is subtracted on placement: the file driver is thin (sparse), so
  // the reported free space is what a new volume may use. Claims come with the scheduler issue.
  Result<std::string> Select(int64_t size) {
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::set<std::string> usable;
    bool any_enabled = false;
    for (const auto& s : services) {
      if (s.disabled) continue;
      any_enabled = true;
      auto seen = ParseIso(s.updated_at.value_or(s.created_at));
      if (seen && now - *seen <= options_.service_down_time) usable.insert(s.host);
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
      if (static_cast<double>(size) <= pool.free && (!best || pool.free > best->free)) {
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
    return best_host;
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
      pools_.emplace(*pool, PoolState{*total, *free});
    }
  }

  Options options_;
  Store* store_;
  Transport* transport_;
  ServiceHeartbeat heartbeat_;
  std::mutex mu_;
  std::map<std::string, PoolState> pools_;  // host@backend#pool
};

}  // namespace

Result<std::unique_ptr<SchedulerService>> SchedulerService::Start(const Options& options, Store* store,
                                                                  Transport* transport) {
  auto svc = std::make_unique<SchedulerServiceImpl>(options, store, transport);
  CINDER_RETURN_IF_ERROR(svc->Start());
  return std::unique_ptr<SchedulerService>(std::move(svc));
}

}  // namespace cinder

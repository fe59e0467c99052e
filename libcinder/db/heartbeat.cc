#include "db/heartbeat.h"

#include <chrono>

#include "common/log.h"

namespace cinder {

ServiceHeartbeat::ServiceHeartbeat(Store* store, int interval_seconds)
    : store_(store), interval_(interval_seconds), thread_([this] { Loop(); }) {}

ServiceHeartbeat::~ServiceHeartbeat() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Status ServiceHeartbeat::Register(const ServiceInfo& service) {
  CINDER_RETURN_IF_ERROR(store_->RegisterService(service));
  std::lock_guard<std::mutex> l(mu_);
  services_.emplace_back(service.host, service.binary);
  return Status::OK();
}

void ServiceHeartbeat::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!cv_.wait_for(l, std::chrono::seconds(interval_), [this] { return stopping_; })) {
    auto services = services_;
    l.unlock();
    for (const auto& [host, binary] : services) {
      auto r = store_->Heartbeat(host, binary);
      if (!r.ok()) {
        CINDER_LOG(kWarning, binary) << "heartbeat of " << binary << " " << host << " failed: " << r.status();
      }
    }
    l.lock();
  }
}

}  // namespace cinder

#include "db/heartbeat.h"

#include <chrono>

#include "common/log.h"
#include "common/util.h"

namespace cinder {

ServiceHeartbeat::ServiceHeartbeat(Store* store, int interval_seconds, Env* env)
    : store_(store),
      interval_(interval_seconds),
      env_(env ? env : Env::Default()),
      thread_([this, start = env_->NowMonotonic()] { Loop(start); }) {}

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

// Sleeps in the Env until the next beat is due on its clock (a test's FakeClock wakes it) or
// the heartbeat stops. `start`: when the heartbeat was made (read before the thread starts, so
// that a clock advanced meanwhile counts).
void ServiceHeartbeat::Loop(std::chrono::steady_clock::time_point start) {
  std::unique_lock<std::mutex> l(mu_);
  auto next = start + std::chrono::seconds(interval_);
  while (!env_->WaitUntil(cv_, l, next, [this] { return stopping_; })) {
    next = env_->NowMonotonic() + std::chrono::seconds(interval_);
    auto services = services_;
    l.unlock();
    const std::string now = FormatIso(env_->Now());
    for (const auto& [host, binary] : services) {
      auto r = store_->Heartbeat(host, binary, now);
      if (!r.ok()) {
        CINDER_LOG(kWarning, binary) << "heartbeat of " << binary << " " << host << " failed: " << r.status();
      }
    }
    l.lock();
  }
}

}  // namespace cinder

// ServiceHeartbeat: records services in the services table and renews their heartbeat.
#ifndef CINDER_DB_HEARTBEAT_H_
#define CINDER_DB_HEARTBEAT_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cinder/env.h"
#include "db/store.h"

namespace cinder {

class ServiceHeartbeat {
 public:
  // Beats every `interval_seconds` of `env`'s clock (nullptr: the real one) for each registered
  // service; `store` and `env` must outlive it.
  ServiceHeartbeat(Store* store, int interval_seconds, Env* env = nullptr);
  ~ServiceHeartbeat();
  // Records `service` now (a first heartbeat) and keeps beating for it.
  Status Register(const ServiceInfo& service);

 private:
  void Loop(std::chrono::steady_clock::time_point start);

  Store* store_;
  int interval_;
  Env* env_;
  std::mutex mu_;  // guards stopping_ and services_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::pair<std::string, std::string>> services_;  // host, binary
  std::thread thread_;
};

}  // namespace cinder

#endif  // CINDER_DB_HEARTBEAT_H_

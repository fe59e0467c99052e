#include "db/directory.h"

#include <chrono>
#include <map>
#include <mutex>

#include "cinder/env.h"
#include "common/util.h"

namespace cinder {

namespace {

// The database outage this process saw last: from its first failure to reach the database to
// its last, in seconds since the epoch (failures more than kOutageGap apart are two outages).
constexpr double kOutageGapSeconds = 10;
std::mutex outage_mu;
double outage_began = 0, outage_last = 0;  // guarded by outage_mu; 0: none yet

}  // namespace

void NoteDatabaseUnreachable() {
  const double now = EpochSeconds(Env::Default()->Now());
  std::lock_guard<std::mutex> l(outage_mu);
  if (outage_last == 0 || now - outage_last > kOutageGapSeconds) outage_began = now;
  outage_last = now;
}

bool ServiceIsUp(const ServiceInfo& service, int service_down_time, Env* env) {
  if (!env) env = Env::Default();
  const double now = EpochSeconds(env->Now());
  auto seen = ParseIso(service.updated_at.value_or(service.created_at));
  if (!seen) return false;
  if (env == Env::Default()) {
    std::lock_guard<std::mutex> l(outage_mu);
    // Up when the outage began: its heartbeats could not be written meanwhile.
    if (outage_last > *seen && *seen + service_down_time >= outage_began) seen = outage_last;
  }
  return now - *seen <= service_down_time;
}

namespace {

class DbDirectory : public Directory {
 public:
  DbDirectory(Store* store, int service_down_time) : store_(store), down_time_(service_down_time) {}

  // Looked up at most once a second per topic: every RPC resolves its topic, and endpoints
  // change only when services start or stop (a request no endpoint takes forgets them).
  Result<std::vector<std::string>> Endpoints(const std::string& topic) override {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = cache_.find(topic);
      if (it != cache_.end() && now - it->second.first < std::chrono::seconds(1)) return it->second.second;
    }
    CINDER_ASSIGN_OR_RETURN(auto endpoints, Lookup(topic));
    if (endpoints.empty()) return endpoints;  // a service about to start must be found at once
    std::lock_guard<std::mutex> l(mu_);
    if (cache_.size() > 4096) cache_.clear();
    cache_[topic] = {now, endpoints};
    return endpoints;
  }

  void Forget(const std::string& topic) override {
    std::lock_guard<std::mutex> l(mu_);
    cache_.erase(topic);
  }

 private:
  Result<std::vector<std::string>> Lookup(const std::string& topic) {
    std::optional<std::string> host;
    std::string binary = topic;
    if (auto dot = topic.find('.'); dot != std::string::npos) {
      binary = topic.substr(0, dot);
      host = topic.substr(dot + 1);
    }
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(host, binary));
    std::vector<std::string> out;
    for (const auto& s : services) {
      if (host && s.host != *host) continue;  // ListServices also matches host@backend of a host
      if (s.endpoint.empty() || !ServiceIsUp(s, down_time_)) continue;
      if (s.rpc_version != kRpcVersion) continue;  // another release: it would refuse the request
      if (!host && s.disabled) continue;           // a disabled scheduler takes no new work
      out.push_back(s.endpoint);
    }
    return out;
  }

  Store* store_;
  int down_time_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::vector<std::string>>> cache_;
};

}  // namespace

std::shared_ptr<Directory> NewDbDirectory(Store* store, int service_down_time) {
  return std::make_shared<DbDirectory>(store, service_down_time);
}

}  // namespace cinder

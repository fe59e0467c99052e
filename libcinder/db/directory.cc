#include "db/directory.h"

#include <chrono>

#include "common/util.h"

namespace cinder {

bool ServiceIsUp(const ServiceInfo& service, int service_down_time) {
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto seen = ParseIso(service.updated_at.value_or(service.created_at));
  return seen && now - *seen <= service_down_time;
}

namespace {

class DbDirectory : public Directory {
 public:
  DbDirectory(Store* store, int service_down_time) : store_(store), down_time_(service_down_time) {}

  Result<std::vector<std::string>> Endpoints(const std::string& topic) override {
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
      if (!host && s.disabled) continue;  // a disabled scheduler takes no new work
      out.push_back(s.endpoint);
    }
    return out;
  }

 private:
  Store* store_;
  int down_time_;
};

}  // namespace

std::shared_ptr<Directory> NewDbDirectory(Store* store, int service_down_time) {
  return std::make_shared<DbDirectory>(store, service_down_time);
}

}  // namespace cinder

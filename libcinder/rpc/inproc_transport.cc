// The in-process transport: topics map to handlers in this process; handlers run on a pool.
#include <future>
#include <random>

#include "cinder/transport.h"
#include "common/log.h"
#include "common/util.h"
#include "common/worker_pool.h"
#include "rpc/wire.h"

namespace cinder {

void StaticDirectory::Set(const std::string& topic, std::vector<std::string> endpoints) {
  std::lock_guard<std::mutex> l(mu_);
  topics_[topic] = std::move(endpoints);
}

Result<std::vector<std::string>> StaticDirectory::Endpoints(const std::string& topic) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return std::vector<std::string>{};
  return it->second;
}

namespace {

class InProcessTransport : public Transport {
 public:
  explicit InProcessTransport(int workers) : pool_(workers) {}
  ~InProcessTransport() override { Stop(); }

  Result<std::string> Serve(const std::string& topic, RpcHandler handler) override {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return Unavailable("the transport is stopped");
    if (!handlers_.emplace(topic, std::make_shared<RpcHandler>(std::move(handler))).second) {
      return AlreadyExists("topic " + topic + " is already served here");
    }
    return "inproc://" + topic;
  }

  Status Cast(const std::string& topic, const RpcRequest& request, std::chrono::milliseconds) override {
    CINDER_ASSIGN_OR_RETURN(auto handler, Find(topic));
    if (Status st = rpc::CheckVersion(request); !st.ok()) return st;
    pool_.SubmitAny([handler, request, topic] {
      Result<std::string> r = (*handler)(request);
      if (!r.ok()) CINDER_LOG(kError, topic) << "cast " << request.method << " failed: " << r.status();
    });
    return Status::OK();
  }

  Result<std::string> Call(const std::string& topic, const RpcRequest& request,
                           std::chrono::milliseconds timeout) override {
    CINDER_ASSIGN_OR_RETURN(auto handler, Find(topic));
    CINDER_RETURN_IF_ERROR(rpc::CheckVersion(request));
    auto promise = std::make_shared<std::promise<Result<std::string>>>();
    auto future = promise->get_future();
    pool_.SubmitAny([handler, request, promise] {
      try {
        promise->set_value((*handler)(request));
      } catch (const std::exception& e) {
        promise->set_value(Internal(std::string("handler raised: ") + e.what()));
      }
    });
    if (future.wait_for(timeout) != std::future_status::ready) {
      return Status(Code::kDeadlineExceeded, "no reply to " + request.method + " from " + topic + " within " +
                                                 std::to_string(timeout.count()) + " ms");
    }
    return future.get();
  }

  Result<int> Fanout(const std::string& topic, const RpcRequest& request, std::chrono::milliseconds timeout) override {
    Status st = Cast(topic, request, timeout);
    if (st.code() == Code::kUnavailable) return 0;
    if (!st.ok()) return st;
    return 1;
  }

  void Drain() override { pool_.Drain(); }

  void Stop() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopped_) return;
      stopped_ = true;
      handlers_.clear();
    }
    pool_.Drain();
  }

 private:
  Result<std::shared_ptr<RpcHandler>> Find(const std::string& topic) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = handlers_.find(topic);
    if (it == handlers_.end()) return Unavailable("no server for topic " + topic);
    return it->second;
  }

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<RpcHandler>> handlers_;
  bool stopped_ = false;
  WorkerPool pool_;  // last: drained and joined first
};

}  // namespace

std::unique_ptr<Transport> NewInProcessTransport(int workers) { return std::make_unique<InProcessTransport>(workers); }

}  // namespace cinder

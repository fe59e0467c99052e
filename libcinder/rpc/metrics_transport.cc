#include "rpc/metrics_transport.h"

#include <string_view>

#include "common/metrics.h"

namespace cinder::rpc {

namespace {

using Clock = std::chrono::steady_clock;

struct RpcMetrics {
  metrics::Registry& r = metrics::Registry::Default();
  metrics::Family& sent = r.AddCounter(
      "cinder_rpc_client_requests_total",
      "RPC requests sent, by topic (the service), method, kind (call, cast, fanout) and outcome (OK or the "
      "error code).",
      {"topic", "method", "kind", "outcome"});
  metrics::Family& call_latency = r.AddHistogram("cinder_rpc_client_call_duration_seconds",
                                                 "Time from sending an RPC call to its reply, by topic and method.",
                                                 {"topic", "method"}, metrics::LatencyBuckets());
  metrics::Family& served = r.AddCounter("cinder_rpc_server_requests_total",
                                         "RPC requests this process's services handled, by topic, method and outcome.",
                                         {"topic", "method", "outcome"});
  metrics::Family& serve_latency =
      r.AddHistogram("cinder_rpc_server_duration_seconds", "Time a handler took to answer an RPC request.",
                     {"topic", "method"}, metrics::LatencyBuckets());
};

RpcMetrics& M() {
  static auto* m = new RpcMetrics();
  return *m;
}

// The service of a topic: "cinder-volume.host@backend" -> "cinder-volume" (no host in labels).
std::string_view Service(const std::string& topic) { return std::string_view(topic).substr(0, topic.find('.')); }

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

class MetricsTransport : public Transport {
 public:
  explicit MetricsTransport(std::unique_ptr<Transport> inner) : inner_(std::move(inner)) { M(); }

  Result<std::string> Serve(const std::string& topic, RpcHandler handler) override {
    std::string service(Service(topic));
    return inner_->Serve(topic, [service, handler = std::move(handler)](const RpcRequest& req) {
      const auto t0 = Clock::now();
      auto r = handler(req);
      // A method the service does not know (a peer's made-up name; the dispatcher's "S has no
      // method M", rpc/method.cc) is not a series of its own. A known method that answers
      // Unimplemented (a driver without snapshots) keeps its name.
      const bool unknown = r.status().code() == Code::kUnimplemented &&
                           r.status().message().find(" has no method ") != std::string::npos;
      const std::string_view method = unknown ? std::string_view("unknown") : std::string_view(req.method);
      M().served.CounterWith({service, method, CodeName(r.status().code())}).Inc();
      M().serve_latency.HistogramWith({service, method}).Observe(Seconds(t0));
      return r;
    });
  }

  Status Cast(const std::string& topic, const RpcRequest& request, std::chrono::milliseconds timeout) override {
    Status st = inner_->Cast(topic, request, timeout);
    M().sent.CounterWith({Service(topic), request.method, "cast", CodeName(st.code())}).Inc();
    return st;
  }

  Result<std::string> Call(const std::string& topic, const RpcRequest& request,
                           std::chrono::milliseconds timeout) override {
    const auto t0 = Clock::now();
    auto r = inner_->Call(topic, request, timeout);
    const auto service = Service(topic);
    M().sent.CounterWith({service, request.method, "call", CodeName(r.status().code())}).Inc();
    M().call_latency.HistogramWith({service, request.method}).Observe(Seconds(t0));
    return r;
  }

  Result<int> Fanout(const std::string& topic, const RpcRequest& request, std::chrono::milliseconds timeout) override {
    auto r = inner_->Fanout(topic, request, timeout);
    M().sent.CounterWith({Service(topic), request.method, "fanout", CodeName(r.status().code())}).Inc();
    return r;
  }

  void Drain() override { inner_->Drain(); }
  void Stop() override { inner_->Stop(); }

 private:
  std::unique_ptr<Transport> inner_;
};

}  // namespace

std::unique_ptr<Transport> WithMetrics(std::unique_ptr<Transport> inner) {
  return std::make_unique<MetricsTransport>(std::move(inner));
}

}  // namespace cinder::rpc

// What an RPC costs over the ZeroMQ transport, in plain TCP and with CURVE (the deployment's key
// on both ends), on loopback in one process:
//   sequential  a call with a small request and reply over a kept connection: p50, p99, and the
//               CPU time of both ends per call (steadier than wall time on a shared machine)
//   parallel    8 threads calling at once: calls per second
//   connect     the first call of a new client (context, TCP connect, handshake, call)
//   bulk        a call whose reply is 4 MiB (a volume copy's chunk): MB/s
//   bench_rpc_roundtrip [SEQUENTIAL_CALLS]   (default 5000)
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "cinder/transport.h"
#include "rpc/transport_key.h"

using namespace cinder;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// CPU time of the whole process (client and server, every thread), in microseconds.
double CpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

RpcRequest Req(const std::string& method,
               std::string args = "{\"volume_id\": \"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\"}") {
  RpcRequest r;
  r.method = method;
  r.args = std::move(args);
  r.ctx = RequestContext::Admin("bench", "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  r.ctx.request_id = "req-0a1b2c3d-0000-4000-8000-000000000000";
  return r;
}

void Run(const char* name, const ZmqTransportOptions& base, int n) {
  const std::string bulk(4 << 20, 'x');
  auto dir = std::make_shared<StaticDirectory>();
  ZmqTransportOptions o = base;
  o.directory = dir;
  auto server = std::move(NewZmqTransport(o)).value();
  auto ep = server->Serve("bench", [&bulk](const RpcRequest& r) -> Result<std::string> {
    if (r.method == "bulk") return bulk;
    return std::string("{\"path\": \"/var/lib/cinder/volumes/file/volume-0f1e2d3c\"}");
  });
  if (!ep.ok()) {
    std::fprintf(stderr, "%s\n", ep.status().ToString().c_str());
    std::exit(1);
  }
  dir->Set("bench", {*ep});
  auto client = std::move(NewZmqTransport(o)).value();
  for (int i = 0; i < 200; ++i) (void)client->Call("bench", Req("local_path"), milliseconds(5000));  // warm up

  std::vector<double> us;
  us.reserve(n);
  const double cpu0 = CpuUs();
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    auto r = client->Call("bench", Req("local_path"), milliseconds(5000));
    us.push_back(Us(Clock::now() - t0));
    if (!r.ok()) std::exit(1);
  }
  const double cpu_per_call = (CpuUs() - cpu0) / n;
  std::sort(us.begin(), us.end());

  constexpr int kThreads = 8;
  const int per_thread = std::max(1, n / kThreads);
  std::atomic<int> failed{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        if (!client->Call("bench", Req("local_path"), milliseconds(5000)).ok()) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double rate = kThreads * per_thread / std::chrono::duration<double>(Clock::now() - t0).count();

  constexpr int kConnects = 100;
  std::vector<double> connect_us;
  for (int i = 0; i < kConnects; ++i) {
    auto t1 = Clock::now();
    auto fresh = std::move(NewZmqTransport(o)).value();
    if (!fresh->Call("bench", Req("local_path"), milliseconds(5000)).ok()) ++failed;
    connect_us.push_back(Us(Clock::now() - t1));
  }
  std::sort(connect_us.begin(), connect_us.end());

  constexpr int kBulk = 20;
  auto t2 = Clock::now();
  const double cpu2 = CpuUs();
  for (int i = 0; i < kBulk; ++i) {
    if (!client->Call("bench", Req("bulk"), milliseconds(10000)).ok()) ++failed;
  }
  const double mbs = kBulk * 4.0 * 1.048576 / std::chrono::duration<double>(Clock::now() - t2).count();
  const double bulk_cpu_ms = (CpuUs() - cpu2) / kBulk / 1000;

  std::printf(
      "%-6s sequential %d calls: p50 %.0f us, p99 %.0f us, CPU %.0f us/call | parallel 8 threads: %.0f calls/s | "
      "connect + first call: p50 %.0f us | 4 MiB replies: %.0f MB/s, CPU %.1f ms each%s\n",
      name, n, us[n / 2], us[n * 99 / 100], cpu_per_call, rate, connect_us[kConnects / 2], mbs, bulk_cpu_ms,
      failed ? " (SOME FAILED)" : "");
  client->Stop();
  server->Stop();
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 5000;
  auto key = rpc::NewTransportKey();
  if (!key.ok()) return 1;
  ZmqTransportOptions curve;
  curve.curve_public_key = key->public_key;
  curve.curve_secret_key = key->secret_key;
  for (int round = 0; round < 3; ++round) {  // alternated, on a machine that is shared
    Run("plain", ZmqTransportOptions(), n);
    Run("curve", curve, n);
  }
  return 0;
}

// What a /metrics scrape costs with many pools (docs/metrics.md, "Cost"), and what counting
// costs a request meanwhile. The registry holds what a busy cinder-all shows: the API's
// request counters and latency histograms over its routes, the RPC families, the scheduler's
// counters, the database's counts (services of every backend) and the capacity of N pools
// (rendered as the scheduler renders it, once, not per scrape).
//   build/bin/bench_metrics [--pools=1000] [--scrapes=2000] [--writers=2]
// Prints the scrape's time (text only, then over HTTP on the [metrics] listener) alone and while
// `writers` threads count requests as Router::Handle does, and the writers' cost per request.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "api/http_server.h"
#include "api/metrics_listener.h"
#include "cinder/options.h"
#include "common/metrics.h"
#include "scheduler/scheduler_service.h"

using namespace cinder;
using Clock = std::chrono::steady_clock;

namespace {

double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Figures {
  double median, p99, max;
};

Figures Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)], v.back()};
}

const char* kRoutes[] = {"/v3/{project_id}/volumes",
                         "/v3/{project_id}/volumes/detail",
                         "/v3/{project_id}/volumes/{id}",
                         "/v3/{project_id}/volumes/{id}/action",
                         "/v3/{project_id}/volumes/{id}/metadata",
                         "/v3/{project_id}/snapshots",
                         "/v3/{project_id}/snapshots/detail",
                         "/v3/{project_id}/snapshots/{id}",
                         "/v3/{project_id}/backups",
                         "/v3/{project_id}/backups/detail",
                         "/v3/{project_id}/backups/{id}",
                         "/v3/{project_id}/backups/{id}/restore",
                         "/v3/{project_id}/types",
                         "/v3/{project_id}/types/{id}",
                         "/v3/{project_id}/types/{id}/extra_specs",
                         "/v3/{project_id}/os-quota-sets/{id}",
                         "/v3/{project_id}/limits",
                         "/v3/{project_id}/os-services",
                         "/v3/{project_id}/scheduler-stats/get_pools",
                         "/v3/{project_id}/attachments",
                         "/v3/{project_id}/attachments/{id}",
                         "/v3/{project_id}/attachments/{id}/action",
                         "/v3/{project_id}/messages",
                         "/v3/{project_id}/groups",
                         "/v3/{project_id}/group_snapshots",
                         "/v3",
                         "/",
                         "/identity",
                         "/metrics"};
const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
const char* kStatuses[] = {"200", "202", "400", "404"};

// Counts one request as Router::Handle does (the label set's lookup included).
void CountRequest(metrics::Family& requests, metrics::Family& latency, unsigned i) {
  const char* route = kRoutes[i % (sizeof(kRoutes) / sizeof(*kRoutes))];
  const char* method = kMethods[(i / 7) % 4];
  requests.CounterWith({route, method, kStatuses[(i / 3) % 4]}).Inc();
  latency.HistogramWith({route, method}).Observe(0.0003 * (i % 50));
}

// GET `path` over a new connection (as Prometheus without keep-alive); the bytes read.
size_t HttpGet(int port, const char* path = "/metrics") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    perror("connect");
    exit(1);
  }
  const std::string req = std::string("GET ") + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (write(fd, req.data(), req.size()) < 0) exit(1);
  static thread_local std::vector<char> buf(1 << 20);
  size_t total = 0;
  ssize_t n;
  while ((n = read(fd, buf.data(), buf.size())) > 0) total += static_cast<size_t>(n);
  close(fd);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  int pools = 1000, scrapes = 2000, writers = 2;
  for (int i = 1; i < argc; ++i) {
    if (!strncmp(argv[i], "--pools=", 8)) pools = atoi(argv[i] + 8);
    if (!strncmp(argv[i], "--scrapes=", 10)) scrapes = atoi(argv[i] + 10);
    if (!strncmp(argv[i], "--writers=", 10)) writers = atoi(argv[i] + 10);
  }
  auto& r = metrics::Registry::Default();
  auto& requests = r.AddCounter("cinder_api_requests_total", "Requests.", {"route", "method", "status"});
  auto& latency =
      r.AddHistogram("cinder_api_request_duration_seconds", "Latency.", {"route", "method"}, metrics::LatencyBuckets());
  for (unsigned i = 0; i < 2000; ++i) CountRequest(requests, latency, i);  // every label set once
  auto& rpc = r.AddCounter("cinder_rpc_client_requests_total", "RPC.", {"topic", "method", "kind", "outcome"});
  auto& rpc_latency = r.AddHistogram("cinder_rpc_client_call_duration_seconds", "RPC latency.", {"topic", "method"},
                                     metrics::LatencyBuckets());
  const char* kRpc[] = {"create_volume",        "delete_volume",
                        "extend_volume",        "attach_volume",
                        "detach_volume",        "create_snapshot",
                        "delete_snapshot",      "initialize_connection",
                        "terminate_connection", "update_service_capabilities",
                        "create_backup",        "restore_backup"};
  for (const char* m : kRpc) {
    rpc.CounterWith({"cinder-volume", m, "call", "OK"}).Inc(10);
    rpc.CounterWith({"cinder-volume", m, "cast", "OK"}).Inc(10);
    rpc_latency.HistogramWith({"cinder-volume", m}).Observe(0.002);
  }
  // The pools' section, as the scheduler renders it; services of every backend (4 pools each).
  std::vector<PoolState> states(static_cast<size_t>(pools));
  std::vector<const PoolState*> ptrs;
  for (int i = 0; i < pools; ++i) {
    auto& p = states[static_cast<size_t>(i)];
    p.backend_host = "storage-host-" + std::to_string(i / 4) + "@backend-" + std::to_string(i % 3);
    p.host = p.backend_host + "#pool-" + std::to_string(i % 4);
    p.total_capacity_gb = 10240 + i;
    p.free_capacity_gb = 4096.5 + i;
    p.allocated_capacity_gb = 6000 + i;
    p.provisioned_capacity_gb = 6100.25 + i;
    p.volume_count = 100 + i;
    ptrs.push_back(&p);
  }
  auto pool_section = r.AddSection("scheduler_pools");
  auto t0 = Clock::now();
  pool_section->Set(PoolCapacityText(ptrs));
  const double render_us = Us(Clock::now() - t0);
  auto db_section = r.AddSection("db_status");
  {
    std::string text;
    metrics::TextWriter w(&text);
    w.Begin("cinder_volumes", "Volumes.", metrics::Type::kGauge);
    for (const char* s : {"available", "in-use", "creating", "deleting", "error", "extending", "backing-up"}) {
      w.Sample("cinder_volumes", {{"status", s}}, 1000);
    }
    w.Begin("cinder_service_up", "Up.", metrics::Type::kGauge);
    for (int i = 0; i < pools / 4; ++i) {
      w.Sample("cinder_service_up",
               {{"binary", "cinder-volume"}, {"host", "storage-host-" + std::to_string(i)}, {"zone", "nova"}}, 1);
    }
    db_section->Set(std::move(text));
  }

  const size_t size = r.Text().size();
  std::printf("pools %d: %zu bytes per scrape; the pools' section rendered in %.0f us (once per change)\n", pools, size,
              render_us);

  auto scrape_text = [&](int n) {
    std::vector<double> us;
    us.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto s = Clock::now();
      std::string text = r.Text();
      us.push_back(Us(Clock::now() - s));
      if (text.size() < size / 2) std::abort();
    }
    return Summarize(us);
  };

  Options o;
  o.metrics.listen = "127.0.0.1:0";
  auto listener = api::StartMetricsListener(o);
  if (!listener.ok()) {
    std::fprintf(stderr, "%s\n", listener.status().ToString().c_str());
    return 1;
  }
  const int port = (*listener)->port();
  auto scrape_http = [&](int n) {
    std::vector<double> us;
    for (int i = 0; i < n; ++i) {
      auto s = Clock::now();
      if (HttpGet(port) < size) std::abort();
      us.push_back(Us(Clock::now() - s));
    }
    return Summarize(us);
  };

  // The writers alone: the cost a request pays for its metrics.
  auto run_writers = [&](std::atomic<bool>* stop, std::atomic<uint64_t>* done) {
    std::vector<std::thread> ts;
    for (int w = 0; w < writers; ++w) {
      ts.emplace_back([&, w, stop, done] {
        unsigned i = static_cast<unsigned>(w) * 7919;
        uint64_t n = 0;
        while (!stop->load(std::memory_order_relaxed)) {
          for (int k = 0; k < 256; ++k) CountRequest(requests, latency, i++);
          n += 256;
        }
        done->fetch_add(n);
      });
    }
    return ts;
  };
  auto per_request_ns = [&](bool scraping) {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> done{0};
    std::atomic<bool> scr_stop{false};
    std::thread scraper;
    if (scraping) {
      scraper = std::thread([&] {
        while (!scr_stop.load()) (void)r.Text();
      });
    }
    auto start = Clock::now();
    auto ts = run_writers(&stop, &done);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
    for (auto& t : ts) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    scr_stop = true;
    if (scraper.joinable()) scraper.join();
    return secs * 1e9 * writers / static_cast<double>(done.load());
  };

  Figures alone = scrape_text(scrapes);
  Figures http_alone = scrape_http(std::max(1, scrapes / 4));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  auto ts = run_writers(&stop, &done);
  Figures busy = scrape_text(scrapes);
  Figures http_busy = scrape_http(std::max(1, scrapes / 4));
  stop = true;
  for (auto& t : ts) t.join();

  std::printf("scrape, text only:         median %7.1f us  p99 %7.1f us  max %7.1f us\n", alone.median, alone.p99,
              alone.max);
  std::printf("scrape, over HTTP:         median %7.1f us  p99 %7.1f us  max %7.1f us\n", http_alone.median,
              http_alone.p99, http_alone.max);
  std::printf("while %d writers count:    median %7.1f us  p99 %7.1f us  max %7.1f us (text)\n", writers, busy.median,
              busy.p99, busy.max);
  std::printf("                           median %7.1f us  p99 %7.1f us  max %7.1f us (HTTP)\n", http_busy.median,
              http_busy.p99, http_busy.max);
  std::printf("a request's counting:      %.0f ns alone, %.0f ns while scrapes run back to back\n",
              per_request_ns(false), per_request_ns(true));

  // Over HTTP: an API-like listener (osapi_volume_workers = 2) whose handler counts each request
  // as Router::Handle does; requests timed alone and while /metrics is scraped back to back, and
  // scrapes timed while `writers` clients send requests back to back.
  Options ao;
  ao.osapi_volume_listen = "127.0.0.1";
  ao.osapi_volume_listen_port = 0;
  ao.osapi_volume_workers = 2;
  auto api = api::HttpListener::Listen(ao);
  if (!api.ok()) return 1;
  std::atomic<unsigned> next{0};
  (void)(*api)->Serve([&](api::ApiRequest&) {
    CountRequest(requests, latency, next.fetch_add(1, std::memory_order_relaxed));
    return api::Json(200, "{\"volumes\": []}");
  });
  const int api_port = (*api)->port();
  auto time_requests = [&](int n) {
    std::vector<double> us;
    for (int i = 0; i < n; ++i) {
      auto s = Clock::now();
      HttpGet(api_port, "/v3/p/volumes");
      us.push_back(Us(Clock::now() - s));
    }
    return Summarize(us);
  };
  Figures req_alone = time_requests(scrapes);
  std::atomic<bool> scraping{true};
  std::thread scraper([&] {
    while (scraping.load()) HttpGet(port);
  });
  Figures req_scraped = time_requests(scrapes);
  scraping = false;
  scraper.join();
  std::atomic<bool> loading{true};
  std::vector<std::thread> clients;
  for (int w = 0; w < writers; ++w) {
    clients.emplace_back([&] {
      while (loading.load()) HttpGet(api_port, "/v3/p/volumes");
    });
  }
  Figures scrape_loaded = scrape_http(std::max(1, scrapes / 4));
  loading = false;
  for (auto& t : clients) t.join();
  (*api)->Stop();
  std::printf("an HTTP request (new connection), alone:             median %6.1f us  p99 %7.1f us\n", req_alone.median,
              req_alone.p99);
  std::printf("an HTTP request while /metrics is scraped nonstop:   median %6.1f us  p99 %7.1f us\n",
              req_scraped.median, req_scraped.p99);
  std::printf("a scrape over HTTP while %d clients send requests:    median %6.1f us  p99 %7.1f us\n", writers,
              scrape_loaded.median, scrape_loaded.p99);
  (*listener)->Stop();
  return 0;
}

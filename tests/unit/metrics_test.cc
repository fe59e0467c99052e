// The metrics module's text writer (common/metrics.h): escaping, histogram invariants, series
// counted from many threads at once; and the [metrics] listen listener (api/metrics_listener.h).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "api/metrics_listener.h"
#include "cinder/options.h"
#include "common/metrics.h"

namespace cinder::metrics {

namespace {

// The lines of `text` that start with `prefix`.
std::vector<std::string> Lines(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    std::string line = text.substr(at, end - at);
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
    at = end + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("metrics: label values and help text are escaped") {
  Registry r;
  r.AddCounter("t_escaped_total", "Help with a \\ backslash\nand a newline.", {"what"})
      .CounterWith({"a \"quoted\" back\\slash\nnewline"})
      .Inc(3);
  const std::string text = r.Text();
  CHECK(text.find("# HELP t_escaped_total Help with a \\\\ backslash\\nand a newline.\n") != std::string::npos);
  CHECK(text.find("# TYPE t_escaped_total counter\n") != std::string::npos);
  CHECK(text.find("t_escaped_total{what=\"a \\\"quoted\\\" back\\\\slash\\nnewline\"} 3\n") != std::string::npos);
  CHECK(text.back() == '\n');
}

TEST_CASE("metrics: an unlabelled series shows 0 from the start; a labelled family only once it has a series") {
  Registry r;
  r.AddCounter("t_plain_total", "Plain.");
  auto& labelled = r.AddCounter("t_labelled_total", "Labelled.", {"k"});
  std::string text = r.Text();
  CHECK(Lines(text, "t_plain_total").size() == 1);
  CHECK(Lines(text, "t_plain_total")[0] == "t_plain_total 0");
  CHECK(text.find("t_labelled_total") == std::string::npos);
  labelled.CounterWith({"v"}).Inc();
  text = r.Text();
  CHECK(Lines(text, "t_labelled_total")[0] == "t_labelled_total{k=\"v\"} 1");
  // The same name again is the same family; another type is refused.
  CHECK(&r.AddCounter("t_labelled_total", "Labelled.", {"k"}) == &labelled);
  CHECK_THROWS(r.AddGauge("t_labelled_total", "Labelled.", {"k"}));
  CHECK_THROWS(labelled.CounterWith({"a", "b"}));
}

TEST_CASE("metrics: gauges print Go's float syntax") {
  Registry r;
  auto& g = r.AddGauge("t_gauge", "G.", {"k"});
  g.GaugeWith({"inf"}).Set(std::numeric_limits<double>::infinity());
  g.GaugeWith({"half"}).Set(0.5);
  g.GaugeWith({"big"}).Set(1e21);
  const std::string text = r.Text();
  CHECK(text.find("t_gauge{k=\"inf\"} +Inf\n") != std::string::npos);
  CHECK(text.find("t_gauge{k=\"half\"} 0.5\n") != std::string::npos);
  CHECK(text.find("t_gauge{k=\"big\"} 1e+21\n") != std::string::npos);
}

TEST_CASE("metrics: a histogram's buckets are cumulative, sorted, and +Inf equals _count") {
  Registry r;
  static const std::vector<double> bounds = {0.1, 1, 10};
  auto& h = r.AddHistogram("t_latency_seconds", "L.", {"op"}, bounds).HistogramWith({"x"});
  for (double v : {0.05, 0.1, 0.5, 2.0, 20.0, 30.0}) h.Observe(v);
  const std::string text = r.Text();
  const auto buckets = Lines(text, "t_latency_seconds_bucket");
  REQUIRE(buckets.size() == 4);
  CHECK(buckets[0] == "t_latency_seconds_bucket{op=\"x\",le=\"0.1\"} 2");  // le is inclusive
  CHECK(buckets[1] == "t_latency_seconds_bucket{op=\"x\",le=\"1\"} 3");
  CHECK(buckets[2] == "t_latency_seconds_bucket{op=\"x\",le=\"10\"} 4");
  CHECK(buckets[3] == "t_latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 6");
  CHECK(Lines(text, "t_latency_seconds_count")[0] == "t_latency_seconds_count{op=\"x\"} 6");
  CHECK(Lines(text, "t_latency_seconds_sum")[0] == "t_latency_seconds_sum{op=\"x\"} 52.65");
  CHECK_THROWS(r.AddHistogram("t_bad_seconds", "B.", {}, {1, 1}));
  CHECK_THROWS(r.AddHistogram("t_bad2_seconds", "B.", {}, {2, 1}));
}

TEST_CASE("metrics: increments from many threads are all counted, while scrapes run") {
  Registry r;
  auto& family = r.AddCounter("t_concurrent_total", "C.", {"route", "status"});
  static const std::vector<double> bounds = {1, 2};
  auto& hist = r.AddHistogram("t_concurrent_seconds", "C.", {"route"}, bounds);
  constexpr int kThreads = 8, kEach = 20000;
  std::atomic<bool> done{false};
  int scrapes = 0, mismatches = 0;
  std::thread scraper([&] {
    while (!done.load()) {
      const std::string text = r.Text();
      ++scrapes;
      // A scrape mid-way still shows +Inf == _count (both read from the same buckets).
      for (const auto& line : Lines(text, "t_concurrent_seconds_bucket{route=\"r1\",le=\"+Inf\"}")) {
        const auto count = Lines(text, "t_concurrent_seconds_count{route=\"r1\"}");
        if (count.size() != 1 || line.substr(line.rfind(' ')) != count[0].substr(count[0].rfind(' '))) ++mismatches;
      }
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        family.CounterWith({i % 2 ? "r1" : "r2", "200"}).Inc();
        hist.HistogramWith({"r1"}).Observe(t % 3);
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  scraper.join();
  CHECK(scrapes > 0);
  CHECK(mismatches == 0);
  const std::string text = r.Text();
  CHECK(Lines(text, "t_concurrent_total{route=\"r1\",status=\"200\"}")[0] ==
        "t_concurrent_total{route=\"r1\",status=\"200\"} " + std::to_string(kThreads * kEach / 2));
  CHECK(Lines(text, "t_concurrent_total{route=\"r2\",status=\"200\"}")[0] ==
        "t_concurrent_total{route=\"r2\",status=\"200\"} " + std::to_string(kThreads * kEach / 2));
  CHECK(Lines(text, "t_concurrent_seconds_count")[0] ==
        "t_concurrent_seconds_count{route=\"r1\"} " + std::to_string(kThreads * kEach));
}

TEST_CASE("metrics: sections are shown while their owner holds them; the newest of a key wins") {
  Registry r;
  auto a = r.AddSection("k");
  std::string text;
  TextWriter w(&text);
  w.Begin("t_section", "S.", Type::kGauge);
  w.Sample("t_section", {{"pool", "h@b#p"}}, 2);
  a->Set(text);
  CHECK(r.Text() == "# HELP t_section S.\n# TYPE t_section gauge\nt_section{pool=\"h@b#p\"} 2\n");
  auto b = r.AddSection("k");
  b->Set("# HELP t_other O.\n# TYPE t_other gauge\nt_other 1\n");
  CHECK(r.Text().find("t_section") == std::string::npos);
  b.reset();
  CHECK(r.Text().empty());
}

namespace {

// One request over a new connection; the whole answer (head and body).
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  REQUIRE(write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

}  // namespace

TEST_CASE("metrics: the [metrics] listen listener answers GET /metrics, 404 elsewhere, and says why it cannot start") {
  Registry::Default().AddCounter("t_listener_total", "L.").CounterWith({}).Inc(7);
  Options o;
  CHECK_FALSE(*api::StartMetricsListener(o));  // no listen: no listener
  o.metrics.listen = "127.0.0.1:0";
  auto l = api::StartMetricsListener(o);
  REQUIRE_MESSAGE(l.ok(), l.status().ToString());
  REQUIRE(*l);
  const std::string got = HttpGet((*l)->port(), "/metrics");
  CHECK(got.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(got.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
  CHECK(got.find("\r\n\r\n# HELP ") != std::string::npos);
  CHECK(got.find("\nt_listener_total 7\n") != std::string::npos);
  CHECK(HttpGet((*l)->port(), "/v3").rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  // The port taken: the daemon stops at start, naming the option.
  Options same = o;
  same.metrics.listen = "127.0.0.1:" + std::to_string((*l)->port());
  auto taken = api::StartMetricsListener(same);
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.status().code() == Code::kUnavailable);
  CHECK(taken.status().message().rfind("[metrics] listen: cannot listen on 127.0.0.1:", 0) == 0);
  (*l)->Stop();
  // A program's Options are not checked by the config reader: the listener checks them.
  same.metrics.listen = "nowhere";
  CHECK(api::StartMetricsListener(same).status().code() == Code::kInvalidArgument);
  // [metrics] enabled = false: no listener either.
  same.metrics.listen = "127.0.0.1:0";
  same.metrics.enabled = false;
  CHECK_FALSE(*api::StartMetricsListener(same));
}

}  // namespace cinder::metrics

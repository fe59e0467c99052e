// The C++ figures beside bench/python_embedded.py's (docs/python.md, "Figures"): the same embedded
// service (SQLite, one file backend, the options cinder.open() is given there), the same
// create -> available (polled as Volume.wait polls: 10 us growing to 1 ms) and the same listing of
// 10,000 volumes in pages of osapi_max_limit (1,000), through the C++ API.
//
//   build/bin/bench_embedded [VOLUMES [CREATES]]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cinder/options.h"
#include "cinder/service.h"
#include "cinder/volume_manager.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Creates a volume and waits until it leaves "creating", as the Python module's wait() does.
bool CreateAndWait(cinder::VolumeManager& vm, const cinder::RequestContext& ctx) {
  cinder::VolumeCreate create;
  create.size = 1;
  auto v = vm.CreateVolume(ctx, create);
  if (!v.ok()) return false;
  auto delay = std::chrono::microseconds(10);
  for (;;) {
    auto cur = vm.GetVolume(ctx, v->id);
    if (!cur.ok()) return false;
    if (cur->status != "creating") return cur->status == "available";
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 3 / 2, std::chrono::microseconds(1000));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int volumes = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int creates = argc > 2 ? std::atoi(argv[2]) : 200;
  char tmpl[] = "/tmp/cinder-bench-embedded-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string conf = "[DEFAULT]\nstate_path = " + dir +
                           "\nosapi_volume_listen_port = 0\nquota_volumes = -1\nquota_gigabytes = -1\n"
                           "osapi_max_pending_creates = 0\nmax_over_subscription_ratio = 100000\n"
                           "enabled_backends = file\n[file]\nvolume_driver = file\nvolume_backend_name = file\n"
                           "file_volume_directory = " +
                           dir + "/volumes/file\n";
  std::vector<std::string> warnings;
  auto options = cinder::ParseConfig(conf, "bench_embedded", &warnings);
  if (!options.ok() || !cinder::DbSync(*options).ok()) return 1;
  auto service = cinder::EmbeddedService::Start(*options);
  if (!service.ok()) {
    std::fprintf(stderr, "%s\n", service.status().ToString().c_str());
    return 1;
  }
  cinder::VolumeManager& vm = (*service)->volumes();
  const auto ctx = cinder::RequestContext::Admin("bench", "bench");

  for (int i = 0; i < 20; ++i) CreateAndWait(vm, ctx);  // warm up
  std::vector<double> create_ms;
  for (int i = 0; i < creates; ++i) {
    const auto t = Clock::now();
    if (!CreateAndWait(vm, ctx)) return 1;
    create_ms.push_back(Ms(Clock::now() - t));
  }
  const int todo = std::max(0, volumes - 20 - creates);
  std::vector<std::thread> fill;
  for (int k = 0; k < 4; ++k) {
    fill.emplace_back([&, k] {
      cinder::VolumeCreate create;
      create.size = 1;
      for (int i = k; i < todo; i += 4) (void)vm.CreateVolume(ctx, create);
    });
  }
  for (auto& t : fill) t.join();
  vm.Drain();

  std::vector<double> list_ms;
  size_t listed = 0;
  for (int run = 0; run < 7; ++run) {
    const auto t = Clock::now();
    std::vector<cinder::Volume> all;
    cinder::VolumeListQuery q;
    q.limit = options->osapi_max_limit;
    for (;;) {
      auto page = vm.ListVolumes(ctx, q);
      if (!page.ok()) return 1;
      for (auto& v : page->volumes) all.push_back(std::move(v));
      if (!page->more || page->volumes.empty()) break;
      q.marker = all.back().id;
    }
    list_ms.push_back(Ms(Clock::now() - t));
    listed = all.size();
  }
  (*service)->Stop();
  std::filesystem::remove_all(dir);

  std::vector<double> sorted = create_ms;
  std::sort(sorted.begin(), sorted.end());
  std::printf("create -> available: median %.3f ms, p90 %.3f ms (%d creates, each waited for)\n", Median(create_ms),
              sorted[sorted.size() * 9 / 10], creates);
  std::printf("list %zu volumes into C++ structs: median %.1f ms, best %.1f ms (7 runs; the first, cold: %.1f ms)\n",
              listed, Median(list_ms), *std::min_element(list_ms.begin(), list_ms.end()), list_ms[0]);
  return 0;
}

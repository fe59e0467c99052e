// Placement decisions through the scheduler service, in process: what one create costs the
// service from the cast to the hand-over to its volume host (decoding, the services read,
// the pools' snapshot, Rank, the claim in SQLite, the hand-over), over N pools of N/4 backends.
// bench_placement measures Rank alone.
//   build/bin/bench_scheduler_service [--pools=100,1000,...] [--decisions=N] [--dir=/dev/shm]
// The database is a SQLite file under --dir (default /dev/shm when it exists: no fsync cost).
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "cinder/options.h"
#include "cinder/service.h"
#include "cinder/transport.h"
#include "common/util.h"
#include "db/store.h"
#include "scheduler/scheduler_rpc.h"
#include "scheduler/scheduler_service.h"

using namespace cinder;

namespace {

// A fresh directory, removed with all it holds at the end of the scope.
class WorkDir {
 public:
  explicit WorkDir(const std::string& parent) {
    std::string tmpl = parent + "/bench-scheduler-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data())) path_ = buf.data();
  }
  ~WorkDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The volume hosts: take every placement at once and count it.
class CountingHosts : public VolumeHostClient {
 public:
  Status CreateVolume(const RequestContext&, const std::string&, int64_t, const PlacementRequest&,
                      std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> l(mu_);
    ++placed_;
    cv_.notify_all();
    return Status::OK();
  }
  Status RetypeVolume(const RequestContext&, const std::string&, const RetypeRequest&, const std::string&,
                      std::chrono::milliseconds) override {
    return Unimplemented("no retypes here");
  }
  // Waits until `n` volumes were handed over; false after 10 s.
  bool WaitFor(long n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10), [&] { return placed_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  long placed_ = 0;
};

std::map<std::string, std::string> Capabilities(int i, const std::string& backend) {
  const bool thin = i % 2 == 0;
  return {
      {"pool_name", "pool"},
      {"total_capacity_gb", std::to_string(100000 + i % 97 * 10) + ".0"},
      {"free_capacity_gb", std::to_string(100000 + i % 89 * 7) + ".0"},
      {"allocated_capacity_gb", "0"},
      {"total_volumes", "0"},
      {"thin_provisioning_support", thin ? "True" : "False"},
      {"thick_provisioning_support", thin ? "False" : "True"},
      {"max_over_subscription_ratio", "20.0"},
      {"reserved_percentage", std::to_string(i % 5)},
      {"volume_backend_name", backend},
      {"vendor_name", "libcinder"},
      {"driver_version", "1.0"},
      {"storage_protocol", "iSCSI"},
      {"QoS_support", "False"},
      {"multiattach", "False"},
      {"filter_function", "None"},
      {"goodness_function", "None"},
      {"tier", i % 3 == 0 ? "gold" : "silver"},
  };
}

// `n` pools, four per backend (host@backendK#pool), each backend a live cinder-volume.
Status Populate(Store* store, int n) {
  const std::string now = NowIso();
  for (int b = 0; b * 4 < n; ++b) {
    const std::string backend_host = "host" + std::to_string(b) + "@backend";
    ServiceInfo svc;
    svc.host = backend_host;
    svc.binary = "cinder-volume";
    svc.topic = "cinder-volume";
    svc.availability_zone = "nova";
    CINDER_RETURN_IF_ERROR(store->RegisterService(svc));
    std::vector<PoolRecord> pools;
    for (int k = 0; k < 4 && b * 4 + k < n; ++k) {
      PoolRecord r;
      r.host = backend_host + "#pool" + std::to_string(k);
      r.backend_host = backend_host;
      r.capabilities = Capabilities(b * 4 + k, "backend");
      r.reported_at = now;
      pools.push_back(std::move(r));
    }
    CINDER_RETURN_IF_ERROR(store->ReportPools(backend_host, pools));
  }
  return Status::OK();
}

// Microseconds per decision over `decisions` creates through a scheduler service over `n` pools.
Result<double> Measure(const std::string& parent, int n, long decisions) {
  WorkDir dir(parent);
  if (dir.path().empty()) return Internal("cannot make a directory in " + parent);
  Options o = DefaultOptions(dir.path());
  o.host = "bench";
  o.report_interval = 3600;  // no sweep during the run
  o.service_down_time = 7200;
  CINDER_RETURN_IF_ERROR(DbSync(o));
  CINDER_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(o.DatabaseUrl()));
  CINDER_RETURN_IF_ERROR(Populate(store.get(), n));
  std::vector<std::string> ids;
  for (long i = 0; i < decisions; ++i) {
    Volume v;
    v.id = NewUuid();
    v.size = 1;
    v.status = "creating";
    v.project_id = "bench";
    v.user_id = "bench";
    v.availability_zone = "nova";
    v.created_at = NowIso();
    CINDER_RETURN_IF_ERROR(store->InsertVolume(v));
    ids.push_back(v.id);
  }
  auto transport = NewInProcessTransport(2);
  auto hosts = std::make_unique<CountingHosts>();
  CountingHosts* counted = hosts.get();
  CINDER_ASSIGN_OR_RETURN(auto service, SchedulerService::Start(o, store.get(), transport.get(), std::move(hosts)));
  SchedulerRpc schedulers(transport.get());
  const RequestContext ctx = RequestContext::Admin("bench", "bench");
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < decisions; ++i) {
    PlacementRequest p;
    p.volume_id = ids[i];
    p.volume = VolumeProperties{1, "nova", "", "bench", "bench", "", ""};
    p.extra_specs = StringMap{{"capabilities:tier", "<in> gold silver"}};
    CINDER_RETURN_IF_ERROR(schedulers.CreateVolume(ctx, p));
    if (!counted->WaitFor(i + 1)) return Internal("volume " + ids[i] + " was not placed");
  }
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  transport->Stop();
  service.reset();
  return us / decisions;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {100, 1000, 4000};
  long decisions = 500;
  std::string parent = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strncmp(a, "--pools=", 8) == 0) {
      sizes.clear();
      for (const auto& s : Split(a + 8, ',')) sizes.push_back(std::atoi(s.c_str()));
    } else if (std::strncmp(a, "--decisions=", 12) == 0) {
      decisions = std::max(1L, std::atol(a + 12));
    } else if (std::strncmp(a, "--dir=", 6) == 0) {
      parent = a + 6;
    } else {
      std::fprintf(stderr, "usage: %s [--pools=N,N,...] [--decisions=N] [--dir=DIR]\n", argv[0]);
      return 1;
    }
  }
  std::printf("%8s %14s %12s\n", "pools", "decisions/s", "us/decision");
  for (int n : sizes) {
    auto us = Measure(parent, n, decisions);
    if (!us.ok()) {
      std::fprintf(stderr, "%d pools: %s\n", n, us.status().ToString().c_str());
      return 2;
    }
    std::printf("%8d %14.0f %12.1f\n", n, 1e6 / *us, *us);
  }
  return 0;
}

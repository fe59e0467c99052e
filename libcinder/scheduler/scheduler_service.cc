#include "scheduler/scheduler_service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "cinder/env.h"
#include "cinder/scheduler.h"
#include "common/log.h"
#include "common/message_field.h"
#include "common/metrics.h"
#include "common/util.h"
#include "db/directory.h"
#include "db/heartbeat.h"
#include "rpc/topics.h"
#include "scheduler/scheduler_rpc.h"

namespace cinder {

namespace {

namespace mf = message_field;
namespace vs = volume_status;

// How long a volume may wait, unplaced, for a scheduler before another one places it (the
// scheduler it was sent to died after taking it).
constexpr double kUnplacedGraceSeconds = 30;

// Pools ranked per round of a placement (see ScheduleCreate).
constexpr size_t kCandidatesPerRound = 8;

// Placements and NoValidBackend counts (docs/metrics.md).
struct SchedulerMetrics {
  metrics::Family& placements = metrics::Registry::Default().AddCounter(
      "cinder_scheduler_placements_total",
      "Volumes and groups this scheduler placed, by backend (host@backend) and operation (create, manage, retype, "
      "group).",
      {"backend", "operation"});
  metrics::Family& no_valid = metrics::Registry::Default().AddCounter(
      "cinder_scheduler_no_valid_backend_total",
      "Placements that found no valid backend (Cinder's NoValidBackend), by operation.", {"operation"});
  SchedulerMetrics() {
    for (const char* op : {"create", "manage", "retype", "group"}) no_valid.CounterWith({op});  // 0 from the start
  }
};

SchedulerMetrics& Counted() {
  static auto* m = new SchedulerMetrics();
  return *m;
}

void CountPlaced(const std::string& backend, const char* operation) {
  Counted().placements.CounterWith({backend, operation}).Inc();
}

void CountNoValid(const char* operation) { Counted().no_valid.CounterWith({operation}).Inc(); }

SchedulerConfig ConfigFrom(const Options& o) {
  SchedulerConfig c;
  c.filters = o.scheduler_default_filters;
  c.weighers = o.scheduler_default_weighers;
  c.stochastic = o.scheduler_stochastic_weights;
  c.capacity_weight_multiplier = o.capacity_weight_multiplier;
  c.allocated_capacity_weight_multiplier = o.allocated_capacity_weight_multiplier;
  c.volume_number_multiplier = o.volume_number_multiplier;
  return c;
}

class SchedulerServiceImpl : public SchedulerService, public SchedulerRpcServer {
 public:
  SchedulerServiceImpl(const Options& options, Store* store, Transport* transport,
                       std::unique_ptr<VolumeHostClient> hosts, std::unique_ptr<Scheduler> scheduler)
      : options_(options),
        store_(store),
        transport_(transport),
        hosts_(std::move(hosts)),
        scheduler_(std::move(scheduler)),
        env_(options.env ? options.env : Env::Default()),
        heartbeat_(store, options.report_interval, env_) {}

  ~SchedulerServiceImpl() override {
    {
      std::lock_guard<std::mutex> l(sweep_mu_);
      stopping_ = true;
    }
    sweep_cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
  }

  // Renders the pools' capacity for /metrics (not on the scrape path): after each Refresh, and
  // on reports: at once for a new pool, at most every second for a known one.
  void PublishPools() {
    // One render at a time: a render of older pools never replaces a newer one.
    std::lock_guard<std::mutex> publishing(publish_mu_);
    std::vector<std::shared_ptr<const PoolState>> held;
    {
      std::lock_guard<std::mutex> l(mu_);
      held.reserve(pools_.size());
      for (const auto& [host, p] : pools_) held.push_back(p);
    }
    std::vector<const PoolState*> pools;
    pools.reserve(held.size());
    for (const auto& p : held) pools.push_back(p.get());
    pools_published_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count());
    pool_metrics_->Set(PoolCapacityText(pools));
  }

  Status Start() {
    Counted();  // the counters show 0 before the first placement
    Refresh();  // what the pools last reported, before the first request
    CINDER_ASSIGN_OR_RETURN(std::string endpoint, transport_->Serve(rpc::kSchedulerTopic, SchedulerRpcHandler(this)));
    ServiceInfo svc;
    svc.host = options_.host;
    svc.binary = "cinder-scheduler";
    svc.topic = rpc::kSchedulerTopic;
    svc.availability_zone = options_.storage_availability_zone;
    svc.endpoint = endpoint;
    svc.rpc_version = kRpcVersion;
    CINDER_RETURN_IF_ERROR(heartbeat_.Register(svc));
    // Every report_interval of the Env's clock (from now, not from when the thread runs),
    // asleep in the Env meanwhile (a test's FakeClock wakes it).
    sweeper_ =
        std::thread([this, next = env_->NowMonotonic() + std::chrono::seconds(options_.report_interval)]() mutable {
          std::unique_lock<std::mutex> l(sweep_mu_);
          while (!env_->WaitUntil(sweep_cv_, l, next, [this] { return stopping_; })) {
            next = env_->NowMonotonic() + std::chrono::seconds(options_.report_interval);
            l.unlock();
            try {
              Refresh();
              Sweep();
              ReapMessages();
            } catch (const std::exception& e) {  // housekeeping must never end the process
              CINDER_LOG(kError, "cinder-scheduler") << "periodic task failed: " << e.what();
            }
            l.lock();
          }
        });
    return Status::OK();
  }

 private:
  Status UpdateServiceCapabilities(const RequestContext&, const CapabilitiesReport& report) override {
    PoolState p;
    p.host = report.host;
    p.backend_host = report.backend_host;
    p.pool_name = report.host.substr(report.host.find('#') + 1);
    p.capabilities = report.capabilities;
    p.volume_count = report.volume_count;
    ReadCapabilities(&p, options_.max_over_subscription_ratio);
    bool added = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto& entry = pools_[report.host];
      added = !entry;
      if (entry) p.availability_zone = entry->availability_zone;  // the service's, set by Snapshot
      entry = std::make_shared<const PoolState>(std::move(p));
    }
    const auto since = std::chrono::steady_clock::now().time_since_epoch().count() - pools_published_ns_.load();
    // A new pool at once (a skipped one would wait for the next refresh, report_interval
    // away; a thousand pools at start cost about a second of rendering in all), a known one at
    // most every second (and every pool at each Refresh, so a report skipped here shows within
    // report_interval).
    if (added || since >= std::chrono::nanoseconds(std::chrono::seconds(1)).count()) PublishPools();
    return Status::OK();
  }

  Status CreateVolume(const RequestContext& ctx, const PlacementRequest& request) override {
    ScheduleCreate(ctx, request);
    return Status::OK();
  }

  Status RetypeVolume(const RequestContext& ctx, const RetypeRequest& request) override {
    ScheduleRetype(ctx, request);
    return Status::OK();
  }

  Status CreateGroup(const RequestContext& ctx, const GroupPlacement& request) override {
    ScheduleGroup(ctx, request.group_id);
    return Status::OK();
  }

  Status ManageExisting(const RequestContext& ctx, const ManagePlacement& request) override {
    ScheduleManage(ctx, request);
    return Status::OK();
  }

  // Cinder's validate_host_capacity: the host passes the filters for a volume of `size` (no
  // type) in its zone.
  Result<CapacityVerdict> ValidateHostCapacity(const RequestContext&, const CapacityCheck& request) override {
    RequestSpec spec;
    spec.size = request.size;
    spec.availability_zone = request.availability_zone;
    spec.volume_properties = {{"size", std::to_string(request.size)},
                              {"availability_zone", request.availability_zone},
                              {"status", "creating"},
                              {"attach_status", "detached"}};
    CINDER_ASSIGN_OR_RETURN(auto usable, UsableBackends());
    const PoolSnapshot snapshot = SnapshotOfEvery(usable);
    const bool pool_named = request.host.find('#') != std::string::npos;
    CapacityVerdict verdict;
    for (const PoolState* p : scheduler_->Rank(spec, snapshot.pools)) {
      if ((pool_named ? p->host : p->backend_host) == request.host) verdict.fits = true;
    }
    if (!verdict.fits) {
      CINDER_LOG(kError, "cinder-scheduler") << "Desired host " << request.host << " does not have enough capacity.";
    }
    return verdict;
  }

  // Cinder's scheduler manage_existing (backend_passes_filters): the backend the request named
  // (host@backend, or one pool of it) must pass the filters for a volume of size 0 of the
  // volume's type in its zone; the best such pool becomes its host, and that host adopts the
  // object. Otherwise the volume is "error_managing", with the user message of a placement
  // that found no backend.
  void ScheduleManage(const RequestContext& ctx, const ManagePlacement& args) {
    const std::string& id = args.volume_id;
    auto vol = store_->GetVolume(id, std::nullopt);
    if (!vol.ok() || vol->status != "managing") return;  // not waiting
    const std::string named = vol->host;
    auto fail = [&](const std::string& why, bool no_backend) {
      auto r = store_->CasVolumeStatus(id, {"managing"}, "error_managing", {}, named);
      if (!r.ok() || !*r) return;
      CINDER_LOG(kError, "cinder-scheduler") << "manage of volume " << id << " failed: " << why;
      if (!no_backend) return;
      CountNoValid("manage");
      Status st = store_->InsertMessage(mf::NewMessage(vol->project_id, ctx.request_id, mf::kResourceVolume, id,
                                                       mf::kScheduleAllocateVolume, mf::kNoBackendAvailable,
                                                       options_.message_ttl));
      if (!st.ok()) CINDER_LOG(kWarning, "cinder-scheduler") << "cannot record a message: " << st.ToString();
    };
    RequestSpec spec;
    spec.size = 0;
    spec.availability_zone = vol->availability_zone;
    if (!vol->volume_type_id.empty()) {
      auto type = store_->GetVolumeType(vol->volume_type_id);
      if (!type.ok()) return fail(type.status().message(), false);
      spec.extra_specs = type->extra_specs;
    }
    spec.volume_properties = {{"size", "0"},
                              {"availability_zone", vol->availability_zone},
                              {"volume_type_id", vol->volume_type_id},
                              {"user_id", vol->user_id},
                              {"project_id", vol->project_id},
                              {"status", "managing"},
                              {"attach_status", "detached"}};
    auto usable = UsableBackends();
    if (!usable.ok()) return fail(usable.status().message(), false);
    const PoolSnapshot snapshot = SnapshotOfEvery(*usable);
    const bool pool_named = named.find('#') != std::string::npos;
    const PoolState* target = nullptr;
    for (const PoolState* p : scheduler_->Rank(spec, snapshot.pools)) {
      if ((pool_named ? p->host : p->backend_host) == named) {
        target = p;
        break;
      }
    }
    if (!target) return fail("No valid backend was found. Cannot place volume " + id + " on " + named + ".", true);
    // The pool, once: only while the volume still waits where the request named.
    auto placed = store_->CasVolumeStatus(id, {"managing"}, "managing", {{"host", target->host}}, named);
    if (!placed.ok() || !*placed) return;
    CountPlaced(target->backend_host, "manage");
    Status st = hosts_->ManageVolume(ctx, target->backend_host, id, args.ref, HandOverTimeout());
    if (!st.ok() && st.code() != Code::kDeadlineExceeded) {
      (void)store_->CasVolumeStatus(id, {"managing"}, "error_managing", {}, target->host);
      CINDER_LOG(kError, "cinder-scheduler") << "manage of volume " << id << " failed: the volume service of "
                                             << target->backend_host << " did not accept it: " << st.message();
    }
  }

  // Cinder's schedule_create_group: the best pool that passes the filters for every one of
  // the group's volume types (each as a volume of size 0 of that type in the group's zone);
  // the group records it as its host, and that pool's volume host creates it. No such pool:
  // the group is "error".
  void ScheduleGroup(const RequestContext& ctx, const std::string& id) {
    namespace gs = group_status;
    auto g = store_->GetGroup(id, std::nullopt);
    if (!g.ok() || g->status != gs::kCreating || !g->host.empty()) return;  // not waiting
    auto fail = [&](const std::string& why) {
      CINDER_LOG(kError, "cinder-scheduler") << "create of group " << id << " failed: " << why;
      (void)store_->CasGroupStatus(id, {gs::kCreating}, gs::kError);
    };
    auto usable = UsableBackends();
    if (!usable.ok()) return fail(usable.status().message());
    const PoolSnapshot snapshot = SnapshotOfEvery(*usable);
    std::vector<const PoolState*> best;  // ranked for the first type
    std::map<std::string, size_t> passes;
    for (size_t i = 0; i < g->volume_type_ids.size(); ++i) {
      auto type = store_->GetVolumeType(g->volume_type_ids[i]);
      if (!type.ok()) return fail(type.status().message());
      RequestSpec spec;
      spec.size = 0;
      spec.availability_zone = g->availability_zone;
      spec.extra_specs = type->extra_specs;
      spec.volume_properties = {{"size", "0"},
                                {"availability_zone", g->availability_zone},
                                {"volume_type_id", type->id},
                                {"group_type_id", g->group_type_id},
                                {"user_id", g->user_id},
                                {"project_id", g->project_id},
                                {"status", "creating"},
                                {"attach_status", "detached"}};
      auto ranked = scheduler_->Rank(spec, snapshot.pools);
      if (i == 0) best = ranked;
      for (const PoolState* p : ranked) ++passes[p->host];
    }
    const PoolState* target = nullptr;
    for (const PoolState* p : best) {
      if (passes[p->host] == g->volume_type_ids.size()) {
        target = p;
        break;
      }
    }
    if (!target) {
      CountNoValid("group");
      return fail("No valid backend was found. No weighed backends available");
    }
    // Placed once: only while it is still creating and unplaced.
    auto placed = store_->CasGroupStatus(id, {gs::kCreating}, gs::kCreating, {{"host", target->host}}, std::string());
    if (!placed.ok() || !*placed) return;
    CountPlaced(target->backend_host, "group");
    Status st = hosts_->CreateGroup(ctx, target->backend_host, id, HandOverTimeout());
    if (!st.ok() && st.code() != Code::kDeadlineExceeded) {
      fail("the volume service of " + target->backend_host + " did not accept it: " + st.message());
    }
  }

  // Cinder's find_retype_backend: the volume stays where it is when its pool passes the new
  // type's filters (the volume host then only records the type); otherwise, unless the
  // migration policy is "never", it moves to the best pool that does (the volume host copies
  // it there). No pool: the volume returns to its previous status and its quota reservations
  // go back.
  void ScheduleRetype(const RequestContext& ctx, const RetypeRequest& args) {
    const std::string& id = args.volume_id;
    auto vol = store_->GetVolume(id, std::nullopt);
    if (!vol.ok() || vol->status != vs::kRetyping) return;
    auto type = store_->GetVolumeType(args.new_type_id);
    const std::vector<std::string>& reservations = args.reservations;
    const std::string previous = args.previous_status.empty() ? std::string(vs::kAvailable) : args.previous_status;
    auto fail = [&](const std::string& why) {
      CINDER_LOG(kError, "cinder-scheduler") << "retype of volume " << id << " failed: " << why;
      auto r = store_->CasVolumeStatus(id, {vs::kRetyping}, previous, {{"previous_status", std::nullopt}});
      if (r.ok() && *r) {
        if (why.rfind("No valid backend", 0) == 0) CountNoValid("retype");
        (void)store_->RollbackQuota(reservations);
        Status st = store_->InsertMessage(mf::NewMessage(vol->project_id, ctx.request_id, mf::kResourceVolume, id,
                                                         mf::kScheduleAllocateVolume, mf::kNoBackendAvailable,
                                                         options_.message_ttl));
        if (!st.ok()) CINDER_LOG(kWarning, "cinder-scheduler") << "cannot record a message: " << st.ToString();
      }
    };
    if (!type.ok()) return fail(type.status().message());
    PlacementRequest placement;
    placement.volume_id = id;
    placement.extra_specs = type->extra_specs;
    Volume as_new = *vol;
    as_new.volume_type_id = type->id;
    auto spec = BuildSpec(ctx, as_new, placement);
    if (!spec.ok()) return fail(spec.status().message());
    spec->vol_exists_on = vol->host;
    auto usable = UsableBackends();
    if (!usable.ok()) return fail(usable.status().message());
    const PoolSnapshot snapshot = SnapshotOfEvery(*usable);
    const std::vector<const PoolState*>& pools = snapshot.pools;
    auto ranked = scheduler_->Rank(*spec, pools);
    if (ranked.empty()) return fail("No valid backend was found. No weighed backends available");
    // It stays when its own pool passes (Cinder's find_retype_backend), or when its pool is no
    // longer reported (renamed with volume_backend_name) and a pool of its backend passes: the
    // data is there. Otherwise the best pool of another backend; the data is never moved
    // between pools of one backend.
    const std::string backend = vol->host.substr(0, vol->host.find('#'));
    const bool reported =
        std::any_of(pools.begin(), pools.end(), [&](const PoolState* p) { return p->host == vol->host; });
    const PoolState* target = nullptr;
    for (const PoolState* p : ranked) {
      if (p->host == vol->host || (!reported && p->backend_host == backend)) target = p;
    }
    if (!target) {
      for (const PoolState* p : ranked) {
        if (p->backend_host != backend) {
          target = p;
          break;
        }
      }
    }
    if (!target) return fail("No valid backend was found. No weighed backends available");
    const bool moves = target->backend_host != backend;
    if (moves && args.migration_policy != "on-demand") {
      return fail("No valid backend was found. Current backend not valid for volume " + id + " with type " + type->id +
                  ", migration not allowed");
    }
    if (moves) {
      auto snaps = store_->SnapshotsOfVolume(id);
      if (!snaps.ok() || !snaps->empty()) return fail("Volume must not have snapshots to be migrated.");
    }
    // To the host that holds the volume now: it records the type, or copies the volume over.
    Status st = hosts_->RetypeVolume(ctx, vol->host, args, moves ? target->host : vol->host, HandOverTimeout());
    // A host that took the retype and has not answered yet still has it (queued work is not
    // failed for waiting; were it to die, its sweep gives the volume its status back).
    if (st.ok() || st.code() == Code::kDeadlineExceeded) CountPlaced(moves ? target->backend_host : backend, "retype");
    if (st.code() == Code::kDeadlineExceeded) {
      CINDER_LOG(kInfo, "cinder-scheduler")
          << vol->host << " is busy; the retype of volume " << id << " waits in its queue: " << st.message();
    } else if (!st.ok()) {
      fail("the volume service of " + vol->host + " did not accept the retype: " + st.message());
    }
  }

  // Cinder's schedule_create_volume: filter and weigh the pools of the live, enabled backends,
  // claim the best one that still has room in the database, and hand the volume to its host.
  void ScheduleCreate(const RequestContext& ctx, const PlacementRequest& args) {
    const std::string& id = args.volume_id;
    const int attempt = args.attempt;
    std::set<std::string> tried;
    for (const auto& h : args.tried) {
      if (!h.empty()) tried.insert(h);
    }
    // The API sends the volume and its type's extra specs along (Cinder's request_spec); a
    // reschedule or a sweep reads them from the database.
    Result<Volume> vol = args.volume ? VolumeFrom(id, *args.volume) : Result<Volume>(NotFound("not sent"));
    if (!vol.ok()) vol = store_->GetVolume(id, std::nullopt);
    if (!vol.ok() || vol->status != vs::kCreating || !vol->host.empty()) return;  // not waiting
    if (attempt > options_.scheduler_max_attempts) {
      CountNoValid("create");  // Cinder's NoValidBackend too
      Fail(ctx, *vol,
           "Exceeded max scheduling attempts " + std::to_string(options_.scheduler_max_attempts) + " for resource " +
               id);
      return;
    }
    auto spec = BuildSpec(ctx, *vol, args);
    if (!spec.ok()) {
      Fail(ctx, *vol, spec.status().message());
      return;
    }
    spec->exclude = tried;
    auto usable = UsableBackends();
    if (!usable.ok()) {
      // The database is briefly unreachable: the volume stays unplaced and a sweep places it.
      CINDER_LOG(kWarning, "cinder-scheduler")
          << "cannot place volume " << id << " now: " << usable.status().ToString();
      return;
    }
    // The best few candidates at a time: most requests take the first; a pool other
    // schedulers filled meanwhile is skipped and the next tried, then the rest re-ranked.
    std::set<std::string> full;  // pools found without room during this request
    bool refused = false;        // a live host's pool had room, but the host did not take the volume
    for (int round = 0; round < 16; ++round) {
      spec->exclude = tried;
      spec->exclude.insert(full.begin(), full.end());
      const PoolSnapshot snapshot = SnapshotOfEvery(*usable);
      auto ranked = scheduler_->Rank(*spec, snapshot.pools, kCandidatesPerRound);
      if (ranked.empty()) break;
      for (const PoolState* cand : ranked) {
        auto claim = store_->ClaimPool(id, cand->host, cand->availability_zone,
                                       [&](const PoolRecord& report, double allocated_now) {
                                         PoolState fresh = FromReport(report, *cand, allocated_now);
                                         return scheduler_->Passes(*spec, fresh);
                                       });
        if (!claim.ok()) {  // as above: a sweep places it later
          CINDER_LOG(kWarning, "cinder-scheduler")
              << "cannot place volume " << id << " now: " << claim.status().ToString();
          return;
        }
        if (*claim == ClaimResult::kVolumeGone) {
          // Placed already: by another scheduler, or by this claim when its COMMIT was retried.
          auto now = store_->GetVolume(id, std::nullopt);
          if (!now.ok() || now->host != cand->host || now->status != vs::kCreating) return;
        }
        if (*claim == ClaimResult::kNoRoom) {
          full.insert(cand->host);
          RefreshPool(cand->host);  // other schedulers filled it: learn its figures now
          continue;
        }
        {
          std::lock_guard<std::mutex> l(mu_);
          Consume(cand->host, static_cast<double>(vol->size));
        }
        tried.insert(cand->host);
        // The hints go along, so that a reschedule honours them too.
        PlacementRequest out = args;
        out.tried.assign(tried.begin(), tried.end());
        out.volume.reset();
        out.extra_specs.reset();
        Status st = hosts_->CreateVolume(ctx, cand->backend_host, vol->size, out, HandOverTimeout());
        if (st.ok() || st.code() == Code::kDeadlineExceeded) CountPlaced(cand->backend_host, "create");
        if (st.ok()) return;
        if (st.code() == Code::kDeadlineExceeded) {
          // Its host took it and has not got to it yet: it waits in that host's queue, which
          // is work queued, not lost (were the host to die, its sweep fails what it held).
          CINDER_LOG(kInfo, "cinder-scheduler")
              << cand->backend_host << " is busy; volume " << id << " waits in its queue: " << st.message();
          return;
        }
        // Its host did not take it (it just died, or is stalled): give the space back, and
        // leave the rest of that backend's pools alone for this request.
        CINDER_LOG(kWarning, "cinder-scheduler")
            << cand->backend_host << " did not accept volume " << id << ": " << st.ToString();
        refused = true;
        bool released = false;
        for (int i = 0; i < 3 && !released; ++i) {
          auto r = store_->ReleaseClaim(id, cand->host);
          released = r.ok();  // false: no longer there (deleted meanwhile): nothing to give back
          if (r.ok() && !*r) return;
        }
        if (!released) return;  // still on the pool: the dead-host sweep fails it with a message
        {
          std::lock_guard<std::mutex> l(mu_);
          Consume(cand->host, -static_cast<double>(vol->size));
          for (const auto& [host, p] : pools_) {
            if (p->backend_host == cand->backend_host) full.insert(host);
          }
        }
        break;  // re-rank without that backend
      }
    }
    if (refused) {
      // Every host with room was too busy or stalled to take it (a dead one leaves the usable
      // backends after service_down_time): it stays unplaced, and the sweep places it again
      // once kUnplacedGraceSeconds passed, or fails it when no backend is left.
      CINDER_LOG(kWarning, "cinder-scheduler")
          << "no volume host took volume " << id << "; it waits to be placed again";
      return;
    }
    CountNoValid("create");
    Fail(ctx, *vol, "No weighed backends available");
  }

  // How long a volume host has to take a create. A live host answers in milliseconds; this
  // stays well inside service_down_time, so that a host that just died gives the volume back
  // (to be placed elsewhere) before the dead-host sweep would fail it where it is.
  std::chrono::milliseconds HandOverTimeout() const {
    return std::chrono::milliseconds(std::clamp(options_.service_down_time * 1000 / 2, 500, 3000));
  }

  // The request spec of a volume waiting to be placed (create_volume's request_spec and
  // filter_properties): its type's extra specs, its properties, the scheduler hints.
  Result<RequestSpec> BuildSpec(const RequestContext& ctx, const Volume& vol, const PlacementRequest& args) {
    RequestSpec spec;
    spec.volume_id = vol.id;
    spec.size = vol.size;
    spec.availability_zone = vol.availability_zone;
    if (args.qos_specs) spec.qos_specs = *args.qos_specs;
    if (args.extra_specs) {
      spec.extra_specs = *args.extra_specs;
    } else if (!vol.volume_type_id.empty()) {
      CINDER_ASSIGN_OR_RETURN(VolumeType type, store_->GetVolumeType(vol.volume_type_id));
      spec.extra_specs = type.extra_specs;
    }
    spec.volume_properties = {{"size", std::to_string(vol.size)},
                              {"availability_zone", vol.availability_zone},
                              {"volume_type_id", vol.volume_type_id},
                              {"user_id", vol.user_id},
                              {"project_id", vol.project_id},
                              {"display_name", vol.name},
                              {"display_description", vol.description},
                              {"status", vol.status},
                              {"attach_status", vol.attach_status},
                              {"multiattach", vol.multiattach ? "True" : "False"},
                              {"bootable", vol.bootable ? "True" : "False"}};
    // same_host / different_host: the pools of the listed volumes the requester can see.
    auto resolve = [&](const std::vector<std::string>& hint, std::vector<std::string>* pools, bool* given) {
      auto ids = hint;
      ids.erase(std::remove(ids.begin(), ids.end(), std::string()), ids.end());
      if (ids.empty()) return;
      *given = true;
      for (const auto& vid : ids) {
        if (!IsUuid(vid)) {
          spec.hint_invalid = true;
          continue;
        }
        auto other = store_->GetVolume(vid, ctx.is_admin ? std::nullopt : std::optional<std::string>(ctx.project_id));
        if (other.ok() && !other->host.empty()) pools->push_back(other->host);
      }
    };
    resolve(args.hints.same_host, &spec.same_host_pools, &spec.same_host_given);
    resolve(args.hints.different_host, &spec.different_host_pools, &spec.different_host_given);
    if (args.hints.query) spec.query = *args.hints.query;
    if (args.resource_backend) {
      spec.resource_backend = *args.resource_backend;
    } else if (vol.group_id) {
      // A volume of a group the sweep places: on the group's backend.
      auto g = store_->GetGroup(*vol.group_id, std::nullopt);
      if (g.ok() && !g->host.empty()) spec.resource_backend = g->host.substr(0, g->host.find('#'));
    } else if (vol.status == vs::kCreating && (vol.snapshot_id || vol.source_volid)) {
      // A create the sweep places: where the source is, as the API found it.
      std::optional<std::string> source = vol.source_volid;
      if (vol.snapshot_id) {
        auto snap = store_->GetSnapshot(*vol.snapshot_id, std::nullopt);
        if (snap.ok()) source = snap->volume_id;
      }
      auto src = source ? store_->GetVolume(*source, std::nullopt) : Result<Volume>(NotFound("no source"));
      if (!src.ok()) return FailedPrecondition("the source of volume " + vol.id + " is gone");
      spec.resource_backend = src->host.substr(0, src->host.find('#'));
    }
    return spec;
  }

  // The volume the API sent along, as it recorded it.
  static Result<Volume> VolumeFrom(const std::string& id, const VolumeProperties& p) {
    if (p.size <= 0) return InvalidArgument("no size");
    Volume v;
    v.id = id;
    v.status = vs::kCreating;
    v.size = p.size;
    v.availability_zone = p.availability_zone;
    v.volume_type_id = p.volume_type_id;
    v.project_id = p.project_id;
    v.user_id = p.user_id;
    v.name = p.display_name;
    v.description = p.display_description;
    return v;
  }

  // Backends (host@backend) whose cinder-volume service is up and enabled, with their zone:
  // read for every placement, so that a service disabled a moment ago gets nothing.
  Result<std::map<std::string, std::string>> UsableBackends() {
    CINDER_ASSIGN_OR_RETURN(auto services, store_->ListServices(std::nullopt, std::string("cinder-volume")));
    std::map<std::string, std::string> usable;
    for (const auto& svc : services) {
      if (!ServiceDisabled(svc) && ServiceIsUp(svc, options_.service_down_time, env_))
        usable[svc.host] = svc.availability_zone;
    }
    return usable;
  }

  // The pools of the usable backends, in the zones of their services, as they are now: shared,
  // not copied (a pool's state is never changed in place; see pools_).
  struct PoolSnapshot {
    std::vector<std::shared_ptr<const PoolState>> owned;  // keeps `pools` alive
    std::vector<const PoolState*> pools;
  };

  // Snapshot, after reading the pools from the database when a usable backend has none here
  // yet: a volume service that just started reported into the database before it told the
  // schedulers, and its report may still be on its way (an in-process cast runs on a pool).
  PoolSnapshot SnapshotOfEvery(const std::map<std::string, std::string>& usable) {
    PoolSnapshot out = Snapshot(usable);
    std::set<std::string> seen;
    for (const PoolState* p : out.pools) seen.insert(p->backend_host);
    for (const auto& [backend, zone] : usable) {
      if (seen.count(backend)) continue;
      // At most once a second: a backend that reports no pool at all must not cost every
      // placement a read of every pool.
      const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
      auto last = last_unknown_refresh_.load();
      if (now - last < std::chrono::steady_clock::duration(std::chrono::seconds(1)).count() ||
          !last_unknown_refresh_.compare_exchange_strong(last, now)) {
        return out;
      }
      Refresh();
      return Snapshot(usable);
    }
    return out;
  }
  std::atomic<std::chrono::steady_clock::rep> last_unknown_refresh_{0};

  PoolSnapshot Snapshot(const std::map<std::string, std::string>& usable) {
    PoolSnapshot out;
    std::lock_guard<std::mutex> l(mu_);
    out.owned.reserve(pools_.size());
    out.pools.reserve(pools_.size());
    for (auto& [host, p] : pools_) {
      auto svc = usable.find(p->backend_host);
      if (svc == usable.end()) continue;
      if (p->availability_zone != svc->second) {  // a new pool, or its service moved
        auto zoned = std::make_shared<PoolState>(*p);
        zoned->availability_zone = svc->second;
        p = std::move(zoned);
      }
      out.owned.push_back(p);
      out.pools.push_back(p.get());
    }
    return out;
  }

  // Accounts a volume placed on (or, negative, taken back from) the pool `host` until its next
  // report. mu_ must be held.
  void Consume(const std::string& host, double size_gb) {
    auto it = pools_.find(host);
    if (it == pools_.end()) return;
    auto p = std::make_shared<PoolState>(*it->second);
    ConsumeFromVolume(p.get(), size_gb);
    it->second = std::move(p);
  }

  // A pool's state from its last report and what is placed on it now: everything claimed
  // since the report counts as used (Cinder's consume_from_volume), so no claim can take room
  // another one took.
  PoolState FromReport(const PoolRecord& report, const PoolState& known, double allocated_now) {
    PoolState p;
    p.host = report.host;
    p.backend_host = report.backend_host;
    p.pool_name = known.pool_name;
    p.availability_zone = known.availability_zone;
    p.volume_count = known.volume_count;
    p.capabilities = report.capabilities;
    ReadCapabilities(&p, options_.max_over_subscription_ratio);
    const double since = std::max(0.0, allocated_now - report.allocated_at_report);
    const bool reported_provisioned = report.capabilities.count("provisioned_capacity_gb") > 0;
    p.allocated_capacity_gb = allocated_now;
    p.provisioned_capacity_gb = reported_provisioned ? p.provisioned_capacity_gb + since : allocated_now;
    if (!std::isnan(p.free_capacity_gb) && !std::isinf(p.free_capacity_gb)) p.free_capacity_gb -= since;
    return p;
  }

  // Reloads every pool from the database: what the volume services last reported, and how
  // many volumes each holds (also learns pools whose reports went to other schedulers).
  void Refresh() {
    auto records = store_->ListPools();
    auto usage = store_->VolumeUsageByHost();
    if (!records.ok() || !usage.ok()) return;
    std::map<std::string, std::shared_ptr<PoolState>> fresh;
    for (const auto& r : *records) {
      PoolState p;
      p.host = r.host;
      p.backend_host = r.backend_host;
      p.pool_name = r.host.substr(r.host.find('#') + 1);
      auto u = usage->find(r.host);
      double allocated = u == usage->end() ? 0 : u->second.gb;
      p.volume_count = u == usage->end() ? 0 : u->second.count;
      fresh[r.host] = std::make_shared<PoolState>(FromReport(r, p, allocated));
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& [host, p] : fresh) {  // the zones Snapshot learned stay
        auto known = pools_.find(host);
        if (known != pools_.end()) p->availability_zone = known->second->availability_zone;
      }
      pools_.clear();
      pools_.insert(fresh.begin(), fresh.end());
    }
    PublishPools();
  }

  void RefreshPool(const std::string& host) {
    auto records = store_->ListPools();
    auto usage = store_->VolumeUsageByHost();
    if (!records.ok() || !usage.ok()) return;
    for (const auto& r : *records) {
      if (r.host != host) continue;
      std::lock_guard<std::mutex> l(mu_);
      auto& entry = pools_[host];
      PoolState known = entry ? *entry : PoolState();
      auto u = usage->find(host);
      known.volume_count = u == usage->end() ? 0 : u->second.count;
      entry = std::make_shared<const PoolState>(FromReport(r, known, u == usage->end() ? 0 : u->second.gb));
    }
  }

  // No pool could take the volume: it becomes `error`, with Cinder's user message.
  void Fail(const RequestContext& ctx, const Volume& v, const std::string& reason) {
    auto r = store_->CasVolumeStatus(v.id, {vs::kCreating}, vs::kError, {}, std::string());
    if (!r.ok() || !*r) return;
    CINDER_LOG(kWarning, "cinder-scheduler")
        << "no valid backend for volume " << v.id << ": No valid backend was found. " << reason;
    Status st = store_->InsertMessage(mf::NewMessage(v.project_id, ctx.request_id, mf::kResourceVolume, v.id,
                                                     mf::kScheduleAllocateVolume, mf::kNoBackendAvailable,
                                                     options_.message_ttl));
    if (!st.ok()) CINDER_LOG(kWarning, "cinder-scheduler") << "cannot record a message: " << st.ToString();
  }

  // Work taken by a volume host that then died is failed once the host is down, so that no
  // volume waits forever for it: creating -> error, extending -> error_extending. (deleting is
  // left for the host to resume when it returns.) A volume no scheduler placed within a grace
  // period (its scheduler died) is placed again. Every scheduler sweeps; compare-and-swaps make
  // that harmless.
  void Sweep() {
    auto services = store_->ListServices(std::nullopt, std::string("cinder-volume"));
    if (!services.ok()) return;
    std::set<std::string> down, known;
    for (const auto& s : *services) {
      known.insert(s.host);
      if (!ServiceIsUp(s, options_.service_down_time, env_)) down.insert(s.host);
    }
    // Quota reservations of operations that never finished (their process died) go back.
    auto expired = store_->ExpireQuotaReservations(FormatIso(env_->Now()));
    if (!expired.ok())
      CINDER_LOG(kWarning, "cinder-scheduler") << "cannot expire reservations: " << expired.status().ToString();
    auto stuck = store_->VolumesInStatus("", {vs::kCreating, vs::kExtending});
    if (!stuck.ok()) return;
    const double now = EpochSeconds(env_->Now());
    for (const auto& v : *stuck) {
      if (v.host.empty()) {
        auto since = ParseIso(v.updated_at.value_or(v.created_at));
        if (v.status == vs::kCreating && since && now - *since >= kUnplacedGraceSeconds) {
          RequestContext ctx = RequestContext::Admin(v.user_id, v.project_id);
          ctx.request_id = "req-" + NewUuid();
          log::ScopedRequestId scoped(ctx.request_id);
          PlacementRequest placement;
          placement.volume_id = v.id;
          ScheduleCreate(ctx, placement);
        }
        continue;
      }
      // On a host that is down, or whose service is not registered at all (removed).
      const std::string backend = v.host.substr(0, v.host.find('#'));
      if (!down.count(backend) && known.count(backend)) continue;
      const bool creating = v.status == vs::kCreating;
      if (creating) {
        // Placed a moment ago: its scheduler may still be handing it over, and will place it
        // elsewhere when the host does not take it.
        auto since = ParseIso(v.updated_at.value_or(v.created_at));
        const double hand_over = HandOverTimeout().count() / 1000.0;
        if (since && now - *since < hand_over + 1) continue;
      }
      // Only while the volume is still on the dead host (a reschedule may have moved it); an
      // extend's reservations go back with it.
      auto r = store_->AbandonVolumeOperation(v.id, v.status, creating ? vs::kError : vs::kErrorExtending, v.host);
      if (r.ok() && *r) {
        CINDER_LOG(kWarning, "cinder-scheduler")
            << "volume " << v.id << " was " << v.status << " on " << v.host << ", which is down; it is now "
            << (creating ? "error" : "error_extending");
        // Why, for the user (Cinder's DRIVER_NOT_INITIALIZED: the backend is not there).
        Status st = store_->InsertMessage(mf::NewMessage(v.project_id, "", mf::kResourceVolume, v.id,
                                                         creating ? mf::kCreateVolumeFromBackend : mf::kExtendVolume,
                                                         mf::kDriverNotInitialized, options_.message_ttl));
        if (!st.ok()) CINDER_LOG(kWarning, "cinder-scheduler") << "cannot record a message: " << st.ToString();
      }
    }
  }

  // Removes expired user messages every message_reap_interval, as Cinder's scheduler does.
  void ReapMessages() {
    auto now = env_->NowMonotonic();
    if (last_reap_ && now - *last_reap_ < std::chrono::seconds(options_.message_reap_interval)) return;
    last_reap_ = now;
    auto removed = store_->DeleteExpiredMessages(FormatIso(env_->Now()));
    if (!removed.ok()) {
      CINDER_LOG(kWarning, "cinder-scheduler") << "cannot remove expired messages: " << removed.status().ToString();
    }
  }

  Options options_;
  Store* store_;
  Transport* transport_;
  std::unique_ptr<VolumeHostClient> hosts_;
  std::unique_ptr<Scheduler> scheduler_;
  Env* env_;
  ServiceHeartbeat heartbeat_;
  std::mutex mu_;
  // host@backend#pool -> its state, guarded by mu_. A state is never changed once here: an
  // update swaps in a new one, so that a snapshot shares them instead of copying each pool.
  std::map<std::string, std::shared_ptr<const PoolState>> pools_;
  // The pools' capacity for /metrics, rendered by PublishPools; when it was last.
  std::shared_ptr<metrics::Section> pool_metrics_ = metrics::Registry::Default().AddSection("scheduler_pools");
  std::atomic<int64_t> pools_published_ns_{0};
  std::mutex publish_mu_;  // taken before mu_
  std::mutex sweep_mu_;    // guards stopping_
  std::condition_variable sweep_cv_;
  bool stopping_ = false;
  std::optional<std::chrono::steady_clock::time_point> last_reap_;  // sweeper thread only
  std::thread sweeper_;
};

}  // namespace

std::string PoolCapacityText(const std::vector<const PoolState*>& pools) {
  std::string out;
  if (pools.empty()) return out;
  out.reserve(pools.size() * 5 * 110 + 1024);
  metrics::TextWriter w(&out);
  struct Figure {
    const char* name;
    const char* help;
    double (*value)(const PoolState&);
  };
  static const Figure kFigures[] = {
      {"cinder_pool_free_capacity_gib", "Free capacity of a pool (GiB), as the scheduler sees it.",
       [](const PoolState& p) { return p.free_capacity_gb; }},
      {"cinder_pool_total_capacity_gib", "Total capacity of a pool (GiB), as its volume service reported it.",
       [](const PoolState& p) { return p.total_capacity_gb; }},
      {"cinder_pool_allocated_capacity_gib", "Sum of the sizes of the volumes placed on a pool (GiB).",
       [](const PoolState& p) { return p.allocated_capacity_gb; }},
      {"cinder_pool_provisioned_capacity_gib",
       "Provisioned capacity of a pool (GiB): reported, or the allocated capacity.",
       [](const PoolState& p) { return p.provisioned_capacity_gb; }},
      {"cinder_pool_volumes", "Volumes on a pool, in any status.",
       [](const PoolState& p) { return static_cast<double>(p.volume_count); }},
  };
  for (const auto& f : kFigures) {
    w.Begin(f.name, f.help, metrics::Type::kGauge);
    for (const PoolState* p : pools) w.Sample(f.name, {{"pool", p->host}, {"backend", p->backend_host}}, f.value(*p));
  }
  return out;
}

Result<std::unique_ptr<SchedulerService>> SchedulerService::Start(const Options& options, Store* store,
                                                                  Transport* transport,
                                                                  std::unique_ptr<VolumeHostClient> hosts) {
  auto scheduler = Scheduler::Create(ConfigFrom(options));
  if (!scheduler.ok()) {
    transport->Stop();
    return Status(scheduler.status().code(), options.origin + ": " + scheduler.status().message());
  }
  auto svc =
      std::make_unique<SchedulerServiceImpl>(options, store, transport, std::move(hosts), std::move(scheduler).value());
  Status st = svc->Start();
  if (!st.ok()) {
    transport->Stop();  // the topic may be served already: no request may reach `svc` now
    return st;
  }
  return std::unique_ptr<SchedulerService>(std::move(svc));
}

}  // namespace cinder

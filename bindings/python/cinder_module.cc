// cinder._cinder: libcinder's public C++ API (include/cinder/) as a Python module, in the
// spirit of cinderlib ("Cinder as a Python library"). docs/python.md describes it; the package's
// __init__.py re-exports it and __init__.pyi types it.
//
// Every call that may block (the database, the transport, a wait, a volume's I/O) runs with the
// GIL released. Python is only ever called back on the caller's own thread (a backup's progress
// is collected from the backup service's threads and handed over by the waiting call), so no
// C++ thread of the library takes the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cinder/auth_manager.h"
#include "cinder/backup_manager.h"
#include "cinder/connector.h"
#include "cinder/options.h"
#include "cinder/service.h"
#include "cinder/version.h"
#include "cinder/volume_manager.h"

namespace py = pybind11;
using namespace cinder;  // NOLINT

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Errors: a failed Status becomes a CinderError, which the translator raises as the Python
// exception of its code (cinder.NotFound, ...).

struct CinderError {
  Status status;
};

struct Exceptions {
  PyObject* error = nullptr;
  std::map<Code, PyObject*> by_code;
  PyObject* operation_failed = nullptr;
  PyObject* timeout = nullptr;
};
Exceptions g_exc;

[[noreturn]] void Raise(Status st) { throw CinderError{std::move(st)}; }
void Check(const Status& st) {
  if (!st.ok()) Raise(st);
}
template <typename T>
T Take(Result<T> r) {
  if (!r.ok()) Raise(r.status());
  return std::move(r).value();
}

int HttpStatus(Code c) {
  switch (c) {
    case Code::kInvalidArgument:
    case Code::kFailedPrecondition: return 400;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists:
    case Code::kAborted: return 409;
    case Code::kPermissionDenied: return 403;
    case Code::kUnauthenticated: return 401;
    case Code::kResourceExhausted: return 413;
    case Code::kUnimplemented: return 501;
    case Code::kDeadlineExceeded: return 504;
    case Code::kUnavailable: return 503;
    default: return 500;
  }
}

void SetPythonError(PyObject* type, const Status& st) {
  py::object exc = py::reinterpret_borrow<py::object>(type)(st.message());
  exc.attr("code") = CodeName(st.code());
  exc.attr("http_status") = HttpStatus(st.code());
  exc.attr("retry_after") = st.retry_after();
  PyErr_SetObject(type, exc.ptr());
}

void TranslateError(const CinderError& e) {
  auto it = g_exc.by_code.find(e.status.code());
  SetPythonError(it == g_exc.by_code.end() ? g_exc.error : it->second, e.status);
}

// ---------------------------------------------------------------------------------------------
// The service: an embedded one (EmbeddedService) or the API side of a deployment
// (ServiceClient), shared by every object made from it.

// Backup progress reported on the backup service's threads, read by waiting callers.
struct ProgressHub {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::pair<uint64_t, BackupProgress>> latest;  // backup id -> (seq, report)
  uint64_t seq = 0;
  void Report(const BackupProgress& p) {
    {
      std::lock_guard<std::mutex> l(mu);
      latest[p.backup_id] = {++seq, p};
    }
    cv.notify_all();
  }
};

class Core {
 public:
  Core(Options options, std::unique_ptr<EmbeddedService> embedded, std::unique_ptr<ServiceClient> client)
      : options_(std::move(options)), embedded_(std::move(embedded)), client_(std::move(client)) {
    hub_ = std::make_shared<ProgressHub>();
    backups().SetProgressCallback([hub = hub_](const BackupProgress& p) { hub->Report(p); });
  }
  ~Core() { Close(); }

  // Held while a call uses the managers: Close waits for calls in flight.
  class Use {
   public:
    explicit Use(Core* c) : lock_(c->mu_) {
      if (c->closed_) Raise(FailedPrecondition("The service is closed."));
    }

   private:
    std::shared_lock<std::shared_mutex> lock_;
  };

  VolumeManager& volumes() { return embedded_ ? embedded_->volumes() : client_->volumes(); }
  BackupManager& backups() { return embedded_ ? embedded_->backups() : client_->backups(); }
  const Options& options() const { return options_; }
  bool embedded() const { return embedded_ != nullptr; }
  std::string endpoint() const { return embedded_ ? embedded_->endpoint() : ""; }
  std::optional<std::string> metrics_text() const {
    if (!embedded_) return std::nullopt;
    return embedded_->MetricsText();
  }
  ProgressHub& hub() { return *hub_; }
  bool closed() const { return closed_; }

  // The identity service's AuthManager on the service's database, opened when first used
  // (within a Use). Unimplemented when tokens come from an external Keystone.
  AuthManager& auth() {
    std::lock_guard<std::mutex> l(auth_mu_);
    if (!auth_) {
      if (!options_.auth.keystone_authtoken.auth_url.empty()) {
        Raise(Unimplemented("The identity service is the external Keystone at " +
                            options_.auth.keystone_authtoken.auth_url +
                            " ([keystone_authtoken] auth_url): manage "
                            "users, projects and roles there."));
      }
      auth_ = Take(AuthManager::Open(options_));
    }
    return *auth_;
  }

  void Close() {
    std::unique_lock<std::shared_mutex> l(mu_);
    if (closed_) return;
    closed_ = true;
    backups().SetProgressCallback(nullptr);
    if (embedded_) embedded_->Stop();
    if (client_) client_->Stop();
    embedded_.reset();
    client_.reset();
    std::lock_guard<std::mutex> al(auth_mu_);
    auth_.reset();
  }

 private:
  std::shared_mutex mu_;
  bool closed_ = false;
  Options options_;
  std::shared_ptr<ProgressHub> hub_;
  std::unique_ptr<EmbeddedService> embedded_;
  std::unique_ptr<ServiceClient> client_;
  std::mutex auth_mu_;
  std::unique_ptr<AuthManager> auth_;  // guarded by auth_mu_
};

// Who acts: the service and a request context. Every object keeps the session it came from.
struct Session {
  std::shared_ptr<Core> core;
  RequestContext ctx;
};
using SessionPtr = std::shared_ptr<Session>;

// Runs `f` with the GIL released and the service in use.
template <typename F>
auto Blocking(const SessionPtr& s, F&& f) {
  py::gil_scoped_release release;
  Core::Use use(s->core.get());
  return f(s->core->volumes());
}
template <typename F>
auto BlockingBackups(const SessionPtr& s, F&& f) {
  py::gil_scoped_release release;
  Core::Use use(s->core.get());
  return f(s->core->backups());
}

template <typename F>
auto BlockingAuth(const SessionPtr& s, F&& f) {
  py::gil_scoped_release release;
  Core::Use use(s->core.get());
  return f(s->core->auth());
}

py::object Opt(const std::optional<std::string>& v) { return v ? py::object(py::str(*v)) : py::object(py::none()); }
template <typename T>
py::object OptOf(const std::optional<T>& v) {
  return v ? py::cast(*v) : py::object(py::none());
}

// The statuses an operation passes through, which wait() waits out.
const std::set<std::string> kVolumeTransient = {
    "creating",         "extending", "deleting",    "retyping",    "reverting",
    "attaching",        "detaching", "downloading", "uploading",   "backing-up",
    "restoring-backup", "managing",  "unmanaging",  "maintenance", "awaiting-transfer-never"};
const std::set<std::string> kSnapshotTransient = {"creating", "deleting", "restoring", "unmanaging", "backing-up"};
const std::set<std::string> kBackupTransient = {"creating", "deleting", "restoring"};

bool IsErrorStatus(const std::string& s) { return s.rfind("error", 0) == 0; }

// Why a resource ended in an error status: its latest user message, when there is one. The
// service records the message just after the status (as Cinder does, in its own transaction):
// it is looked for during a short while.
std::string WhyFailed(const SessionPtr& s, const std::string& id) {
  MessageListQuery q;
  q.resource_uuid = id;
  q.limit = 1;
  const auto until = Clock::now() + std::chrono::milliseconds(200);
  auto pause = std::chrono::microseconds(100);
  for (;;) {
    auto r = s->core->volumes().ListMessages(s->ctx, q);
    if (r.ok() && !r->messages.empty()) return UserMessageText(r->messages.front());
    if (!r.ok() || Clock::now() >= until) return "";
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
}

// Sleeps a little longer each time, from 10 us by half again up to 1 ms: a fast operation is
// seen done soon after it is (a read costs ~20 us), a slow one costs little.
class Backoff {
 public:
  void Sleep() {
    std::this_thread::sleep_for(delay_);
    delay_ = std::min(delay_ * 3 / 2, std::chrono::microseconds(1000));
  }

 private:
  std::chrono::microseconds delay_{10};
};

std::optional<Clock::time_point> Deadline(std::optional<double> timeout) {
  if (!timeout) return std::nullopt;
  if (*timeout < 0) Raise(InvalidArgument("timeout must not be negative."));
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*timeout));
}

// A wait goes back to Python this often (GIL held) to let a signal handler run: Ctrl-C
// interrupts a wait with KeyboardInterrupt.
constexpr auto kSignalSlice = std::chrono::milliseconds(100);
void CheckSignals() {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

[[noreturn]] void RaiseTimeout(const std::string& what) {
  PyErr_SetString(g_exc.timeout, what.c_str());
  throw py::error_already_set();
}

[[noreturn]] void RaiseFailed(const std::string& kind, const std::string& id, const std::string& status,
                              const std::string& why) {
  std::string msg = kind + " " + id + " is " + status;
  if (!why.empty()) msg += ": " + why;
  py::object exc = py::reinterpret_borrow<py::object>(g_exc.operation_failed)(msg);
  exc.attr("status") = status;
  exc.attr("resource_id") = id;
  exc.attr("user_message") = why.empty() ? py::object(py::none()) : py::object(py::str(why));
  exc.attr("code") = "Internal";
  exc.attr("http_status") = 500;
  exc.attr("retry_after") = 0;
  PyErr_SetObject(g_exc.operation_failed, exc.ptr());
  throw py::error_already_set();
}

// Hands the progress of `backup_id` reported since `*seen` to `cb` (on this thread, with the
// GIL); `*last_done` is what it was told last. Called with the GIL held.
void DeliverProgress(ProgressHub& hub, const std::string& backup_id, uint64_t* seen, const py::object& cb,
                     int64_t* last_done) {
  if (cb.is_none()) return;
  std::optional<BackupProgress> p;
  {
    std::lock_guard<std::mutex> l(hub.mu);
    auto it = hub.latest.find(backup_id);
    if (it != hub.latest.end() && it->second.first > *seen) {
      *seen = it->second.first;
      p = it->second.second;
    }
  }
  if (p) {
    *last_done = p->bytes_done;
    cb(p->bytes_done, p->bytes_total);
  }
}

// The last call of a finished operation's progress: done = total, unless it was said already.
void FinalProgress(const py::object& cb, int64_t size_gib, int64_t last_done) {
  if (cb.is_none()) return;
  const int64_t total = size_gib << 30;
  if (last_done != total) cb(total, total);
}

// Waits (GIL released) until `done` or a new progress report of `backup_id`, at most `step`.
void PauseForProgress(ProgressHub& hub, const std::string& backup_id, uint64_t seen, Backoff& backoff) {
  if (backup_id.empty()) return backoff.Sleep();
  std::unique_lock<std::mutex> l(hub.mu);
  hub.cv.wait_for(l, std::chrono::milliseconds(5), [&] {
    auto it = hub.latest.find(backup_id);
    return it != hub.latest.end() && it->second.first > seen;
  });
}

// ---------------------------------------------------------------------------------------------
// The Python objects.

struct PyVolume;
struct PySnapshot;
struct PyBackup;

struct PyVolume {
  SessionPtr s;
  Volume v;
  std::string restoring_from{};  // the backup being restored onto it (restore()), for wait's progress
  uint64_t progress_seen = 0;    // the last progress report handed to Python (or before the restore began)
  bool deleted = false;          // wait() saw it gone
};

struct PySnapshot {
  SessionPtr s;
  Snapshot v;
  bool deleted = false;
};

struct PyBackup {
  SessionPtr s;
  Backup v;
  uint64_t progress_seen = 0;  // as PyVolume's
  bool deleted = false;
};

// Where the hub is now: reports made before an operation starts are not its progress.
uint64_t ProgressNow(const SessionPtr& s) {
  auto& hub = s->core->hub();
  std::lock_guard<std::mutex> l(hub.mu);
  return hub.seq;
}

struct PyVolumeType {
  SessionPtr s;
  VolumeType v;
};

struct PyQos {
  SessionPtr s;
  QosSpecs v;
};

struct PyService {
  SessionPtr s;
};

struct PyGroupType {
  SessionPtr s;
  GroupType v;
};

struct PyGroup {
  SessionPtr s;
  VolumeGroup v;
  bool deleted = false;
};

struct PyGroupSnapshot {
  SessionPtr s;
  GroupSnapshot v;
  bool deleted = false;
};

struct PyTransfer {
  SessionPtr s;
  Transfer v;
};

struct PyIdentity {
  SessionPtr s;
};

Metadata ToMetadata(const std::optional<std::map<std::string, std::string>>& m) { return m ? *m : Metadata{}; }

// Waits ------------------------------------------------------------------------------------------

// What a wait follows: a resource read again and again until it leaves its transient statuses,
// and, when it is a backup's work, that backup's progress.
template <typename T>
struct WaitSubject {
  const char* kind;  // "Volume": the messages' word
  const std::set<std::string>* transient;
  std::function<Result<T>(Core&)> read;  // runs with the GIL released, the service in use
  std::function<std::string(const T&)> status;
  // Why it ended in an error status (with the GIL released).
  std::function<std::string(const T&)> why;
  // The backup whose progress goes to `progress` ("": none).
  std::string backup_id{};
  // Joined to a deployment, nothing reports progress in this process: the bytes done that the
  // backup service recorded in the backup's row (progress_bytes, every 2 seconds) are read
  // instead, with the backup's size. (bytes done, bytes total) from the resource read when it is
  // the backup; nullptr: the backup's row is read.
  std::function<std::pair<int64_t, int64_t>(const T&)> recorded{};
};

std::pair<int64_t, int64_t> RecordedProgress(const Backup& b) { return {b.progress_bytes, b.size << 30}; }

template <typename T>
struct WaitOutcome {
  T cur;
  bool gone = false;  // deleted (by this object or elsewhere)
  std::string why{};
  int64_t last_done = -1;  // the last bytes_done handed to `progress`
};

// Reads the recorded progress of a backup this often while a restore is followed (the volume
// is what is read otherwise).
constexpr auto kRecordedPoll = std::chrono::milliseconds(200);

// The one wait loop of Volume.wait, Snapshot.wait, Backup.wait, Group.wait and
// GroupSnapshot.wait. Reads the resource with the GIL released (on copies: another thread may
// use the Python object meanwhile) and comes back to Python every kSignalSlice (for a signal
// handler, `on_slice` to update the object, and progress). Raises Timeout past the deadline;
// the caller decides what an error status or a resource gone means.
template <typename T>
WaitOutcome<T> WaitUntilSettled(const SessionPtr& s, const std::string& id, T cur, uint64_t* seen,
                                std::optional<double> timeout, const py::object& progress, const WaitSubject<T>& subj,
                                const std::function<void(const T&)>& on_slice) {
  auto deadline = Deadline(timeout);
  WaitOutcome<T> out{std::move(cur)};
  const bool follow = !subj.backup_id.empty() && !progress.is_none();
  const bool recorded = follow && !s->core->embedded();  // progress from the backup's row
  auto& hub = s->core->hub();
  const std::string& bid = subj.backup_id;
  Backoff backoff;
  int64_t recorded_done = 0;
  int64_t recorded_total = 0;
  auto next_recorded = Clock::now();
  for (;;) {
    {
      py::gil_scoped_release release;
      Core::Use use(s->core.get());
      const auto slice_end = Clock::now() + kSignalSlice;
      for (;;) {
        auto r = subj.read(*s->core);
        if (!r.ok()) {
          if (r.status().code() != Code::kNotFound) Raise(r.status());
          out.gone = true;
          break;
        }
        out.cur = std::move(r).value();
        const std::string st = subj.status(out.cur);
        if (st == "deleted") out.gone = true;
        if (out.gone) break;
        if (!subj.transient->count(st)) {
          if (IsErrorStatus(st)) out.why = subj.why(out.cur);
          break;
        }
        if (recorded) {
          std::pair<int64_t, int64_t> p{-1, 0};
          if (subj.recorded) {
            p = subj.recorded(out.cur);
          } else if (Clock::now() >= next_recorded) {
            next_recorded = Clock::now() + kRecordedPoll;
            if (auto b = s->core->backups().GetBackup(s->ctx, bid); b.ok()) p = RecordedProgress(*b);
          }
          if (p.first > recorded_done) {
            std::tie(recorded_done, recorded_total) = p;
            break;  // back to Python with it
          }
        }
        if (deadline && Clock::now() >= *deadline) break;
        if (Clock::now() >= slice_end) break;
        if (follow && !recorded) {
          {
            // Back to Python when the backup service reported progress.
            std::lock_guard<std::mutex> l(hub.mu);
            auto it = hub.latest.find(bid);
            if (it != hub.latest.end() && it->second.first > *seen) break;
          }
          PauseForProgress(hub, bid, *seen, backoff);
        } else {
          backoff.Sleep();
        }
      }
    }
    if (!out.gone) on_slice(out.cur);
    if (follow && !recorded) DeliverProgress(hub, bid, seen, progress, &out.last_done);
    if (recorded && recorded_done > 0 && recorded_done > out.last_done) {
      out.last_done = recorded_done;
      progress(recorded_done, recorded_total);
    }
    if (out.gone || !subj.transient->count(subj.status(out.cur))) return out;
    CheckSignals();
    if (deadline && Clock::now() >= *deadline) {
      RaiseTimeout(std::string(subj.kind) + " " + id + " is still " + subj.status(out.cur) + " after " +
                   std::to_string(*timeout) + " s");
    }
  }
}

// Volume ----------------------------------------------------------------------------------------

PyVolume MakeVolume(const SessionPtr& s, const VolumeCreate& req) {
  Volume v = Take(Blocking(s, [&](VolumeManager& vm) { return vm.CreateVolume(s->ctx, req); }));
  return PyVolume{s, std::move(v)};
}

void Refresh(PyVolume& self) {
  self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetVolume(self.s->ctx, self.v.id); }));
}

PyVolume& WaitVolume(PyVolume& self, std::optional<double> timeout, const py::object& progress) {
  const SessionPtr s = self.s;
  const std::string id = self.v.id;
  WaitSubject<Volume> subj{"Volume",
                           &kVolumeTransient,
                           [&](Core& c) { return c.volumes().GetVolume(s->ctx, id); },
                           [](const Volume& v) { return v.status; },
                           [&](const Volume&) { return WhyFailed(s, id); },
                           self.restoring_from};
  uint64_t seen = self.progress_seen;
  auto out = WaitUntilSettled<Volume>(s, id, self.v, &seen, timeout, progress, subj, [&](const Volume& v) {
    self.v = v;
    self.progress_seen = seen;
  });
  self.progress_seen = seen;
  if (out.gone) {
    self.deleted = true;
    self.v.status = "deleted";
    return self;
  }
  self.v = std::move(out.cur);
  if (IsErrorStatus(self.v.status)) RaiseFailed("Volume", id, self.v.status, out.why);
  if (!subj.backup_id.empty()) FinalProgress(progress, self.v.size, out.last_done);
  self.restoring_from.clear();
  return self;
}

// Snapshot --------------------------------------------------------------------------------------

PySnapshot& WaitSnapshot(PySnapshot& self, std::optional<double> timeout) {
  const SessionPtr s = self.s;
  const std::string id = self.v.id;
  WaitSubject<Snapshot> subj{
      "Snapshot", &kSnapshotTransient, [&](Core& c) { return c.volumes().GetSnapshot(s->ctx, id); },
      [](const Snapshot& v) { return v.status; }, [&](const Snapshot&) { return WhyFailed(s, id); }};
  uint64_t seen = 0;
  auto out = WaitUntilSettled<Snapshot>(s, id, self.v, &seen, timeout, py::none(), subj,
                                        [&](const Snapshot& v) { self.v = v; });
  if (out.gone) {
    self.deleted = true;
    self.v.status = "deleted";
    return self;
  }
  self.v = std::move(out.cur);
  if (IsErrorStatus(self.v.status)) RaiseFailed("Snapshot", id, self.v.status, out.why);
  return self;
}

// Backup ----------------------------------------------------------------------------------------

PyBackup& WaitBackup(PyBackup& self, std::optional<double> timeout, const py::object& progress) {
  const SessionPtr s = self.s;
  const std::string id = self.v.id;
  WaitSubject<Backup> subj{"Backup",
                           &kBackupTransient,
                           [&](Core& c) { return c.backups().GetBackup(s->ctx, id); },
                           [](const Backup& v) { return v.status; },
                           [](const Backup& v) { return v.fail_reason.value_or(""); },
                           id,
                           RecordedProgress};
  uint64_t seen = self.progress_seen;
  auto out = WaitUntilSettled<Backup>(s, id, self.v, &seen, timeout, progress, subj, [&](const Backup& v) {
    self.v = v;
    self.progress_seen = seen;
  });
  self.progress_seen = seen;
  if (out.gone) {
    self.deleted = true;
    self.v.status = "deleted";
    return self;
  }
  self.v = std::move(out.cur);
  if (IsErrorStatus(self.v.status)) RaiseFailed("Backup", id, self.v.status, out.why);
  if (self.v.status == "available") FinalProgress(progress, self.v.size, out.last_done);
  return self;
}

// Listing ---------------------------------------------------------------------------------------

// Pages through ListVolumes (or snapshots, backups) with markers: each page is read with the
// GIL released, then handed out one object at a time. The next page is read before the last
// item of a page is handed out, with that item as its marker: a loop that deletes what it is
// given (`for v in svc.volumes(): v.delete()`) never leaves the marker deleted.
template <typename Item, typename PyItem, typename Fetch>
class Pager {
 public:
  Pager(SessionPtr s, int64_t page_size, std::optional<int64_t> limit, Fetch fetch)
      : s_(std::move(s)), page_size_(page_size), limit_(limit), fetch_(std::move(fetch)) {
    if (limit_ && *limit_ < 0) Raise(InvalidArgument("limit must not be negative."));
  }

  PyItem Next() {
    if (pos_ == page_.size()) {
      if (first_) {
        first_ = false;
        Read(std::nullopt);
      }
      if (!has_next_) throw py::stop_iteration();
      page_ = std::move(next_);
      next_.clear();
      has_next_ = false;
      pos_ = 0;
      if (page_.empty()) throw py::stop_iteration();
    }
    ++given_;
    if (pos_ + 1 == page_.size() && more_ && !(limit_ && given_ >= *limit_)) Read(page_.back().id);
    return PyItem{s_, std::move(page_[pos_++])};
  }

 private:
  // Reads the page after `marker` into next_.
  void Read(std::optional<std::string> marker) {
    int64_t n = page_size_;
    if (limit_) n = std::min<int64_t>(n, *limit_ - given_);
    if (n <= 0) return;
    bool more = false;
    next_ = fetch_(s_, std::move(marker), n, &more);
    more_ = more && !next_.empty();
    has_next_ = true;
  }

  SessionPtr s_;
  int64_t page_size_;
  std::optional<int64_t> limit_;
  Fetch fetch_;
  std::vector<Item> page_;
  std::vector<Item> next_;
  size_t pos_ = 0;
  int64_t given_ = 0;
  bool first_ = true;
  bool has_next_ = false;
  bool more_ = false;
};

std::vector<SortKey> ParseSort(const std::optional<std::string>& sort) {
  std::vector<SortKey> keys;
  if (!sort) return keys;
  // Cinder's sort parameter: "key[:dir],key[:dir]".
  size_t start = 0;
  while (start <= sort->size()) {
    size_t comma = sort->find(',', start);
    std::string part = sort->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    SortKey k;
    size_t colon = part.find(':');
    k.key = part.substr(0, colon);
    std::string dir = colon == std::string::npos ? "desc" : part.substr(colon + 1);
    if (dir != "asc" && dir != "desc") Raise(InvalidArgument("Invalid sort direction: " + dir + " (asc or desc)."));
    k.ascending = dir == "asc";
    if (k.key.empty()) Raise(InvalidArgument("Invalid sort key: empty."));
    keys.push_back(k);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return keys;
}

int64_t PageSize(const SessionPtr& s, std::optional<int64_t> page_size) {
  int64_t max = s->core->options().osapi_max_limit;
  if (!page_size) return max;
  if (*page_size < 1) Raise(InvalidArgument("page_size must be at least 1."));
  return std::min(*page_size, max);
}

using VolumeFetch = std::function<std::vector<Volume>(const SessionPtr&, std::optional<std::string>, int64_t, bool*)>;
using VolumePager = Pager<Volume, PyVolume, VolumeFetch>;
using SnapshotFetch =
    std::function<std::vector<Snapshot>(const SessionPtr&, std::optional<std::string>, int64_t, bool*)>;
using SnapshotPager = Pager<Snapshot, PySnapshot, SnapshotFetch>;
using BackupFetch = std::function<std::vector<Backup>(const SessionPtr&, std::optional<std::string>, int64_t, bool*)>;
using BackupPager = Pager<Backup, PyBackup, BackupFetch>;

// Attach ----------------------------------------------------------------------------------------

// A volume attached to this host, as a binary file: read, readinto, write, seek, tell, flush,
// close (which detaches it). Reads and writes go to the BlockDevice the connector opened from
// the attachment's connection_info, with the GIL released.
class VolumeFile {
 public:
  VolumeFile(SessionPtr s, std::string volume_id, Attachment attachment, std::unique_ptr<BlockDevice> dev,
             uint64_t size)
      : s_(std::move(s)),
        volume_id_(std::move(volume_id)),
        attachment_(std::move(attachment)),
        dev_(std::move(dev)),
        size_(size),
        read_only_(dev_->ReadOnly()),
        description_(dev_->Describe()) {}
  ~VolumeFile() {
    if (!closed_) {
      try {
        py::gil_scoped_acquire acquire;  // (a collected file: detach quietly)
        Close();
      } catch (...) {
      }
    }
  }

  void CheckOpen() const {
    if (closed_) throw py::value_error("I/O operation on closed volume file.");
  }
  // Runs one I/O on the device (GIL released), unless another thread closed the file meanwhile.
  template <typename F>
  void Io(F&& f) {
    std::shared_lock<std::shared_mutex> l(io_mu_);
    if (!dev_) Raise(FailedPrecondition("I/O operation on closed volume file."));
    Check(f(*dev_));
  }
  py::bytes Read(int64_t n) {
    CheckOpen();
    const uint64_t pos = pos_;
    const uint64_t left = pos >= size_ ? 0 : size_ - pos;
    const uint64_t want = n < 0 ? left : std::min<uint64_t>(static_cast<uint64_t>(n), left);
    std::string buf(want, '\0');
    if (want) {
      py::gil_scoped_release release;
      Io([&](BlockDevice& d) { return d.Read(pos, buf.data(), want); });
    }
    pos_ = pos + want;
    return py::bytes(buf);
  }
  size_t ReadInto(py::buffer b) {
    CheckOpen();
    py::buffer_info info = b.request(true);
    const uint64_t len = static_cast<uint64_t>(info.size * info.itemsize);
    const uint64_t pos = pos_;
    const uint64_t left = pos >= size_ ? 0 : size_ - pos;
    const uint64_t want = std::min(len, left);
    if (want) {
      py::gil_scoped_release release;
      Io([&](BlockDevice& d) { return d.Read(pos, info.ptr, want); });
    }
    pos_ = pos + want;
    return want;
  }
  size_t Write(py::buffer b) {
    CheckOpen();
    py::buffer_info info = b.request();
    const uint64_t len = static_cast<uint64_t>(info.size * info.itemsize);
    const uint64_t pos = pos_;
    if (pos + len > size_) {
      Raise(InvalidArgument("Write of " + std::to_string(len) + " bytes at " + std::to_string(pos) +
                            " is past the volume's end (" + std::to_string(size_) + " bytes)."));
    }
    {
      py::gil_scoped_release release;
      Io([&](BlockDevice& d) { return d.Write(pos, info.ptr, len); });
    }
    pos_ = pos + len;
    return len;
  }
  uint64_t Seek(int64_t offset, int whence) {
    CheckOpen();
    if (whence < 0 || whence > 2) throw py::value_error("whence must be 0, 1 or 2.");
    int64_t base = whence == 0 ? 0 : whence == 1 ? static_cast<int64_t>(pos_) : static_cast<int64_t>(size_);
    if (base + offset < 0) throw py::value_error("negative seek position " + std::to_string(base + offset));
    pos_ = static_cast<uint64_t>(base + offset);
    return pos_;
  }
  uint64_t Tell() const {
    CheckOpen();
    return pos_;
  }
  void Flush() {
    CheckOpen();
    py::gil_scoped_release release;
    Io([](BlockDevice& d) { return d.Flush(); });
  }
  void Close() {
    if (closed_) return;
    closed_ = true;
    Status flushed;
    {
      py::gil_scoped_release release;
      {
        // Waits for I/O other threads have under way on this file.
        std::unique_lock<std::shared_mutex> l(io_mu_);
        flushed = dev_->Flush();
        dev_.reset();
        description_ = "closed";
      }
      Core::Use use(s_->core.get());
      auto r = s_->core->volumes().DeleteAttachment(s_->ctx, attachment_.id);
      if (!r.ok()) Raise(r.status());
    }
    Check(flushed);
  }
  bool closed() const { return closed_; }
  bool ReadOnly() const { return read_only_; }
  uint64_t size() const { return size_; }
  std::string Describe() const { return description_; }
  const Attachment& attachment() const { return attachment_; }
  const std::string& volume_id() const { return volume_id_; }

 private:
  SessionPtr s_;
  std::string volume_id_;
  Attachment attachment_;
  std::shared_mutex io_mu_;           // shared by I/Os, held alone by Close
  std::unique_ptr<BlockDevice> dev_;  // guarded by io_mu_
  uint64_t size_;
  bool read_only_;
  std::string description_;  // these and the rest: with the GIL
  uint64_t pos_ = 0;
  bool closed_ = false;
};

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof(b), "\\u%04x", c);
      out += b;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::unique_ptr<VolumeFile> Attach(PyVolume& self, const std::string& mode,
                                   const std::optional<std::string>& instance) {
  if (mode != "rw" && mode != "ro") Raise(InvalidArgument("Invalid attach mode " + mode + ": rw or ro."));
  const std::string connector = "{\"host\": " + JsonString(HostName()) +
                                ", \"initiator\": " + JsonString(DefaultInitiatorName()) +
                                ", \"ip\": \"127.0.0.1\", \"platform\": \"x86_64\", \"os_type\": \"linux\", "
                                "\"multipath\": false, \"do_local_attach\": true}";
  const std::string id = self.v.id;
  py::gil_scoped_release release;
  Core::Use use(self.s->core.get());
  VolumeManager& vm = self.s->core->volumes();
  VolumeManager::AttachmentCreate req;
  req.volume_id = id;
  req.instance_uuid = instance;
  req.connector = connector;
  req.mode = mode;
  Attachment a = Take(vm.CreateAttachment(self.s->ctx, req));
  auto undo = [&](const Status& st) {
    (void)vm.DeleteAttachment(self.s->ctx, a.id);
    Raise(st);
  };
  if (!a.connection_info) undo(Internal("The attachment of volume " + id + " has no connection_info."));
  auto dev = OpenConnection(*a.connection_info);
  if (!dev.ok()) undo(dev.status());
  auto size = (*dev)->Size();
  if (!size.ok()) undo(size.status());
  if (auto st = vm.CompleteAttachment(self.s->ctx, a.id); !st.ok()) undo(st);
  auto fresh = vm.GetVolume(self.s->ctx, id);
  auto file = std::make_unique<VolumeFile>(self.s, id, std::move(a), std::move(dev).value(), *size);
  py::gil_scoped_acquire acquire;
  if (fresh.ok()) self.v = std::move(fresh).value();
  return file;
}

// Groups and group snapshots -------------------------------------------------------------------

const std::set<std::string> kGroupTransient = {"creating", "updating", "deleting"};
const std::set<std::string> kGroupSnapshotTransient = {"creating", "deleting"};

PyGroup& WaitGroup(PyGroup& self, std::optional<double> timeout) {
  const SessionPtr s = self.s;
  const std::string id = self.v.id;
  WaitSubject<VolumeGroup> subj{"Group", &kGroupTransient, [&](Core& c) { return c.volumes().GetGroup(s->ctx, id); },
                                [](const VolumeGroup& v) { return v.status; },
                                [&](const VolumeGroup&) { return WhyFailed(s, id); }};
  uint64_t seen = 0;
  auto out = WaitUntilSettled<VolumeGroup>(s, id, self.v, &seen, timeout, py::none(), subj,
                                           [&](const VolumeGroup& v) { self.v = v; });
  if (out.gone) {
    self.deleted = true;
    self.v.status = "deleted";
    return self;
  }
  self.v = std::move(out.cur);
  if (IsErrorStatus(self.v.status)) RaiseFailed("Group", id, self.v.status, out.why);
  return self;
}

PyGroupSnapshot& WaitGroupSnapshot(PyGroupSnapshot& self, std::optional<double> timeout) {
  const SessionPtr s = self.s;
  const std::string id = self.v.id;
  WaitSubject<GroupSnapshot> subj{
      "Group snapshot", &kGroupSnapshotTransient, [&](Core& c) { return c.volumes().GetGroupSnapshot(s->ctx, id); },
      [](const GroupSnapshot& v) { return v.status; }, [&](const GroupSnapshot&) { return WhyFailed(s, id); }};
  uint64_t seen = 0;
  auto out = WaitUntilSettled<GroupSnapshot>(s, id, self.v, &seen, timeout, py::none(), subj,
                                             [&](const GroupSnapshot& v) { self.v = v; });
  if (out.gone) {
    self.deleted = true;
    self.v.status = "deleted";
    return self;
  }
  self.v = std::move(out.cur);
  if (IsErrorStatus(self.v.status)) RaiseFailed("Group snapshot", id, self.v.status, out.why);
  return self;
}

// The id of `o`: one of the objects P (PyVolume, PyGroup, ...) or an id.
template <typename P>
std::string IdOf(const py::handle& o) {
  if (py::isinstance<P>(o)) return o.cast<const P&>().v.id;
  return o.cast<std::string>();
}

// Comma-separated ids of a sequence of P objects or ids (GroupUpdate's add_volumes).
template <typename P>
std::string IdList(const py::handle& seq) {
  if (py::isinstance<py::str>(seq)) return seq.cast<std::string>();
  std::string out;
  for (auto item : seq) out += (out.empty() ? "" : ",") + IdOf<P>(item);
  return out;
}

PyGroup MakeGroupFromSource(const SessionPtr& s, GroupCreateFromSource req) {
  VolumeGroup g = Take(Blocking(s, [&](VolumeManager& vm) { return vm.CreateGroupFromSource(s->ctx, req); }));
  return PyGroup{s, std::move(g)};
}

py::object EncryptionDict(const VolumeTypeEncryption& e) {
  py::dict d;
  d["volume_type_id"] = e.volume_type_id;
  d["encryption_id"] = e.encryption_id;
  d["provider"] = e.provider;
  d["cipher"] = Opt(e.cipher);
  d["key_size"] = OptOf(e.key_size);
  d["control_location"] = e.control_location;
  d["created_at"] = e.created_at;
  d["updated_at"] = Opt(e.updated_at);
  return d;
}

// Fields of an encryption create or update from keyword arguments.
VolumeTypeEncryptionUpdate EncryptionUpdate(const py::kwargs& kw) {
  VolumeTypeEncryptionUpdate u;
  for (auto kv : kw) {
    std::string k = py::str(kv.first).cast<std::string>();
    if (k == "provider") {
      u.provider = kv.second.cast<std::string>();
    } else if (k == "cipher") {
      u.cipher = kv.second.is_none() ? std::optional<std::string>() : kv.second.cast<std::string>();
    } else if (k == "key_size") {
      u.key_size = kv.second.is_none() ? std::optional<int64_t>() : kv.second.cast<int64_t>();
    } else if (k == "control_location") {
      u.control_location = kv.second.cast<std::string>();
    } else {
      Raise(InvalidArgument("Unknown field " + k + ": provider, cipher, key_size or control_location."));
    }
  }
  return u;
}

py::list ManageableList(const std::vector<VolumeManager::Manageable>& entries, bool snapshots) {
  auto ref = [](const std::optional<std::string>& name) -> py::object {
    if (!name) return py::none();
    py::dict d;
    d["source-name"] = *name;
    return d;
  };
  py::list out;
  for (const auto& e : entries) {
    py::dict d;
    d["reference"] = ref(e.reference);
    d["size"] = e.size;
    d["safe_to_manage"] = e.safe_to_manage;
    d["reason_not_safe"] = Opt(e.reason_not_safe);
    d["cinder_id"] = Opt(e.cinder_id);
    d["extra_info"] = py::none();
    if (snapshots) d["source_reference"] = ref(e.source_reference);
    out.append(d);
  }
  return out;
}

// Exactly one of host and cluster, as the API's common.get_cluster_host at the latest version.
void CheckClusterHost(const std::optional<std::string>& host, const std::optional<std::string>& cluster) {
  if ((host && !host->empty()) == (cluster && !cluster->empty())) {
    Raise(InvalidArgument("Invalid input received: One and only one of cluster and host must be set."));
  }
}

VolumeManager::ManageableQuery ManageableQueryOf(std::optional<std::string> host, std::optional<std::string> cluster,
                                                 std::optional<std::string> marker, std::optional<int64_t> limit,
                                                 int64_t offset, const std::optional<std::string>& sort) {
  CheckClusterHost(host, cluster);
  VolumeManager::ManageableQuery q;
  q.host = std::move(host);
  q.cluster = std::move(cluster);
  if (marker) q.marker = "{\"source-name\": " + JsonString(*marker) + "}";
  if (limit) q.limit = *limit;
  q.offset = offset;
  q.sort = ParseSort(sort);
  return q;
}

// {resource: limit} of a quota class.
py::dict LimitDict(const QuotaSet& q) {
  py::dict d;
  for (auto& [k, v] : q) d[py::str(k)] = v.limit;
  return d;
}

using GroupFetch =
    std::function<std::vector<VolumeGroup>(const SessionPtr&, std::optional<std::string>, int64_t, bool*)>;
using GroupPager = Pager<VolumeGroup, PyGroup, GroupFetch>;
using GroupSnapshotFetch =
    std::function<std::vector<GroupSnapshot>(const SessionPtr&, std::optional<std::string>, int64_t, bool*)>;
using GroupSnapshotPager = Pager<GroupSnapshot, PyGroupSnapshot, GroupSnapshotFetch>;

// Identity -------------------------------------------------------------------------------------

// The identity service's objects as dicts with Keystone's field names.
py::dict DomainDict(const Domain& d) {
  py::dict o;
  o["id"] = d.id;
  o["name"] = d.name;
  o["description"] = d.description;
  o["enabled"] = d.enabled;
  return o;
}
py::dict ProjectDict(const Project& p) {
  py::dict o;
  o["id"] = p.id;
  o["name"] = p.name;
  o["domain_id"] = p.domain_id;
  o["description"] = p.description;
  o["enabled"] = p.enabled;
  o["tags"] = p.tags;
  return o;
}
py::dict UserDict(const User& u) {
  py::dict o;
  o["id"] = u.id;
  o["name"] = u.name;
  o["domain_id"] = u.domain_id;
  o["email"] = u.email.empty() ? py::object(py::none()) : py::object(py::str(u.email));
  o["description"] = u.description;
  o["default_project_id"] =
      u.default_project_id.empty() ? py::object(py::none()) : py::object(py::str(u.default_project_id));
  o["enabled"] = u.enabled;
  return o;
}
py::dict RoleDict(const Role& r) {
  py::dict o;
  o["id"] = r.id;
  o["name"] = r.name;
  o["description"] = r.description;
  return o;
}
py::dict AssignmentDict(const RoleAssignment& a) {
  py::dict o;
  auto opt = [](const std::string& s) { return s.empty() ? py::object(py::none()) : py::object(py::str(s)); };
  o["role_id"] = a.role_id;
  o["user_id"] = opt(a.user_id);
  o["group_id"] = opt(a.group_id);
  o["project_id"] = opt(a.project_id);
  o["domain_id"] = opt(a.domain_id);
  o["system"] = opt(a.system);
  return o;
}
py::dict TokenDict(const TokenInfo& t) {
  py::dict o;
  o["audit_id"] = t.audit_id;
  o["methods"] = t.methods;
  o["issued_at"] = t.issued_at;
  o["expires_at"] = t.expires_at;
  o["user"] = UserDict(t.user);
  o["project"] = t.project ? py::object(ProjectDict(*t.project)) : py::object(py::none());
  o["domain"] = t.domain ? py::object(DomainDict(*t.domain)) : py::object(py::none());
  o["system"] = t.system;
  py::list roles;
  for (const auto& r : t.roles) roles.append(RoleDict(r));
  o["roles"] = roles;
  o["is_admin_project"] = t.is_admin_project;
  return o;
}

IdentityFilter FilterOf(std::optional<std::string> name, std::optional<std::string> domain_id,
                        std::optional<bool> enabled) {
  IdentityFilter f;
  f.name = name.value_or("");
  f.domain_id = domain_id.value_or("");
  f.enabled = enabled;
  return f;
}

// {field: text} of keyword arguments for the identity updates ("true"/"false" for booleans).
std::map<std::string, std::string> FieldsOf(const py::kwargs& kw) {
  std::map<std::string, std::string> out;
  for (auto kv : kw) {
    std::string k = py::str(kv.first).cast<std::string>();
    if (py::isinstance<py::bool_>(kv.second)) {
      out[k] = kv.second.cast<bool>() ? "true" : "false";
    } else if (kv.second.is_none()) {
      out[k] = "";
    } else {
      out[k] = py::str(kv.second).cast<std::string>();
    }
  }
  return out;
}

RoleAssignment AssignmentOf(const std::string& role_id, std::optional<std::string> user_id,
                            std::optional<std::string> group_id, std::optional<std::string> project_id,
                            std::optional<std::string> domain_id, bool system) {
  RoleAssignment a;
  a.role_id = role_id;
  a.user_id = user_id.value_or("");
  a.group_id = group_id.value_or("");
  a.project_id = project_id.value_or("");
  a.domain_id = domain_id.value_or("");
  if (system) a.system = "all";
  if (a.user_id.empty() == a.group_id.empty()) Raise(InvalidArgument("Give one of user_id and group_id."));
  if ((!a.project_id.empty()) + (!a.domain_id.empty()) + system != 1) {
    Raise(InvalidArgument("Give one of project_id, domain_id and system=True."));
  }
  return a;
}

// Options ---------------------------------------------------------------------------------------

// A Python value as cinder.conf text.
std::string ConfValue(const std::string& key, const py::handle& v) {
  std::string text;
  if (py::isinstance<py::bool_>(v)) {
    text = v.cast<bool>() ? "true" : "false";
  } else if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    for (auto item : v) {
      if (!text.empty()) text += ",";
      text += py::str(item).cast<std::string>();
    }
  } else if (py::isinstance<py::dict>(v)) {
    for (auto kv : v.cast<py::dict>()) {
      if (!text.empty()) text += ",";
      text += py::str(kv.first).cast<std::string>() + ":" + py::str(kv.second).cast<std::string>();
    }
  } else {
    text = py::str(v).cast<std::string>();
  }
  if (text.find('\n') != std::string::npos || text.find('\r') != std::string::npos) {
    Raise(InvalidArgument("Invalid value for option " + key + ": it must be one line."));
  }
  return text;
}

std::string CheckedName(const std::string& what, const std::string& name) {
  if (name.empty() || name.find_first_of("[]\n\r=") != std::string::npos) {
    Raise(InvalidArgument("Invalid " + what + " name: " + (name.empty() ? "empty" : name) + "."));
  }
  return name;
}

std::shared_ptr<PyService> Open(std::optional<std::string> state_path, std::optional<py::list> backends,
                                std::optional<std::string> config_file, std::string project_id, std::string user_id,
                                py::kwargs kwargs) {
  Options options;
  bool embedded = true;
  if (config_file) {
    if (state_path || backends || kwargs.size()) {
      Raise(InvalidArgument("config_file names the deployment: state_path, backends and options go in it."));
    }
    std::vector<std::string> warnings;
    options = Take(LoadConfigFile(*config_file, &warnings));
    embedded = false;
  } else {
    if (!state_path) Raise(InvalidArgument("Give state_path (an embedded service) or config_file (a deployment)."));
    // cinder.conf text from the arguments: ParseConfig checks them as it checks a file's.
    std::string conf = "[DEFAULT]\nstate_path = " + ConfValue("state_path", py::str(*state_path)) + "\n";
    if (!kwargs.contains("osapi_volume_listen_port")) conf += "osapi_volume_listen_port = 0\n";
    for (auto kv : kwargs) {
      std::string key = CheckedName("option", py::str(kv.first).cast<std::string>());
      if (key == "enabled_backends") Raise(InvalidArgument("Give the backends as backends=[...]."));
      conf += key + " = " + ConfValue(key, kv.second) + "\n";
    }
    std::string sections;
    std::vector<std::string> names;
    if (!backends) {
      backends = py::list();
      backends->append(py::str("file"));
    }
    for (auto b : *backends) {
      py::dict d;
      if (py::isinstance<py::str>(b)) {
        d["name"] = b;
      } else if (py::isinstance<py::dict>(b)) {
        d = b.cast<py::dict>();
      } else {
        Raise(InvalidArgument("Each backend is a name or a dict of its section's options (with \"name\")."));
      }
      if (!d.contains("name")) Raise(InvalidArgument("A backend dict needs its \"name\" (its section)."));
      std::string name = CheckedName("backend", py::str(d["name"]).cast<std::string>());
      names.push_back(name);
      sections += "[" + name + "]\n";
      if (!d.contains("volume_driver")) sections += "volume_driver = file\n";
      if (!d.contains("volume_backend_name")) sections += "volume_backend_name = " + name + "\n";
      if (!d.contains("file_volume_directory") &&
          (!d.contains("volume_driver") || py::str(d["volume_driver"]).cast<std::string>() == "file")) {
        sections += "file_volume_directory = " + *state_path + "/volumes/" + name + "\n";
      }
      for (auto kv : d) {
        std::string key = py::str(kv.first).cast<std::string>();
        if (key == "name") continue;
        sections += CheckedName("option", key) + " = " + ConfValue(key, kv.second) + "\n";
      }
    }
    conf += "enabled_backends = ";
    for (size_t i = 0; i < names.size(); ++i) conf += (i ? "," : "") + names[i];
    conf += "\n" + sections;
    std::vector<std::string> warnings;
    options = Take(ParseConfig(conf, "cinder.open()", &warnings));
    if (!warnings.empty()) {
      std::string all;
      // What a file would only be warned of is refused here: the caller named it.
      for (auto w : warnings) {
        const std::string tail = ", ignored";
        if (w.size() > tail.size() && w.compare(w.size() - tail.size(), tail.size(), tail) == 0) {
          w.resize(w.size() - tail.size());
        }
        all += (all.empty() ? "" : "; ") + w;
      }
      Raise(InvalidArgument(all));
    }
  }
  std::unique_ptr<EmbeddedService> svc;
  std::unique_ptr<ServiceClient> client;
  // Logging options given to open() send the library's lines there (process-wide).
  for (const char* k : {"debug", "log_file", "log_dir", "use_stderr"}) {
    if (kwargs.contains(k)) {
      Check(ConfigureLogging(options, "cinder-python"));
      break;
    }
  }
  {
    py::gil_scoped_release release;
    if (embedded) {
      Check(DbSync(options));
      svc = Take(EmbeddedService::Start(options));
    } else {
      client = Take(ServiceClient::Connect(options));
    }
  }
  auto core = std::make_shared<Core>(options, std::move(svc), std::move(client));
  auto s = std::make_shared<Session>(Session{core, RequestContext::Admin(user_id, project_id)});
  return std::make_shared<PyService>(PyService{s});
}

// Requests from keyword arguments ---------------------------------------------------------------

VolumeCreate NewVolumeRequest(int64_t size, std::optional<std::string> name, std::optional<std::string> description,
                              std::optional<std::string> volume_type, std::optional<std::string> availability_zone,
                              std::optional<std::map<std::string, std::string>> metadata) {
  VolumeCreate req;
  req.size = size;
  req.name = std::move(name);
  req.description = std::move(description);
  req.volume_type = std::move(volume_type);
  req.availability_zone = std::move(availability_zone);
  req.metadata = ToMetadata(metadata);
  return req;
}

// {resource: Quota}; the Quota class is QuotaDetail itself.
py::dict QuotaDict(const QuotaSet& q) {
  py::dict d;
  for (auto& [k, v] : q) d[py::str(k)] = py::cast(v);
  return d;
}

PyObject* NewException(py::module_& m, const char* name, py::tuple bases, const char* doc) {
  std::string full = std::string("cinder.") + name;
  PyObject* e = PyErr_NewExceptionWithDoc(full.c_str(), doc, bases.ptr(), nullptr);
  if (!e) throw py::error_already_set();
  m.add_object(name, py::handle(e));
  return e;
}

py::tuple Bases(std::initializer_list<PyObject*> bases) {
  py::tuple t(bases.size());
  size_t i = 0;
  for (PyObject* b : bases) t[i++] = py::reinterpret_borrow<py::object>(b);
  return t;
}

}  // namespace

PYBIND11_MODULE(_cinder, m) {
  m.doc() =
      "libcinder as a Python library: Cinder's volumes, snapshots, backups, types, QoS and quotas "
      "in process (docs/python.md).";
  m.attr("__version__") = LibraryVersion();

  // Errors -------------------------------------------------------------------------------------
  PyObject* error = NewException(m, "Error", Bases({PyExc_Exception}),
                                 "A libcinder call failed. `code` is cinder::Code's name, `http_status` what Cinder's "
                                 "API would answer, the message Cinder's.");
  g_exc.error = error;
  PyObject* invalid =
      NewException(m, "InvalidInput", Bases({error, PyExc_ValueError}), "Bad input (Cinder's Invalid*, HTTP 400).");
  g_exc.by_code[Code::kInvalidArgument] = invalid;
  g_exc.by_code[Code::kFailedPrecondition] = NewException(
      m, "InvalidState", Bases({invalid}), "The resource's status forbids it (Cinder's InvalidVolume, ..., HTTP 400).");
  g_exc.by_code[Code::kNotFound] =
      NewException(m, "NotFound", Bases({error, PyExc_LookupError}), "No such resource, or not visible (HTTP 404).");
  PyObject* conflict = NewException(m, "Conflict", Bases({error}), "It exists already, or a race was lost (HTTP 409).");
  g_exc.by_code[Code::kAlreadyExists] = conflict;
  g_exc.by_code[Code::kAborted] = conflict;
  PyObject* not_authorized = NewException(m, "NotAuthorized", Bases({error, PyExc_PermissionError}),
                                          "The policy does not allow it (HTTP 403).");
  g_exc.by_code[Code::kPermissionDenied] = not_authorized;
  g_exc.by_code[Code::kUnauthenticated] =
      NewException(m, "NotAuthenticated", Bases({not_authorized}), "Who is asking is not known (HTTP 401).");
  g_exc.by_code[Code::kResourceExhausted] = NewException(
      m, "OverQuota", Bases({error}), "Over a quota or a size limit (HTTP 413); `retry_after` in seconds.");
  g_exc.by_code[Code::kUnimplemented] = NewException(m, "NotSupported", Bases({error, PyExc_NotImplementedError}),
                                                     "The backend or the library cannot do it (HTTP 501).");
  PyObject* timeout =
      NewException(m, "Timeout", Bases({error, PyExc_TimeoutError}), "A wait or a call took too long (HTTP 504).");
  g_exc.by_code[Code::kDeadlineExceeded] = timeout;
  g_exc.timeout = timeout;
  g_exc.by_code[Code::kUnavailable] =
      NewException(m, "Unavailable", Bases({error}), "No service could take it now (HTTP 503).");
  g_exc.by_code[Code::kInternal] = NewException(m, "InternalError", Bases({error}), "Something broke (HTTP 500).");
  g_exc.operation_failed =
      NewException(m, "OperationFailed", Bases({error}),
                   "wait() saw the resource end in an error status: `status`, `resource_id`, and `user_message` (why, "
                   "from Cinder's user messages) when there is one.");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CinderError& e) {
      TranslateError(e);
    }
  });

  // Quota --------------------------------------------------------------------------------------
  py::class_<QuotaDetail>(m, "Quota", "One resource of a project's quota set.")
      .def_readonly("limit", &QuotaDetail::limit, "-1: unlimited")
      .def_readonly("in_use", &QuotaDetail::in_use)
      .def_readonly("reserved", &QuotaDetail::reserved)
      .def("__repr__", [](const QuotaDetail& q) {
        return "Quota(limit=" + std::to_string(q.limit) + ", in_use=" + std::to_string(q.in_use) +
               ", reserved=" + std::to_string(q.reserved) + ")";
      });

  // Volume file --------------------------------------------------------------------------------
  py::class_<VolumeFile>(m, "VolumeFile",
                         "A volume attached to this host, as a binary file (read, readinto, write, seek, tell, flush). "
                         "close() (or leaving a with block) flushes and detaches it.")
      .def("read", &VolumeFile::Read, py::arg("size") = -1, "Up to `size` bytes from the position (-1: to the end).")
      .def("readinto", &VolumeFile::ReadInto, py::arg("buffer"),
           "Reads into a writable buffer from the position; returns how many bytes.")
      .def("write", &VolumeFile::Write, py::arg("data"),
           "Writes all of `data` at the position; durable after flush(). Not past the volume's end.")
      .def("seek", &VolumeFile::Seek, py::arg("offset"), py::arg("whence") = 0,
           "Moves the position (whence 0: from the start, 1: from here, 2: from the end); returns it.")
      .def("tell", &VolumeFile::Tell, "The position.")
      .def("flush", &VolumeFile::Flush,
           "Makes every completed write durable (SYNCHRONIZE CACHE; fdatasync for a local file).")
      .def("close", &VolumeFile::Close, "Flushes and detaches the volume (deletes the attachment). Idempotent.")
      .def(
          "readable", [](const VolumeFile& f) { return !f.closed(); }, "True while open.")
      .def(
          "writable", [](const VolumeFile& f) { return !f.closed() && !f.ReadOnly(); },
          "True while open, unless attached read-only.")
      .def(
          "seekable", [](const VolumeFile& f) { return !f.closed(); }, "True while open.")
      .def_property_readonly("closed", &VolumeFile::closed)
      .def_property_readonly("size", &VolumeFile::size, "The volume's size in bytes.")
      .def_property_readonly("name", &VolumeFile::Describe, "What was opened (\"local /path\", \"iscsi ...\").")
      .def_property_readonly("volume_id", &VolumeFile::volume_id)
      .def_property_readonly("attachment_id", [](const VolumeFile& f) { return f.attachment().id; })
      .def(
          "__enter__", [](VolumeFile& f) -> VolumeFile& { return f; }, py::return_value_policy::reference)
      .def("__exit__", [](VolumeFile& f, py::args) { f.Close(); })
      .def("__repr__", [](const VolumeFile& f) { return "<cinder.VolumeFile " + f.Describe() + ">"; });

  // Volume -------------------------------------------------------------------------------------
  py::class_<PyVolume> volume(m, "Volume", "A Cinder volume, as last read (refresh() reads it again).");
  volume.def_property_readonly("id", [](const PyVolume& s) { return s.v.id; })
      .def_property_readonly(
          "name",
          [](const PyVolume& s) { return s.v.has_name ? py::object(py::str(s.v.name)) : py::object(py::none()); })
      .def_property_readonly("description",
                             [](const PyVolume& s) {
                               return s.v.has_description ? py::object(py::str(s.v.description))
                                                          : py::object(py::none());
                             })
      .def_property_readonly(
          "size", [](const PyVolume& s) { return s.v.size; }, "GiB")
      .def_property_readonly("status", [](const PyVolume& s) { return s.v.status; })
      .def_property_readonly("attach_status", [](const PyVolume& s) { return s.v.attach_status; })
      .def_property_readonly("migration_status", [](const PyVolume& s) { return Opt(s.v.migration_status); })
      .def_property_readonly("availability_zone", [](const PyVolume& s) { return s.v.availability_zone; })
      .def_property_readonly(
          "host", [](const PyVolume& s) { return s.v.host; }, "host@backend#pool")
      .def_property_readonly("project_id", [](const PyVolume& s) { return s.v.project_id; })
      .def_property_readonly("user_id", [](const PyVolume& s) { return s.v.user_id; })
      .def_property_readonly(
          "volume_type", [](const PyVolume& s) { return s.v.volume_type_name; }, "its name")
      .def_property_readonly("volume_type_id", [](const PyVolume& s) { return s.v.volume_type_id; })
      .def_property_readonly("snapshot_id", [](const PyVolume& s) { return Opt(s.v.snapshot_id); })
      .def_property_readonly("source_volid", [](const PyVolume& s) { return Opt(s.v.source_volid); })
      .def_property_readonly("bootable", [](const PyVolume& s) { return s.v.bootable; })
      .def_property_readonly("multiattach", [](const PyVolume& s) { return s.v.multiattach; })
      .def_property_readonly("metadata", [](const PyVolume& s) { return s.v.metadata; })
      .def_property_readonly("created_at", [](const PyVolume& s) { return s.v.created_at; })
      .def_property_readonly("updated_at", [](const PyVolume& s) { return Opt(s.v.updated_at); })
      .def_property_readonly("group_id", [](const PyVolume& s) { return Opt(s.v.group_id); })
      .def_property_readonly("attachments",
                             [](const PyVolume& s) {
                               py::list l;
                               for (auto& a : s.v.attachments) {
                                 py::dict d;
                                 d["id"] = a.id;
                                 d["attachment_id"] = a.id;
                                 d["server_id"] = Opt(a.instance_uuid);
                                 d["host_name"] = Opt(a.attached_host);
                                 d["device"] = Opt(a.mountpoint);
                                 d["attached_at"] = Opt(a.attach_time);
                                 l.append(d);
                               }
                               return l;
                             })
      .def(
          "refresh",
          [](PyVolume& self) -> PyVolume& {
            Refresh(self);
            return self;
          },
          py::return_value_policy::reference_internal, "Reads the volume again; returns it.")
      .def("wait", &WaitVolume, py::arg("timeout") = py::none(), py::arg("progress") = py::none(),
           py::return_value_policy::reference_internal,
           "Waits (the GIL released) until the volume leaves a transient status (creating, extending, deleting, "
           "...); returns it. A volume that is gone (deleted here or elsewhere) ends with status \"deleted\". Raises "
           "OperationFailed when it ends "
           "in an error status, Timeout after `timeout` seconds. While a backup is restored onto it (restore()), "
           "`progress(bytes_done, bytes_total)` is called on this thread (as Backup.wait's).")
      .def(
          "extend",
          [](PyVolume& self, int64_t new_size) -> PyVolume& {
            // As os-extend from 3.42: an in-use volume is extended as an attached one.
            Check(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.ExtendAttachedVolume(self.s->ctx, self.v.id, new_size); }));
            Refresh(self);
            return self;
          },
          py::arg("new_size"), py::return_value_policy::reference_internal,
          "Starts growing it to `new_size` GiB (status \"extending\"); wait() for it. An in-use volume too "
          "(Cinder's extend of an attached volume, 3.42): its export is made again at the new size.")
      .def(
          "create_snapshot",
          [](PyVolume& self, std::optional<std::string> name, std::optional<std::string> description,
             std::optional<std::map<std::string, std::string>> metadata, bool force) {
            SnapshotCreate req;
            req.volume_id = self.v.id;
            req.name = std::move(name);
            req.description = std::move(description);
            req.metadata = ToMetadata(metadata);
            req.force = force;
            Snapshot snap =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.CreateSnapshot(self.s->ctx, req); }));
            return PySnapshot{self.s, std::move(snap)};
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("description") = py::none(),
          py::arg("metadata") = py::none(), py::arg("force") = false,
          "A snapshot of it (\"creating\"); the volume must be available (in-use with force).")
      .def(
          "clone",
          [](PyVolume& self, std::optional<std::string> name, int64_t size, std::optional<std::string> description,
             std::optional<std::string> volume_type, std::optional<std::map<std::string, std::string>> metadata) {
            VolumeCreate req = NewVolumeRequest(size, std::move(name), std::move(description), std::move(volume_type),
                                                std::nullopt, metadata);
            req.source_volid = self.v.id;
            return MakeVolume(self.s, req);
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("size") = 0, py::arg("description") = py::none(),
          py::arg("volume_type") = py::none(), py::arg("metadata") = py::none(),
          "A new volume holding its data (size 0: its size).")
      .def(
          "delete",
          [](PyVolume& self, bool force, bool cascade) -> PyVolume& {
            Check(Blocking(self.s,
                           [&](VolumeManager& vm) { return vm.DeleteVolume(self.s->ctx, self.v.id, force, cascade); }));
            self.v.status = "deleting";
            return self;
          },
          py::kw_only(), py::arg("force") = false, py::arg("cascade") = false,
          py::return_value_policy::reference_internal,
          "Starts deleting it (status \"deleting\"); wait() until it is gone. `cascade` deletes its snapshots "
          "first; `force` skips the status check.")
      .def(
          "update",
          [](PyVolume& self, py::kwargs kw) -> PyVolume& {
            VolumeUpdate u;
            for (auto kv : kw) {
              std::string k = py::str(kv.first).cast<std::string>();
              if (k == "name") {
                u.name = kv.second.is_none() ? std::optional<std::string>() : kv.second.cast<std::string>();
              } else if (k == "description") {
                u.description = kv.second.is_none() ? std::optional<std::string>() : kv.second.cast<std::string>();
              } else if (k == "metadata") {
                u.metadata = kv.second.cast<Metadata>();
              } else if (k == "bootable") {
                u.bootable = kv.second.cast<bool>();
              } else {
                Raise(InvalidArgument("Unknown field " + k + ": name, description, metadata or bootable."));
              }
            }
            self.v =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.UpdateVolume(self.s->ctx, self.v.id, u); }));
            return self;
          },
          py::return_value_policy::reference_internal,
          "Sets name, description (None clears them), metadata (replaces it all) or bootable.")
      .def(
          "retype",
          [](PyVolume& self, const std::string& new_type, const std::string& policy) -> PyVolume& {
            Check(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.RetypeVolume(self.s->ctx, self.v.id, new_type, policy); }));
            Refresh(self);
            return self;
          },
          py::arg("new_type"), py::arg("migration_policy") = "never", py::return_value_policy::reference_internal,
          "Changes its type (os-retype; status \"retyping\" until done): in place, or with migration_policy "
          "\"on-demand\" copied to a backend the new type fits.")
      .def(
          "reset_status",
          [](PyVolume& self, std::optional<std::string> status, std::optional<std::string> attach_status,
             std::optional<std::string> migration_status) -> PyVolume& {
            Check(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.ResetStatus(self.s->ctx, self.v.id, status, attach_status, migration_status);
            }));
            Refresh(self);
            return self;
          },
          py::arg("status") = py::none(), py::kw_only(), py::arg("attach_status") = py::none(),
          py::arg("migration_status") = py::none(), py::return_value_policy::reference_internal,
          "Admin (os-reset_status): sets the status in the database, whatever the backend holds.")
      .def(
          "revert_to_snapshot",
          [](PyVolume& self, const PySnapshot& snap) -> PyVolume& {
            Check(Blocking(self.s,
                           [&](VolumeManager& vm) { return vm.RevertToSnapshot(self.s->ctx, self.v.id, snap.v.id); }));
            Refresh(self);
            return self;
          },
          py::arg("snapshot"), py::return_value_policy::reference_internal,
          "Makes it hold its latest snapshot's data again (status \"reverting\").")
      .def(
          "snapshots",
          [](PyVolume& self) {
            SnapshotListQuery q;
            q.volume_id = self.v.id;
            auto list = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ListSnapshots(self.s->ctx, q); }));
            std::vector<PySnapshot> out;
            for (auto& s : list.snapshots) out.push_back(PySnapshot{self.s, std::move(s)});
            return out;
          },
          "Its snapshots.")
      .def(
          "backup",
          [](PyVolume& self, std::optional<std::string> name, std::optional<std::string> description, bool incremental,
             bool force, std::optional<std::string> snapshot_id, std::optional<std::string> container) {
            BackupCreate req;
            req.volume_id = self.v.id;
            req.name = std::move(name);
            req.description = std::move(description);
            req.incremental = incremental;
            req.force = force;
            req.snapshot_id = std::move(snapshot_id);
            req.container = std::move(container);
            const uint64_t from = ProgressNow(self.s);
            Backup b =
                Take(BlockingBackups(self.s, [&](BackupManager& bm) { return bm.CreateBackup(self.s->ctx, req); }));
            return PyBackup{self.s, std::move(b), from};
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("description") = py::none(),
          py::arg("incremental") = false, py::arg("force") = false, py::arg("snapshot_id") = py::none(),
          py::arg("container") = py::none(), "A backup of it (\"creating\"); Backup.wait(progress=...) follows it.")
      .def(
          "transfer",
          [](PyVolume& self, std::optional<std::string> name, bool no_snapshots) {
            Transfer t = Take(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.CreateTransfer(self.s->ctx, self.v.id, name, no_snapshots);
            }));
            Refresh(self);
            return PyTransfer{self.s, std::move(t)};
          },
          py::arg("name") = py::none(), py::kw_only(), py::arg("no_snapshots") = false,
          "Offers it to another project: a Transfer whose auth_key (shown only now) the other project gives to "
          "accept it. The volume (available) is \"awaiting-transfer\" meanwhile.")
      .def(
          "unmanage",
          [](PyVolume& self) -> PyVolume& {
            Check(Blocking(self.s, [&](VolumeManager& vm) { return vm.UnmanageVolume(self.s->ctx, self.v.id); }));
            self.v.status = "unmanaging";
            return self;
          },
          py::return_value_policy::reference_internal,
          "Admin: ends Cinder's management of it, leaving its data on the backend (svc.manage_volume() takes it "
          "back); wait() until it is gone. InvalidState when a delete would be refused.")
      .def("attach", &Attach, py::kw_only(), py::arg("mode") = "rw", py::arg("instance_uuid") = py::none(),
           "Attaches it to this host (an attachment with this host's connector, completed) and opens it through "
           "the connector: a VolumeFile. The volume is in-use until the file is closed.")
      .def(
          "local_path",
          [](PyVolume& self) -> py::object {
            std::string p =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.LocalPath(self.s->ctx, self.v.id); }));
            return p.empty() ? py::object(py::none()) : py::object(py::str(p));
          },
          "Where its data lives on this host (None when the backend has no local path).")
      .def("__eq__", [](const PyVolume& a, const PyVolume& b) { return a.v.id == b.v.id; })
      .def("__hash__", [](const PyVolume& a) { return std::hash<std::string>()(a.v.id); })
      .def("__repr__", [](const PyVolume& s) {
        return "<cinder.Volume " + s.v.id + " " + (s.v.has_name ? "'" + s.v.name + "' " : "") +
               std::to_string(s.v.size) + " GiB " + s.v.status + ">";
      });

  // Snapshot -----------------------------------------------------------------------------------
  py::class_<PySnapshot>(m, "Snapshot", "A point-in-time image of a volume, as last read.")
      .def_property_readonly("id", [](const PySnapshot& s) { return s.v.id; })
      .def_property_readonly("volume_id", [](const PySnapshot& s) { return s.v.volume_id; })
      .def_property_readonly("name", [](const PySnapshot& s) { return Opt(s.v.name); })
      .def_property_readonly("description", [](const PySnapshot& s) { return Opt(s.v.description); })
      .def_property_readonly("status", [](const PySnapshot& s) { return s.v.status; })
      .def_property_readonly("progress", [](const PySnapshot& s) { return s.v.progress; })
      .def_property_readonly(
          "size", [](const PySnapshot& s) { return s.v.size; }, "GiB")
      .def_property_readonly("project_id", [](const PySnapshot& s) { return s.v.project_id; })
      .def_property_readonly("user_id", [](const PySnapshot& s) { return s.v.user_id; })
      .def_property_readonly("volume_type", [](const PySnapshot& s) { return s.v.volume_type_name; })
      .def_property_readonly("volume_type_id", [](const PySnapshot& s) { return s.v.volume_type_id; })
      .def_property_readonly("metadata", [](const PySnapshot& s) { return s.v.metadata; })
      .def_property_readonly("created_at", [](const PySnapshot& s) { return s.v.created_at; })
      .def_property_readonly("updated_at", [](const PySnapshot& s) { return Opt(s.v.updated_at); })
      .def(
          "refresh",
          [](PySnapshot& self) -> PySnapshot& {
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetSnapshot(self.s->ctx, self.v.id); }));
            return self;
          },
          py::return_value_policy::reference_internal, "Reads the snapshot again; returns it.")
      .def("wait", &WaitSnapshot, py::arg("timeout") = py::none(), py::return_value_policy::reference_internal,
           "Waits (the GIL released) until it leaves a transient status; as Volume.wait.")
      .def(
          "delete",
          [](PySnapshot& self, bool force) -> PySnapshot& {
            Check(
                Blocking(self.s, [&](VolumeManager& vm) { return vm.DeleteSnapshot(self.s->ctx, self.v.id, force); }));
            self.v.status = "deleting";
            return self;
          },
          py::kw_only(), py::arg("force") = false, py::return_value_policy::reference_internal,
          "Starts deleting it (status \"deleting\"); wait() until it is gone. `force` (admin): any status.")
      .def(
          "reset_status",
          [](PySnapshot& self, const std::string& status) -> PySnapshot& {
            Check(Blocking(self.s,
                           [&](VolumeManager& vm) { return vm.ResetSnapshotStatus(self.s->ctx, self.v.id, status); }));
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetSnapshot(self.s->ctx, self.v.id); }));
            return self;
          },
          py::arg("status"), py::return_value_policy::reference_internal, "Admin (os-reset_status).")
      .def(
          "create_volume",
          [](PySnapshot& self, std::optional<std::string> name, int64_t size, std::optional<std::string> description,
             std::optional<std::string> volume_type, std::optional<std::map<std::string, std::string>> metadata) {
            VolumeCreate req = NewVolumeRequest(size, std::move(name), std::move(description), std::move(volume_type),
                                                std::nullopt, metadata);
            req.snapshot_id = self.v.id;
            return MakeVolume(self.s, req);
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("size") = 0, py::arg("description") = py::none(),
          py::arg("volume_type") = py::none(), py::arg("metadata") = py::none(),
          "A new volume holding the snapshot's data (size 0: the snapshot's).")
      .def(
          "unmanage",
          [](PySnapshot& self) -> PySnapshot& {
            Check(Blocking(self.s, [&](VolumeManager& vm) { return vm.UnmanageSnapshot(self.s->ctx, self.v.id); }));
            self.v.status = "unmanaging";
            return self;
          },
          py::return_value_policy::reference_internal,
          "Admin: ends Cinder's management of it, leaving it on the backend; wait() until it is gone.")
      .def("__eq__", [](const PySnapshot& a, const PySnapshot& b) { return a.v.id == b.v.id; })
      .def("__hash__", [](const PySnapshot& a) { return std::hash<std::string>()(a.v.id); })
      .def("__repr__", [](const PySnapshot& s) {
        return "<cinder.Snapshot " + s.v.id + " of " + s.v.volume_id + " " + s.v.status + ">";
      });

  // Backup -------------------------------------------------------------------------------------
  py::class_<PyBackup>(m, "Backup", "A backup of a volume, as last read.")
      .def_property_readonly("id", [](const PyBackup& s) { return s.v.id; })
      .def_property_readonly("volume_id", [](const PyBackup& s) { return s.v.volume_id; })
      .def_property_readonly("name", [](const PyBackup& s) { return Opt(s.v.display_name); })
      .def_property_readonly("description", [](const PyBackup& s) { return Opt(s.v.display_description); })
      .def_property_readonly("status", [](const PyBackup& s) { return s.v.status; })
      .def_property_readonly(
          "size", [](const PyBackup& s) { return s.v.size; }, "GiB")
      .def_property_readonly("object_count", [](const PyBackup& s) { return OptOf(s.v.object_count); })
      .def_property_readonly("is_incremental", [](const PyBackup& s) { return s.v.parent_id.has_value(); })
      .def_property_readonly("parent_id", [](const PyBackup& s) { return Opt(s.v.parent_id); })
      .def_property_readonly("snapshot_id", [](const PyBackup& s) { return Opt(s.v.snapshot_id); })
      .def_property_readonly("container", [](const PyBackup& s) { return Opt(s.v.container); })
      .def_property_readonly("fail_reason", [](const PyBackup& s) { return Opt(s.v.fail_reason); })
      .def_property_readonly("availability_zone", [](const PyBackup& s) { return s.v.availability_zone; })
      .def_property_readonly("host", [](const PyBackup& s) { return s.v.host; })
      .def_property_readonly("project_id", [](const PyBackup& s) { return s.v.project_id; })
      .def_property_readonly("metadata", [](const PyBackup& s) { return s.v.metadata; })
      .def_property_readonly("created_at", [](const PyBackup& s) { return s.v.created_at; })
      .def_property_readonly("updated_at", [](const PyBackup& s) { return Opt(s.v.updated_at); })
      .def(
          "refresh",
          [](PyBackup& self) -> PyBackup& {
            self.v =
                Take(BlockingBackups(self.s, [&](BackupManager& bm) { return bm.GetBackup(self.s->ctx, self.v.id); }));
            return self;
          },
          py::return_value_policy::reference_internal, "Reads the backup again; returns it.")
      .def("wait", &WaitBackup, py::arg("timeout") = py::none(), py::arg("progress") = py::none(),
           py::return_value_policy::reference_internal,
           "Waits (the GIL released) until it leaves creating, deleting or restoring. `progress(bytes_done, "
           "bytes_total)` is called on this thread as the backup service reports (about once a second), and once "
           "at the end. Joined to a deployment (open(config_file=...)), the backup service is another process: "
           "its progress is what it records in the backup's row, every 2 seconds.")
      .def(
          "delete",
          [](PyBackup& self, bool force) -> PyBackup& {
            Check(BlockingBackups(self.s,
                                  [&](BackupManager& bm) { return bm.DeleteBackup(self.s->ctx, self.v.id, force); }));
            self.v.status = "deleting";
            return self;
          },
          py::kw_only(), py::arg("force") = false, py::return_value_policy::reference_internal,
          "Starts deleting it (\"deleting\"); wait() until it is gone. Never while incrementals of it exist; `force`: "
          "any status.")
      .def(
          "restore",
          [](PyBackup& self, py::object target, std::optional<std::string> name) {
            std::optional<std::string> volume_id;
            if (!target.is_none()) {
              volume_id = py::isinstance<PyVolume>(target) ? target.cast<PyVolume&>().v.id : target.cast<std::string>();
            }
            const uint64_t from = ProgressNow(self.s);
            auto r = Take(BlockingBackups(
                self.s, [&](BackupManager& bm) { return bm.RestoreBackup(self.s->ctx, self.v.id, volume_id, name); }));
            Volume v =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetVolume(self.s->ctx, r.volume_id); }));
            return PyVolume{self.s, std::move(v), self.v.id, from};
          },
          py::kw_only(), py::arg("volume") = py::none(), py::arg("name") = py::none(),
          "Restores onto `volume` (a Volume or an id), or a new volume named `name`; returns that volume, whose "
          "wait(progress=...) follows the restore.")
      .def(
          "reset_status",
          [](PyBackup& self, const std::string& status) -> PyBackup& {
            Check(BlockingBackups(self.s,
                                  [&](BackupManager& bm) { return bm.ResetStatus(self.s->ctx, self.v.id, status); }));
            self.v =
                Take(BlockingBackups(self.s, [&](BackupManager& bm) { return bm.GetBackup(self.s->ctx, self.v.id); }));
            return self;
          },
          py::arg("status"), py::return_value_policy::reference_internal,
          "Admin (os-reset_status): \"available\" or \"error\"; a backup or restore in flight stops.")
      .def(
          "export_record",
          [](PyBackup& self) {
            auto r = Take(
                BlockingBackups(self.s, [&](BackupManager& bm) { return bm.ExportRecord(self.s->ctx, self.v.id); }));
            py::dict d;
            d["backup_service"] = r.backup_service;
            d["backup_url"] = r.backup_url;
            return d;
          },
          "Admin (export_record): {\"backup_service\", \"backup_url\"}, what svc.import_backup(**record) takes "
          "(here or in another deployment sharing the backup store). Only an available backup.")
      .def("__eq__", [](const PyBackup& a, const PyBackup& b) { return a.v.id == b.v.id; })
      .def("__hash__", [](const PyBackup& a) { return std::hash<std::string>()(a.v.id); })
      .def("__repr__", [](const PyBackup& s) {
        return "<cinder.Backup " + s.v.id + " of " + s.v.volume_id + " " + s.v.status + ">";
      });

  // Volume types and QoS -----------------------------------------------------------------------
  py::class_<PyVolumeType>(m, "VolumeType", "A volume type: what a volume asks of its backend.")
      .def_property_readonly("id", [](const PyVolumeType& s) { return s.v.id; })
      .def_property_readonly("name", [](const PyVolumeType& s) { return s.v.name; })
      .def_property_readonly("description", [](const PyVolumeType& s) { return Opt(s.v.description); })
      .def_property_readonly("is_public", [](const PyVolumeType& s) { return s.v.is_public; })
      .def_property_readonly("extra_specs", [](const PyVolumeType& s) { return s.v.extra_specs; })
      .def_property_readonly("qos_specs_id", [](const PyVolumeType& s) { return Opt(s.v.qos_specs_id); })
      .def_property_readonly("created_at", [](const PyVolumeType& s) { return s.v.created_at; })
      .def(
          "refresh",
          [](PyVolumeType& self) -> PyVolumeType& {
            self.v =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetVolumeType(self.s->ctx, self.v.id); }));
            return self;
          },
          py::return_value_policy::reference_internal, "Reads the type again; returns it.")
      .def(
          "set_extra_specs",
          [](PyVolumeType& self, const Metadata& specs) -> PyVolumeType& {
            self.v.extra_specs = Take(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.SetVolumeTypeExtraSpecs(self.s->ctx, self.v.id, specs); }));
            return self;
          },
          py::arg("specs"), py::return_value_policy::reference_internal, "Merges `specs` into its extra specs.")
      .def(
          "unset_extra_spec",
          [](PyVolumeType& self, const std::string& key) -> PyVolumeType& {
            Check(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.DeleteVolumeTypeExtraSpec(self.s->ctx, self.v.id, key); }));
            self.v.extra_specs.erase(key);
            return self;
          },
          py::arg("key"), py::return_value_policy::reference_internal,
          "Removes one extra spec; NotFound when it is not set.")
      .def(
          "update",
          [](PyVolumeType& self, std::optional<std::string> name, std::optional<std::string> description,
             std::optional<bool> is_public) -> PyVolumeType& {
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.UpdateVolumeType(self.s->ctx, self.v.id, name, description, is_public);
            }));
            return self;
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("description") = py::none(),
          py::arg("is_public") = py::none(), py::return_value_policy::reference_internal,
          "Sets its name, description or is_public (admin); returns it.")
      .def(
          "projects",
          [](PyVolumeType& self) {
            return Take(
                Blocking(self.s, [&](VolumeManager& vm) { return vm.ListVolumeTypeAccess(self.s->ctx, self.v.id); }));
          },
          "The projects that may use this private type (NotFound for a public one).")
      .def(
          "add_project_access",
          [](PyVolumeType& self, const std::string& project) {
            Check(Blocking(self.s,
                           [&](VolumeManager& vm) { return vm.AddVolumeTypeAccess(self.s->ctx, self.v.id, project); }));
          },
          py::arg("project_id"), "Lets `project_id` use this private type (admin).")
      .def(
          "remove_project_access",
          [](PyVolumeType& self, const std::string& project) {
            Check(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.RemoveVolumeTypeAccess(self.s->ctx, self.v.id, project); }));
          },
          py::arg("project_id"), "Takes a project off this private type's access list (admin).")
      .def(
          "delete",
          [](PyVolumeType& self) {
            Check(Blocking(self.s, [&](VolumeManager& vm) { return vm.DeleteVolumeType(self.s->ctx, self.v.id); }));
          },
          "Deletes the type (admin); InvalidState for the default type or one live volumes use.")
      .def(
          "encryption",
          [](PyVolumeType& self) -> py::object {
            auto e = Take(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.GetVolumeTypeEncryption(self.s->ctx, self.v.id); }));
            return e ? EncryptionDict(*e) : py::object(py::none());
          },
          "Admin: its encryption specs ({volume_type_id, encryption_id, provider, cipher, key_size, "
          "control_location, created_at, updated_at}), None when it has none.")
      .def(
          "create_encryption",
          [](PyVolumeType& self, py::kwargs kw) {
            VolumeTypeEncryptionUpdate u = EncryptionUpdate(kw);
            auto e = Take(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.CreateVolumeTypeEncryption(self.s->ctx, self.v.id, u); }));
            return EncryptionDict(e);
          },
          "Admin: gives it encryption specs (provider=, cipher=, key_size=, control_location=\"front-end\" or "
          "\"back-end\"); returns them. InvalidState when it has some already or live volumes use the type.")
      .def(
          "update_encryption",
          [](PyVolumeType& self, py::kwargs kw) -> py::object {
            VolumeTypeEncryptionUpdate u = EncryptionUpdate(kw);
            Check(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.UpdateVolumeTypeEncryption(self.s->ctx, self.v.id, u); }));
            auto e = Take(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.GetVolumeTypeEncryption(self.s->ctx, self.v.id); }));
            return e ? EncryptionDict(*e) : py::object(py::none());
          },
          "Admin: changes the fields given (cipher=None, key_size=None clear them); returns the specs. NotFound "
          "when it has none.")
      .def(
          "delete_encryption",
          [](PyVolumeType& self) {
            Check(Blocking(self.s,
                           [&](VolumeManager& vm) { return vm.DeleteVolumeTypeEncryption(self.s->ctx, self.v.id); }));
          },
          "Admin: removes its encryption specs; NotFound when it has none.")
      .def("__repr__", [](const PyVolumeType& s) { return "<cinder.VolumeType " + s.v.id + " '" + s.v.name + "'>"; });

  py::class_<PyQos>(m, "QosSpecs", "QoS specs: limits for the volumes of the types associated with them.")
      .def_property_readonly("id", [](const PyQos& s) { return s.v.id; })
      .def_property_readonly("name", [](const PyQos& s) { return s.v.name; })
      .def_property_readonly("consumer", [](const PyQos& s) { return s.v.consumer; })
      .def_property_readonly("specs", [](const PyQos& s) { return s.v.specs; })
      .def_property_readonly("created_at", [](const PyQos& s) { return s.v.created_at; })
      .def(
          "refresh",
          [](PyQos& self) -> PyQos& {
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetQosSpecs(self.s->ctx, self.v.id); }));
            return self;
          },
          py::return_value_policy::reference_internal, "Reads them again; returns them.")
      .def(
          "set_keys",
          [](PyQos& self, const Metadata& specs) -> PyQos& {
            Take(
                Blocking(self.s, [&](VolumeManager& vm) { return vm.SetQosSpecsKeys(self.s->ctx, self.v.id, specs); }));
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetQosSpecs(self.s->ctx, self.v.id); }));
            return self;
          },
          py::arg("specs"), py::return_value_policy::reference_internal, "Merges `specs` into them; returns them.")
      .def(
          "unset_keys",
          [](PyQos& self, const std::vector<std::string>& keys) -> PyQos& {
            Check(Blocking(self.s,
                           [&](VolumeManager& vm) { return vm.DeleteQosSpecsKeys(self.s->ctx, self.v.id, keys); }));
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetQosSpecs(self.s->ctx, self.v.id); }));
            return self;
          },
          py::arg("keys"), py::return_value_policy::reference_internal, "Removes the keys; returns them.")
      .def(
          "associate",
          [](PyQos& self, py::object type) {
            std::string id =
                py::isinstance<PyVolumeType>(type) ? type.cast<PyVolumeType&>().v.id : type.cast<std::string>();
            Check(
                Blocking(self.s, [&](VolumeManager& vm) { return vm.AssociateQosSpecs(self.s->ctx, self.v.id, id); }));
          },
          py::arg("volume_type"), "Associates a volume type (a VolumeType or its id).")
      .def(
          "disassociate",
          [](PyQos& self, py::object type) {
            std::optional<std::string> id;
            if (!type.is_none()) {
              id = py::isinstance<PyVolumeType>(type) ? type.cast<PyVolumeType&>().v.id : type.cast<std::string>();
            }
            Check(Blocking(self.s,
                           [&](VolumeManager& vm) { return vm.DisassociateQosSpecs(self.s->ctx, self.v.id, id); }));
          },
          py::arg("volume_type") = py::none(), "From one type, or (None) from every type.")
      .def(
          "associations",
          [](PyQos& self) {
            return Take(
                Blocking(self.s, [&](VolumeManager& vm) { return vm.QosSpecsAssociations(self.s->ctx, self.v.id); }));
          },
          "The associated types: [(id, name)].")
      .def(
          "delete",
          [](PyQos& self, bool force) {
            Check(
                Blocking(self.s, [&](VolumeManager& vm) { return vm.DeleteQosSpecs(self.s->ctx, self.v.id, force); }));
          },
          py::kw_only(), py::arg("force") = false,
          "Deletes them (admin); InvalidState while types use them, unless `force` (which disassociates them first).")
      .def("__repr__", [](const PyQos& s) { return "<cinder.QosSpecs " + s.v.id + " '" + s.v.name + "'>"; });

  // Group types, groups, group snapshots -------------------------------------------------------
  py::class_<PyGroupType>(m, "GroupType", "A group type (3.11): what a generic volume group is, by its group specs.")
      .def_property_readonly("id", [](const PyGroupType& s) { return s.v.id; })
      .def_property_readonly("name", [](const PyGroupType& s) { return s.v.name; })
      .def_property_readonly("description", [](const PyGroupType& s) { return Opt(s.v.description); })
      .def_property_readonly("is_public", [](const PyGroupType& s) { return s.v.is_public; })
      .def_property_readonly("group_specs", [](const PyGroupType& s) { return s.v.group_specs; })
      .def_property_readonly("created_at", [](const PyGroupType& s) { return s.v.created_at; })
      .def(
          "refresh",
          [](PyGroupType& self) -> PyGroupType& {
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetGroupType(self.s->ctx, self.v.id); }));
            return self;
          },
          py::return_value_policy::reference_internal, "Reads the group type again; returns it.")
      .def(
          "set_group_specs",
          [](PyGroupType& self, const Metadata& specs) -> PyGroupType& {
            Check(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.SetGroupTypeSpecs(self.s->ctx, self.v.id, specs, false); }));
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetGroupType(self.s->ctx, self.v.id); }));
            return self;
          },
          py::arg("specs"), py::return_value_policy::reference_internal,
          "Merges `specs` into its group specs (admin); returns it.")
      .def(
          "unset_group_spec",
          [](PyGroupType& self, const std::string& key) -> PyGroupType& {
            Check(Blocking(self.s,
                           [&](VolumeManager& vm) { return vm.DeleteGroupTypeSpec(self.s->ctx, self.v.id, key); }));
            self.v.group_specs.erase(key);
            return self;
          },
          py::arg("key"), py::return_value_policy::reference_internal,
          "Removes one group spec (admin); NotFound when it is not set.")
      .def(
          "update",
          [](PyGroupType& self, std::optional<std::string> name, std::optional<std::string> description,
             std::optional<bool> is_public) -> PyGroupType& {
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.UpdateGroupType(self.s->ctx, self.v.id, name, description, is_public);
            }));
            return self;
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("description") = py::none(),
          py::arg("is_public") = py::none(), py::return_value_policy::reference_internal,
          "Sets its name, description or is_public (admin); returns it.")
      .def(
          "delete",
          [](PyGroupType& self) {
            Check(Blocking(self.s, [&](VolumeManager& vm) { return vm.DeleteGroupType(self.s->ctx, self.v.id); }));
          },
          "Deletes the group type (admin); InvalidState while groups use it.")
      .def("__eq__", [](const PyGroupType& a, const PyGroupType& b) { return a.v.id == b.v.id; })
      .def("__hash__", [](const PyGroupType& a) { return std::hash<std::string>()(a.v.id); })
      .def("__repr__", [](const PyGroupType& s) { return "<cinder.GroupType " + s.v.id + " '" + s.v.name + "'>"; });

  py::class_<PyGroup>(m, "Group",
                      "A generic volume group (3.13): volumes of its volume types on one backend, as last read.")
      .def_property_readonly("id", [](const PyGroup& s) { return s.v.id; })
      .def_property_readonly("name", [](const PyGroup& s) { return Opt(s.v.name); })
      .def_property_readonly("description", [](const PyGroup& s) { return Opt(s.v.description); })
      .def_property_readonly("status", [](const PyGroup& s) { return s.v.status; })
      .def_property_readonly("availability_zone", [](const PyGroup& s) { return s.v.availability_zone; })
      .def_property_readonly(
          "host", [](const PyGroup& s) { return s.v.host; }, "host@backend#pool (empty until placed)")
      .def_property_readonly("project_id", [](const PyGroup& s) { return s.v.project_id; })
      .def_property_readonly("user_id", [](const PyGroup& s) { return s.v.user_id; })
      .def_property_readonly(
          "group_type", [](const PyGroup& s) { return s.v.group_type_id; }, "its id")
      .def_property_readonly(
          "volume_types", [](const PyGroup& s) { return s.v.volume_type_ids; }, "their ids")
      .def_property_readonly(
          "volumes", [](const PyGroup& s) { return s.v.volume_ids; },
          "The ids of its volumes (as read by get_group() or refresh(); a listed group has none).")
      .def_property_readonly("group_snapshot_id", [](const PyGroup& s) { return Opt(s.v.group_snapshot_id); })
      .def_property_readonly("source_group_id", [](const PyGroup& s) { return Opt(s.v.source_group_id); })
      .def_property_readonly("created_at", [](const PyGroup& s) { return s.v.created_at; })
      .def_property_readonly("updated_at", [](const PyGroup& s) { return Opt(s.v.updated_at); })
      .def(
          "refresh",
          [](PyGroup& self) -> PyGroup& {
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetGroup(self.s->ctx, self.v.id); }));
            return self;
          },
          py::return_value_policy::reference_internal, "Reads the group again (with its volumes); returns it.")
      .def("wait", &WaitGroup, py::arg("timeout") = py::none(), py::return_value_policy::reference_internal,
           "Waits (the GIL released) until it leaves creating, updating or deleting; as Volume.wait (a group gone "
           "ends with status \"deleted\").")
      .def(
          "update",
          [](PyGroup& self, std::optional<std::string> name, std::optional<std::string> description,
             py::object add_volumes, py::object remove_volumes) -> PyGroup& {
            GroupUpdate u;
            u.name = std::move(name);
            u.description = std::move(description);
            if (!add_volumes.is_none()) u.add_volumes = IdList<PyVolume>(add_volumes);
            if (!remove_volumes.is_none()) u.remove_volumes = IdList<PyVolume>(remove_volumes);
            Check(Blocking(self.s, [&](VolumeManager& vm) { return vm.UpdateGroup(self.s->ctx, self.v.id, u); }));
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetGroup(self.s->ctx, self.v.id); }));
            return self;
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("description") = py::none(),
          py::arg("add_volumes") = py::none(), py::arg("remove_volumes") = py::none(),
          py::return_value_policy::reference_internal,
          "Renames it, or adds and removes volumes (Volumes or ids): status \"updating\" until its host is done "
          "(wait()). InvalidInput / InvalidState with Cinder's InvalidGroup or InvalidVolume message.")
      .def(
          "delete",
          [](PyGroup& self, bool delete_volumes) -> PyGroup& {
            Check(Blocking(self.s,
                           [&](VolumeManager& vm) { return vm.DeleteGroup(self.s->ctx, self.v.id, delete_volumes); }));
            self.v.status = "deleting";
            return self;
          },
          py::kw_only(), py::arg("delete_volumes") = false, py::return_value_policy::reference_internal,
          "Starts deleting it (\"deleting\"); wait() until it is gone. Only an empty group, unless "
          "`delete_volumes` (which deletes its volumes with it).")
      .def(
          "reset_status",
          [](PyGroup& self, const std::string& status) -> PyGroup& {
            Check(Blocking(self.s,
                           [&](VolumeManager& vm) { return vm.ResetGroupStatus(self.s->ctx, self.v.id, status); }));
            self.v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetGroup(self.s->ctx, self.v.id); }));
            return self;
          },
          py::arg("status"), py::return_value_policy::reference_internal,
          "Admin (group reset_status, 3.20): sets the status in the database.")
      .def(
          "create_volume",
          [](PyGroup& self, int64_t size, std::optional<std::string> name, std::optional<std::string> description,
             std::optional<std::string> volume_type, std::optional<std::map<std::string, std::string>> metadata) {
            VolumeCreate req = NewVolumeRequest(size, std::move(name), std::move(description), std::move(volume_type),
                                                std::nullopt, metadata);
            req.group_id = self.v.id;
            return MakeVolume(self.s, req);
          },
          py::arg("size"), py::kw_only(), py::arg("name") = py::none(), py::arg("description") = py::none(),
          py::arg("volume_type") = py::none(), py::arg("metadata") = py::none(),
          "A new volume in the group, on its backend (`volume_type`: one of the group's types).")
      .def(
          "create_snapshot",
          [](PyGroup& self, std::optional<std::string> name, std::optional<std::string> description) {
            GroupSnapshotCreate req;
            req.group_id = self.v.id;
            req.name = std::move(name);
            req.description = std::move(description);
            GroupSnapshot g =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.CreateGroupSnapshot(self.s->ctx, req); }));
            return PyGroupSnapshot{self.s, std::move(g)};
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("description") = py::none(),
          "A group snapshot (3.14): a snapshot of each of its volumes, taken together (\"creating\"; wait()).")
      .def(
          "clone",
          [](PyGroup& self, std::optional<std::string> name, std::optional<std::string> description) {
            GroupCreateFromSource req;
            req.name = std::move(name);
            req.description = std::move(description);
            req.source_group_id = self.v.id;
            return MakeGroupFromSource(self.s, req);
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("description") = py::none(),
          "A new group with a copy of each of its volumes (3.14 create-from-src; \"creating\", wait()).")
      .def("__eq__", [](const PyGroup& a, const PyGroup& b) { return a.v.id == b.v.id; })
      .def("__hash__", [](const PyGroup& a) { return std::hash<std::string>()(a.v.id); })
      .def("__repr__", [](const PyGroup& s) {
        return "<cinder.Group " + s.v.id + " " + (s.v.name ? "'" + *s.v.name + "' " : "") + s.v.status + ">";
      });

  py::class_<PyGroupSnapshot>(m, "GroupSnapshot",
                              "A group snapshot (3.14): one snapshot of each volume of a group, as last read.")
      .def_property_readonly("id", [](const PyGroupSnapshot& s) { return s.v.id; })
      .def_property_readonly("group_id", [](const PyGroupSnapshot& s) { return s.v.group_id; })
      .def_property_readonly("group_type_id", [](const PyGroupSnapshot& s) { return s.v.group_type_id; })
      .def_property_readonly("name", [](const PyGroupSnapshot& s) { return Opt(s.v.name); })
      .def_property_readonly("description", [](const PyGroupSnapshot& s) { return Opt(s.v.description); })
      .def_property_readonly("status", [](const PyGroupSnapshot& s) { return s.v.status; })
      .def_property_readonly("project_id", [](const PyGroupSnapshot& s) { return s.v.project_id; })
      .def_property_readonly("user_id", [](const PyGroupSnapshot& s) { return s.v.user_id; })
      .def_property_readonly("created_at", [](const PyGroupSnapshot& s) { return s.v.created_at; })
      .def_property_readonly("updated_at", [](const PyGroupSnapshot& s) { return Opt(s.v.updated_at); })
      .def(
          "refresh",
          [](PyGroupSnapshot& self) -> PyGroupSnapshot& {
            self.v =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetGroupSnapshot(self.s->ctx, self.v.id); }));
            return self;
          },
          py::return_value_policy::reference_internal, "Reads the group snapshot again; returns it.")
      .def("wait", &WaitGroupSnapshot, py::arg("timeout") = py::none(), py::return_value_policy::reference_internal,
           "Waits (the GIL released) until it leaves creating or deleting; as Volume.wait.")
      .def(
          "snapshots",
          [](PyGroupSnapshot& self) {
            const std::string id = self.v.id;
            auto snaps = Blocking(self.s, [&](VolumeManager& vm) -> Result<std::vector<Snapshot>> {
              CINDER_ASSIGN_OR_RETURN(GroupSnapshot g, vm.GetGroupSnapshot(self.s->ctx, id));
              std::vector<Snapshot> out;
              for (const auto& sid : g.snapshot_ids) {
                CINDER_ASSIGN_OR_RETURN(Snapshot sn, vm.GetSnapshot(self.s->ctx, sid));
                out.push_back(std::move(sn));
              }
              return out;
            });
            std::vector<PySnapshot> out;
            for (auto& sn : Take(std::move(snaps))) out.push_back(PySnapshot{self.s, std::move(sn)});
            return out;
          },
          "Its snapshots, one per volume of the group.")
      .def(
          "delete",
          [](PyGroupSnapshot& self) -> PyGroupSnapshot& {
            Check(Blocking(self.s, [&](VolumeManager& vm) { return vm.DeleteGroupSnapshot(self.s->ctx, self.v.id); }));
            self.v.status = "deleting";
            return self;
          },
          py::return_value_policy::reference_internal,
          "Starts deleting it and its snapshots (available or error only); wait() until it is gone.")
      .def(
          "reset_status",
          [](PyGroupSnapshot& self, const std::string& status) -> PyGroupSnapshot& {
            Check(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.ResetGroupSnapshotStatus(self.s->ctx, self.v.id, status);
            }));
            self.v =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetGroupSnapshot(self.s->ctx, self.v.id); }));
            return self;
          },
          py::arg("status"), py::return_value_policy::reference_internal,
          "Admin (group snapshot reset_status, 3.19): sets the status in the database.")
      .def(
          "create_group",
          [](PyGroupSnapshot& self, std::optional<std::string> name, std::optional<std::string> description) {
            GroupCreateFromSource req;
            req.name = std::move(name);
            req.description = std::move(description);
            req.group_snapshot_id = self.v.id;
            return MakeGroupFromSource(self.s, req);
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("description") = py::none(),
          "A new group with a volume made from each of its snapshots (3.14 create-from-src; \"creating\", wait()).")
      .def("__eq__", [](const PyGroupSnapshot& a, const PyGroupSnapshot& b) { return a.v.id == b.v.id; })
      .def("__hash__", [](const PyGroupSnapshot& a) { return std::hash<std::string>()(a.v.id); })
      .def("__repr__", [](const PyGroupSnapshot& s) {
        return "<cinder.GroupSnapshot " + s.v.id + " of " + s.v.group_id + " " + s.v.status + ">";
      });

  // Transfers ----------------------------------------------------------------------------------
  py::class_<PyTransfer>(m, "Transfer", "A volume offered to another project (Cinder's volume transfers).")
      .def_property_readonly("id", [](const PyTransfer& s) { return s.v.id; })
      .def_property_readonly("volume_id", [](const PyTransfer& s) { return s.v.volume_id; })
      .def_property_readonly("name", [](const PyTransfer& s) { return Opt(s.v.name); })
      .def_property_readonly(
          "auth_key",
          [](const PyTransfer& s) {
            return s.v.auth_key.empty() ? py::object(py::none()) : py::object(py::str(s.v.auth_key));
          },
          "The secret the accepting project gives: only on the transfer create() returned (None otherwise).")
      .def_property_readonly("no_snapshots", [](const PyTransfer& s) { return s.v.no_snapshots; })
      .def_property_readonly("source_project_id", [](const PyTransfer& s) { return s.v.source_project_id; })
      .def_property_readonly("destination_project_id",
                             [](const PyTransfer& s) { return Opt(s.v.destination_project_id); })
      .def_property_readonly("accepted", [](const PyTransfer& s) { return s.v.accepted; })
      .def_property_readonly("created_at", [](const PyTransfer& s) { return s.v.created_at; })
      .def(
          "accept",
          [](PyTransfer& self, std::optional<std::string> auth_key, std::optional<std::string> project_id,
             std::optional<std::string> user_id) -> PyTransfer& {
            std::string key = auth_key.value_or(self.v.auth_key);
            if (key.empty()) Raise(InvalidArgument("Give the transfer's auth_key: it is shown only on creation."));
            SessionPtr s = self.s;
            if (project_id) {
              s = std::make_shared<Session>(
                  Session{self.s->core, RequestContext::Admin(user_id.value_or(self.s->ctx.user_id), *project_id)});
            }
            Transfer t =
                Take(Blocking(s, [&](VolumeManager& vm) { return vm.AcceptTransfer(s->ctx, self.v.id, key); }));
            self.v = std::move(t);
            return self;
          },
          py::arg("auth_key") = py::none(), py::kw_only(), py::arg("project_id") = py::none(),
          py::arg("user_id") = py::none(), py::return_value_policy::reference_internal,
          "Accepts it: the volume becomes the accepting project's (as its admin: `project_id`, else this object's "
          "project). `auth_key` defaults to the one create returned. InvalidInput \"Invalid auth key: ...\" for a "
          "wrong key.")
      .def(
          "delete",
          [](PyTransfer& self) {
            Check(Blocking(self.s, [&](VolumeManager& vm) { return vm.DeleteTransfer(self.s->ctx, self.v.id); }));
          },
          "Withdraws the offer: the volume is available to its project again.")
      .def("__eq__", [](const PyTransfer& a, const PyTransfer& b) { return a.v.id == b.v.id; })
      .def("__hash__", [](const PyTransfer& a) { return std::hash<std::string>()(a.v.id); })
      .def("__repr__", [](const PyTransfer& s) {
        return "<cinder.Transfer " + s.v.id + " of " + s.v.volume_id + (s.v.accepted ? " accepted" : "") + ">";
      });

  // Identity -----------------------------------------------------------------------------------
  py::class_<PyIdentity>(m, "Identity",
                         "The built-in identity service (a Keystone v3 subset: users, projects, domains, roles, role "
                         "assignments, tokens) of the service's database, as cinder-manage and the /identity API "
                         "see it; svc.identity. Calls act as the service's admin context. Objects are dicts with "
                         "Keystone's field names.")
      .def(
          "bootstrap",
          [](const PyIdentity& self, const std::string& admin_password, const std::string& admin_username,
             const std::string& project_name, const std::string& role_name, bool reset_password) {
            AuthManager::Bootstrap b;
            b.admin_password = admin_password;
            b.admin_username = admin_username;
            b.project_name = project_name;
            b.role_name = role_name;
            b.reset_password = reset_password;
            Check(BlockingAuth(self.s, [&](AuthManager& a) { return a.RunBootstrap(b); }));
          },
          py::arg("admin_password"), py::kw_only(), py::arg("admin_username") = "admin",
          py::arg("project_name") = "admin", py::arg("role_name") = "admin", py::arg("reset_password") = false,
          "cinder-manage bootstrap: the Default domain, the roles admin, member and reader (admin implies member "
          "implies reader), the admin project and user with the admin role. Idempotent (an existing user keeps its "
          "password unless `reset_password`).")
      .def(
          "domains",
          [](const PyIdentity& self, std::optional<std::string> name, std::optional<bool> enabled) {
            auto l = Take(BlockingAuth(self.s, [&](AuthManager& a) {
              return a.ListDomains(self.s->ctx, FilterOf(name, std::nullopt, enabled));
            }));
            py::list out;
            for (auto& d : l) out.append(DomainDict(d));
            return out;
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("enabled") = py::none(),
          "The domains (the Default domain always exists).")
      .def(
          "projects",
          [](const PyIdentity& self, std::optional<std::string> name, std::optional<std::string> domain_id,
             std::optional<bool> enabled) {
            auto l = Take(BlockingAuth(self.s, [&](AuthManager& a) {
              return a.ListProjects(self.s->ctx, FilterOf(name, domain_id, enabled));
            }));
            py::list out;
            for (auto& p : l) out.append(ProjectDict(p));
            return out;
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("domain_id") = py::none(),
          py::arg("enabled") = py::none(), "The projects matching the filters (exact match).")
      .def(
          "get_project",
          [](const PyIdentity& self, const std::string& id) {
            return ProjectDict(
                Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.GetProject(self.s->ctx, id); })));
          },
          py::arg("id"), "The project `id`; NotFound when there is none.")
      .def(
          "create_project",
          [](const PyIdentity& self, const std::string& name, std::optional<std::string> domain_id,
             std::optional<std::string> description, bool enabled, std::optional<std::vector<std::string>> tags) {
            Project p;
            p.name = name;
            p.domain_id = domain_id.value_or("");
            p.description = description.value_or("");
            p.enabled = enabled;
            p.tags = tags.value_or(std::vector<std::string>{});
            return ProjectDict(
                Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.CreateProject(self.s->ctx, p); })));
          },
          py::arg("name"), py::kw_only(), py::arg("domain_id") = py::none(), py::arg("description") = py::none(),
          py::arg("enabled") = true, py::arg("tags") = py::none(),
          "Creates a project (in the default domain unless `domain_id`); Conflict when the name is taken there.")
      .def(
          "update_project",
          [](const PyIdentity& self, const std::string& id, py::kwargs kw) {
            auto fields = FieldsOf(kw);
            return ProjectDict(
                Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.UpdateProject(self.s->ctx, id, fields); })));
          },
          py::arg("id"), "Sets name=, description= or enabled= (disabling revokes its tokens); returns it.")
      .def(
          "delete_project",
          [](const PyIdentity& self, const std::string& id) {
            Check(BlockingAuth(self.s, [&](AuthManager& a) { return a.DeleteProject(self.s->ctx, id); }));
          },
          py::arg("id"), "Deletes the project; NotFound when there is none.")
      .def(
          "users",
          [](const PyIdentity& self, std::optional<std::string> name, std::optional<std::string> domain_id,
             std::optional<bool> enabled) {
            auto l = Take(BlockingAuth(
                self.s, [&](AuthManager& a) { return a.ListUsers(self.s->ctx, FilterOf(name, domain_id, enabled)); }));
            py::list out;
            for (auto& u : l) out.append(UserDict(u));
            return out;
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("domain_id") = py::none(),
          py::arg("enabled") = py::none(), "The users matching the filters (exact match).")
      .def(
          "get_user",
          [](const PyIdentity& self, const std::string& id) {
            return UserDict(Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.GetUser(self.s->ctx, id); })));
          },
          py::arg("id"), "The user `id`; NotFound when there is none.")
      .def(
          "user_projects",
          [](const PyIdentity& self, const std::string& id) {
            auto l = Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.ListUserProjects(self.s->ctx, id); }));
            py::list out;
            for (auto& p : l) out.append(ProjectDict(p));
            return out;
          },
          py::arg("user_id"), "The projects the user has a role on.")
      .def(
          "create_user",
          [](const PyIdentity& self, const std::string& name, std::optional<std::string> password,
             std::optional<std::string> domain_id, std::optional<std::string> email,
             std::optional<std::string> description, std::optional<std::string> default_project_id, bool enabled) {
            User u;
            u.name = name;
            u.domain_id = domain_id.value_or("");
            u.email = email.value_or("");
            u.description = description.value_or("");
            u.default_project_id = default_project_id.value_or("");
            u.enabled = enabled;
            const std::string pw = password.value_or("");
            return UserDict(
                Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.CreateUser(self.s->ctx, u, pw); })));
          },
          py::arg("name"), py::arg("password") = py::none(), py::kw_only(), py::arg("domain_id") = py::none(),
          py::arg("email") = py::none(), py::arg("description") = py::none(),
          py::arg("default_project_id") = py::none(), py::arg("enabled") = true,
          "Creates a user (in the default domain unless `domain_id`); Conflict when the name is taken there.")
      .def(
          "update_user",
          [](const PyIdentity& self, const std::string& id, py::kwargs kw) {
            auto fields = FieldsOf(kw);
            return UserDict(
                Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.UpdateUser(self.s->ctx, id, fields); })));
          },
          py::arg("id"),
          "Sets name=, email=, description=, enabled=, default_project_id= or password= (a new password or "
          "disabling revokes the user's tokens); returns it.")
      .def(
          "delete_user",
          [](const PyIdentity& self, const std::string& id) {
            Check(BlockingAuth(self.s, [&](AuthManager& a) { return a.DeleteUser(self.s->ctx, id); }));
          },
          py::arg("id"), "Deletes the user (and its role assignments); NotFound when there is none.")
      .def(
          "roles",
          [](const PyIdentity& self, std::optional<std::string> name) {
            auto l = Take(BlockingAuth(self.s, [&](AuthManager& a) {
              return a.ListRoles(self.s->ctx, FilterOf(name, std::nullopt, std::nullopt));
            }));
            py::list out;
            for (auto& r : l) out.append(RoleDict(r));
            return out;
          },
          py::kw_only(), py::arg("name") = py::none(), "The roles (admin, member, reader after bootstrap).")
      .def(
          "create_role",
          [](const PyIdentity& self, const std::string& name, std::optional<std::string> description) {
            Role r;
            r.name = name;
            r.description = description.value_or("");
            return RoleDict(Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.CreateRole(self.s->ctx, r); })));
          },
          py::arg("name"), py::kw_only(), py::arg("description") = py::none(),
          "Creates a role; Conflict when the name is taken.")
      .def(
          "delete_role",
          [](const PyIdentity& self, const std::string& id) {
            Check(BlockingAuth(self.s, [&](AuthManager& a) { return a.DeleteRole(self.s->ctx, id); }));
          },
          py::arg("id"), "Deletes the role and its assignments.")
      .def(
          "grant",
          [](const PyIdentity& self, const std::string& role_id, std::optional<std::string> user_id,
             std::optional<std::string> group_id, std::optional<std::string> project_id,
             std::optional<std::string> domain_id, bool system) {
            RoleAssignment ra = AssignmentOf(role_id, user_id, group_id, project_id, domain_id, system);
            Check(BlockingAuth(self.s, [&](AuthManager& a) { return a.Grant(self.s->ctx, ra); }));
          },
          py::arg("role_id"), py::kw_only(), py::arg("user_id") = py::none(), py::arg("group_id") = py::none(),
          py::arg("project_id") = py::none(), py::arg("domain_id") = py::none(), py::arg("system") = false,
          "Gives the role to a user (or group) on a project, a domain or the system (idempotent).")
      .def(
          "revoke",
          [](const PyIdentity& self, const std::string& role_id, std::optional<std::string> user_id,
             std::optional<std::string> group_id, std::optional<std::string> project_id,
             std::optional<std::string> domain_id, bool system) {
            RoleAssignment ra = AssignmentOf(role_id, user_id, group_id, project_id, domain_id, system);
            Check(BlockingAuth(self.s, [&](AuthManager& a) { return a.Revoke(self.s->ctx, ra); }));
          },
          py::arg("role_id"), py::kw_only(), py::arg("user_id") = py::none(), py::arg("group_id") = py::none(),
          py::arg("project_id") = py::none(), py::arg("domain_id") = py::none(), py::arg("system") = false,
          "Takes the role back (and revokes the tokens that carried it); NotFound when it was not given.")
      .def(
          "check_grant",
          [](const PyIdentity& self, const std::string& role_id, std::optional<std::string> user_id,
             std::optional<std::string> group_id, std::optional<std::string> project_id,
             std::optional<std::string> domain_id, bool system) {
            RoleAssignment ra = AssignmentOf(role_id, user_id, group_id, project_id, domain_id, system);
            Status st = BlockingAuth(self.s, [&](AuthManager& a) { return a.CheckGrant(self.s->ctx, ra); });
            if (st.code() == Code::kNotFound) return false;
            Check(st);
            return true;
          },
          py::arg("role_id"), py::kw_only(), py::arg("user_id") = py::none(), py::arg("group_id") = py::none(),
          py::arg("project_id") = py::none(), py::arg("domain_id") = py::none(), py::arg("system") = false,
          "Whether the role was given so (directly).")
      .def(
          "role_assignments",
          [](const PyIdentity& self, std::optional<std::string> user_id, std::optional<std::string> group_id,
             std::optional<std::string> project_id, std::optional<std::string> domain_id,
             std::optional<std::string> role_id, bool effective) {
            RoleAssignmentFilter f;
            f.user_id = user_id.value_or("");
            f.group_id = group_id.value_or("");
            f.project_id = project_id.value_or("");
            f.domain_id = domain_id.value_or("");
            f.role_id = role_id.value_or("");
            f.effective = effective;
            auto l = Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.ListRoleAssignments(self.s->ctx, f); }));
            py::list out;
            for (auto& ra : l) out.append(AssignmentDict(ra));
            return out;
          },
          py::kw_only(), py::arg("user_id") = py::none(), py::arg("group_id") = py::none(),
          py::arg("project_id") = py::none(), py::arg("domain_id") = py::none(), py::arg("role_id") = py::none(),
          py::arg("effective") = false,
          "The role assignments matching the filters ({role_id, user_id, group_id, project_id, domain_id, system}); "
          "`effective` expands groups and implied roles.")
      .def(
          "authenticate",
          [](const PyIdentity& self, std::optional<std::string> user_name, std::optional<std::string> password,
             std::optional<std::string> user_id, std::string user_domain_name, std::optional<std::string> token,
             std::optional<std::string> project_name, std::optional<std::string> project_id,
             std::string project_domain_name, std::optional<std::string> domain_name, bool system, bool unscoped) {
            AuthRequest r;
            if (token) {
              r.methods = {"token"};
              r.token = *token;
            } else {
              r.methods = {"password"};
              r.user_name = user_name.value_or("");
              r.user_id = user_id.value_or("");
              if (!r.user_name.empty()) r.user_domain_name = user_domain_name;
              r.password = password.value_or("");
            }
            r.project_name = project_name.value_or("");
            r.project_id = project_id.value_or("");
            if (!r.project_name.empty()) r.project_domain_name = project_domain_name;
            r.domain_name = domain_name.value_or("");
            r.system = system;
            r.unscoped = unscoped;
            auto issued = Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.Authenticate(r); }));
            return py::make_tuple(issued.token, TokenDict(issued.info));
          },
          py::kw_only(), py::arg("user_name") = py::none(), py::arg("password") = py::none(),
          py::arg("user_id") = py::none(), py::arg("user_domain_name") = "Default", py::arg("token") = py::none(),
          py::arg("project_name") = py::none(), py::arg("project_id") = py::none(),
          py::arg("project_domain_name") = "Default", py::arg("domain_name") = py::none(), py::arg("system") = false,
          py::arg("unscoped") = false,
          "Issues a token (POST /v3/auth/tokens): by password (user_name in user_domain_name, or user_id) or from "
          "another `token`, scoped to a project (by name or id), a domain, the system, or unscoped. Returns (token, "
          "info). NotAuthenticated for bad credentials, NotAuthorized for a scope without a role.")
      .def(
          "validate_token",
          [](const PyIdentity& self, const std::string& token, bool allow_expired) {
            return TokenDict(
                Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.ValidateToken(token, allow_expired); })));
          },
          py::arg("token"), py::kw_only(), py::arg("allow_expired") = false,
          "What the token says now (its roles computed again); NotFound for an unknown, expired or revoked one.")
      .def(
          "revoke_token",
          [](const PyIdentity& self, const std::string& token) {
            Check(BlockingAuth(self.s, [&](AuthManager& a) { return a.RevokeToken(self.s->ctx, token); }));
          },
          py::arg("token"), "Revokes the token; NotFound when it is unknown.");

  // Iterators ----------------------------------------------------------------------------------
  py::class_<VolumePager>(m, "VolumeIterator", "Volumes, page by page (each page read with the GIL released).")
      .def(
          "__iter__", [](VolumePager& p) -> VolumePager& { return p; }, py::return_value_policy::reference)
      .def("__next__", &VolumePager::Next);
  py::class_<SnapshotPager>(m, "SnapshotIterator")
      .def(
          "__iter__", [](SnapshotPager& p) -> SnapshotPager& { return p; }, py::return_value_policy::reference)
      .def("__next__", &SnapshotPager::Next);
  py::class_<BackupPager>(m, "BackupIterator")
      .def(
          "__iter__", [](BackupPager& p) -> BackupPager& { return p; }, py::return_value_policy::reference)
      .def("__next__", &BackupPager::Next);
  py::class_<GroupPager>(m, "GroupIterator")
      .def(
          "__iter__", [](GroupPager& p) -> GroupPager& { return p; }, py::return_value_policy::reference)
      .def("__next__", &GroupPager::Next);
  py::class_<GroupSnapshotPager>(m, "GroupSnapshotIterator")
      .def(
          "__iter__", [](GroupSnapshotPager& p) -> GroupSnapshotPager& { return p; },
          py::return_value_policy::reference)
      .def("__next__", &GroupSnapshotPager::Next);

  // Service ------------------------------------------------------------------------------------
  py::class_<PyService, std::shared_ptr<PyService>>(
      m, "Service",
      "An open libcinder: an embedded service (cinder.open(state_path=...)) or a deployment joined through its "
      "cinder.conf (cinder.open(config_file=...)); acts as one project's admin (for_project() for another).")
      .def_property_readonly("project_id", [](const PyService& s) { return s.s->ctx.project_id; })
      .def_property_readonly("user_id", [](const PyService& s) { return s.s->ctx.user_id; })
      .def_property_readonly("embedded", [](const PyService& s) { return s.s->core->embedded(); })
      .def_property_readonly(
          "endpoint",
          [](const PyService& s) {
            std::string e = s.s->core->endpoint();
            return e.empty() ? py::object(py::none()) : py::object(py::str(e));
          },
          "The embedded REST API's URL (the stock cinder client can use it); None when joined.")
      .def(
          "metrics_text", [](const PyService& s) { return s.s->core->metrics_text(); },
          "The embedded service's metrics in Prometheus' text format, as its GET /metrics answers them "
          "(docs/metrics.md); None when joined to a deployment.")
      .def_property_readonly("state_path", [](const PyService& s) { return s.s->core->options().state_path; })
      .def_property_readonly("closed", [](const PyService& s) { return s.s->core->closed(); })
      .def(
          "for_project",
          [](const PyService& self, const std::string& project_id, std::optional<std::string> user_id) {
            auto s = std::make_shared<Session>(
                Session{self.s->core, RequestContext::Admin(user_id.value_or(self.s->ctx.user_id), project_id)});
            return std::make_shared<PyService>(PyService{s});
          },
          py::arg("project_id"), py::arg("user_id") = py::none(),
          "The same service acting as an admin of `project_id`: new volumes are that project's.")
      .def(
          "for_token",
          [](const PyService& self, const std::string& token) {
            RequestContext ctx =
                Take(BlockingAuth(self.s, [&](AuthManager& a) { return a.ContextForToken(token); }));
            auto s = std::make_shared<Session>(Session{self.s->core, std::move(ctx)});
            return std::make_shared<PyService>(PyService{s});
          },
          py::arg("token"),
          "The same service acting as the owner of an identity token (identity.authenticate()): its project, its "
          "roles, Cinder's policy applied to them, as the REST API would. NotFound for an unknown token.")
      .def_property_readonly(
          "identity", [](const PyService& self) { return PyIdentity{self.s}; },
          "The built-in identity service on this service's database (users, projects, roles, tokens).")
      .def(
          "create_volume",
          [](const PyService& self, int64_t size, std::optional<std::string> name,
             std::optional<std::string> description, std::optional<std::string> volume_type,
             std::optional<std::string> availability_zone, std::optional<std::map<std::string, std::string>> metadata,
             std::optional<std::string> snapshot_id, std::optional<std::string> source_volid, py::object group_id) {
            VolumeCreate req = NewVolumeRequest(size, std::move(name), std::move(description), std::move(volume_type),
                                                std::move(availability_zone), metadata);
            req.snapshot_id = std::move(snapshot_id);
            req.source_volid = std::move(source_volid);
            if (!group_id.is_none()) req.group_id = IdOf<PyGroup>(group_id);
            return MakeVolume(self.s, req);
          },
          py::arg("size") = 0, py::kw_only(), py::arg("name") = py::none(), py::arg("description") = py::none(),
          py::arg("volume_type") = py::none(), py::arg("availability_zone") = py::none(),
          py::arg("metadata") = py::none(), py::arg("snapshot_id") = py::none(), py::arg("source_volid") = py::none(),
          py::arg("group_id") = py::none(),
          "Creates a volume of `size` GiB: returns it \"creating\" (wait() for it). InvalidInput for a bad size or "
          "name, NotFound for an unknown type, OverQuota over the project's quota. `group_id` (a Group or id): a "
          "volume of that group, on its backend.")
      .def(
          "get_volume",
          [](const PyService& self, const std::string& id) {
            Volume v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetVolume(self.s->ctx, id); }));
            return PyVolume{self.s, std::move(v)};
          },
          py::arg("id"), "The volume `id`; NotFound when there is none (or it is not visible).")
      .def(
          "volumes",
          [](const PyService& self, std::optional<std::string> name, std::optional<std::string> status,
             std::optional<std::map<std::string, std::string>> metadata, std::optional<std::string> availability_zone,
             std::optional<bool> bootable, std::optional<std::map<std::string, std::string>> like, bool all_tenants,
             std::optional<std::string> project_id, py::object group_id, std::optional<std::string> sort,
             std::optional<int64_t> limit, std::optional<int64_t> page_size) {
            VolumeListQuery q;
            if (!group_id.is_none()) q.group_id = IdOf<PyGroup>(group_id);
            q.name = std::move(name);
            q.status = std::move(status);
            q.metadata = ToMetadata(metadata);
            q.availability_zone = std::move(availability_zone);
            q.bootable = bootable;
            q.like = ToMetadata(like);
            q.all_tenants = all_tenants;
            q.project_id = std::move(project_id);
            q.sort = ParseSort(sort);
            VolumeFetch fetch = [q](const SessionPtr& s, std::optional<std::string> marker, int64_t n, bool* more) {
              VolumeListQuery page = q;
              page.marker = std::move(marker);
              page.limit = n;
              VolumeList l = Take(Blocking(s, [&](VolumeManager& vm) { return vm.ListVolumes(s->ctx, page); }));
              *more = l.more;
              return std::move(l.volumes);
            };
            return VolumePager(self.s, PageSize(self.s, page_size), limit, std::move(fetch));
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("status") = py::none(), py::arg("metadata") = py::none(),
          py::arg("availability_zone") = py::none(), py::arg("bootable") = py::none(), py::arg("like") = py::none(),
          py::arg("all_tenants") = false, py::arg("project_id") = py::none(), py::arg("group_id") = py::none(),
          py::arg("sort") = py::none(), py::arg("limit") = py::none(), py::arg("page_size") = py::none(),
          "The project's volumes matching the filters, as an iterator (Cinder's order: created_at desc, id desc; "
          "`sort` \"key[:asc|desc],...\"). `like`: substring filters by field. `all_tenants`: every project's. "
          "`group_id` (a Group or id): that group's volumes.")
      .def(
          "get_snapshot",
          [](const PyService& self, const std::string& id) {
            Snapshot v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetSnapshot(self.s->ctx, id); }));
            return PySnapshot{self.s, std::move(v)};
          },
          py::arg("id"), "The snapshot `id`; NotFound when there is none (or it is not visible).")
      .def(
          "snapshots",
          [](const PyService& self, std::optional<std::string> name, std::optional<std::string> status,
             std::optional<std::string> volume_id, bool all_tenants, std::optional<std::string> sort,
             std::optional<int64_t> limit, std::optional<int64_t> page_size) {
            SnapshotListQuery q;
            q.name = std::move(name);
            q.status = std::move(status);
            q.volume_id = std::move(volume_id);
            q.all_tenants = all_tenants;
            q.sort = ParseSort(sort);
            SnapshotFetch fetch = [q](const SessionPtr& s, std::optional<std::string> marker, int64_t n, bool* more) {
              SnapshotListQuery page = q;
              page.marker = std::move(marker);
              page.limit = n;
              SnapshotList l = Take(Blocking(s, [&](VolumeManager& vm) { return vm.ListSnapshots(s->ctx, page); }));
              *more = l.more;
              return std::move(l.snapshots);
            };
            return SnapshotPager(self.s, PageSize(self.s, page_size), limit, std::move(fetch));
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("status") = py::none(),
          py::arg("volume_id") = py::none(), py::arg("all_tenants") = false, py::arg("sort") = py::none(),
          py::arg("limit") = py::none(), py::arg("page_size") = py::none(),
          "The project's snapshots matching the filters, as an iterator (as volumes()).")
      .def(
          "get_backup",
          [](const PyService& self, const std::string& id) {
            Backup v = Take(BlockingBackups(self.s, [&](BackupManager& bm) { return bm.GetBackup(self.s->ctx, id); }));
            return PyBackup{self.s, std::move(v)};
          },
          py::arg("id"), "The backup `id`; NotFound when there is none (or it is not visible).")
      .def(
          "backups",
          [](const PyService& self, std::optional<std::string> name, std::optional<std::string> status,
             std::optional<std::string> volume_id, bool all_tenants, std::optional<std::string> sort,
             std::optional<int64_t> limit, std::optional<int64_t> page_size) {
            BackupListQuery q;
            if (name) q.filters["name"] = *name;
            if (status) q.filters["status"] = *status;
            if (volume_id) q.filters["volume_id"] = *volume_id;
            q.all_tenants = all_tenants;
            q.sort = ParseSort(sort);
            BackupFetch fetch = [q](const SessionPtr& s, std::optional<std::string> marker, int64_t n, bool* more) {
              BackupListQuery page = q;
              page.marker = std::move(marker);
              page.limit = n;
              BackupList l = Take(BlockingBackups(s, [&](BackupManager& bm) { return bm.ListBackups(s->ctx, page); }));
              *more = l.more;
              return std::move(l.backups);
            };
            return BackupPager(self.s, PageSize(self.s, page_size), limit, std::move(fetch));
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("status") = py::none(),
          py::arg("volume_id") = py::none(), py::arg("all_tenants") = false, py::arg("sort") = py::none(),
          py::arg("limit") = py::none(), py::arg("page_size") = py::none(),
          "The project's backups matching the filters, as an iterator (as volumes()).")
      .def(
          "volume_types",
          [](const PyService& self, std::optional<bool> is_public) {
            auto types =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ListVolumeTypes(self.s->ctx, is_public); }));
            std::vector<PyVolumeType> out;
            for (auto& t : types) out.push_back(PyVolumeType{self.s, std::move(t)});
            return out;
          },
          py::arg("is_public") = py::none(), "The volume types: every one for an admin (or those of `is_public`).")
      .def(
          "get_volume_type",
          [](const PyService& self, const std::string& id) {
            auto t = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetVolumeType(self.s->ctx, id); }));
            return PyVolumeType{self.s, std::move(t)};
          },
          py::arg("id"), "By id (\"default\": the default type).")
      .def(
          "create_volume_type",
          [](const PyService& self, const std::string& name,
             std::optional<std::map<std::string, std::string>> extra_specs, std::optional<std::string> description,
             bool is_public) {
            VolumeType req;
            req.name = name;
            req.extra_specs = ToMetadata(extra_specs);
            req.description = std::move(description);
            req.is_public = is_public;
            auto t = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.CreateVolumeType(self.s->ctx, req); }));
            return PyVolumeType{self.s, std::move(t)};
          },
          py::arg("name"), py::kw_only(), py::arg("extra_specs") = py::none(), py::arg("description") = py::none(),
          py::arg("is_public") = true, "Creates a volume type (admin); Conflict when the name is taken.")
      .def(
          "qos_specs",
          [](const PyService& self) {
            auto list = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ListQosSpecs(self.s->ctx); }));
            std::vector<PyQos> out;
            for (auto& q : list) out.push_back(PyQos{self.s, std::move(q)});
            return out;
          },
          "Every QoS specs (admin).")
      .def(
          "get_qos_specs",
          [](const PyService& self, const std::string& id) {
            auto q = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetQosSpecs(self.s->ctx, id); }));
            return PyQos{self.s, std::move(q)};
          },
          py::arg("id"), "The QoS specs `id`; NotFound when there are none.")
      .def(
          "create_qos_specs",
          [](const PyService& self, const std::string& name, std::optional<std::map<std::string, std::string>> specs) {
            Metadata m = ToMetadata(specs);
            auto q = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.CreateQosSpecs(self.s->ctx, name, m); }));
            return PyQos{self.s, std::move(q)};
          },
          py::arg("name"), py::arg("specs") = py::none(), "`specs` may hold \"consumer\" (front-end, back-end, both).")
      .def(
          "quotas",
          [](const PyService& self, std::optional<std::string> project, bool defaults) {
            auto q = Take(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.GetQuotaSet(self.s->ctx, project.value_or(self.s->ctx.project_id), defaults);
            }));
            return QuotaDict(q);
          },
          py::arg("project_id") = py::none(), py::kw_only(), py::arg("defaults") = false,
          "The project's quota set: {resource: Quota(limit, in_use, reserved)}.")
      .def(
          "set_quotas",
          [](const PyService& self, std::optional<std::string> project, py::kwargs kw) {
            std::map<std::string, int64_t> limits;
            for (auto kv : kw) limits[py::str(kv.first).cast<std::string>()] = kv.second.cast<int64_t>();
            auto q = Take(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.UpdateQuotaSet(self.s->ctx, project.value_or(self.s->ctx.project_id), limits);
            }));
            return QuotaDict(q);
          },
          py::arg("project_id") = py::none(),
          "Sets limits by resource name (volumes=, gigabytes=, snapshots=, ...; -1 unlimited); returns the set.")
      .def(
          "reset_quotas",
          [](const PyService& self, std::optional<std::string> project) {
            Check(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.DeleteQuotaSet(self.s->ctx, project.value_or(self.s->ctx.project_id));
            }));
          },
          py::arg("project_id") = py::none(), "Returns the project to the default limits.")
      .def(
          "limits",
          [](const PyService& self, std::optional<std::string> project) {
            auto q = Take(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.GetLimits(self.s->ctx, project.value_or(self.s->ctx.project_id));
            }));
            return QuotaDict(q);
          },
          py::arg("project_id") = py::none(), "/limits: the project's absolute limits and usage.")
      .def(
          "default_volume_type",
          [](const PyService& self, std::optional<std::string> project) -> py::object {
            auto r = Blocking(self.s, [&](VolumeManager& vm) {
              return vm.GetDefaultVolumeType(self.s->ctx, project.value_or(self.s->ctx.project_id));
            });
            if (!r.ok() && r.status().code() == Code::kNotFound) return py::none();
            return py::str(Take(std::move(r)));
          },
          py::arg("project_id") = py::none(),
          "The id of the project's own default type (3.62), None when it has none (the default_volume_type "
          "option applies).")
      .def(
          "set_default_volume_type",
          [](const PyService& self, const std::string& type, std::optional<std::string> project) {
            Check(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.SetDefaultVolumeType(self.s->ctx, project.value_or(self.s->ctx.project_id), type);
            }));
          },
          py::arg("volume_type"), py::arg("project_id") = py::none(), "A name or id.")
      .def(
          "unset_default_volume_type",
          [](const PyService& self, std::optional<std::string> project) {
            Check(Blocking(self.s, [&](VolumeManager& vm) {
              return vm.UnsetDefaultVolumeType(self.s->ctx, project.value_or(self.s->ctx.project_id));
            }));
          },
          py::arg("project_id") = py::none(), "Removes the project's own default type (3.62).")
      .def(
          "availability_zones",
          [](const PyService& self) {
            auto zones =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ListAvailabilityZones(self.s->ctx); }));
            py::dict d;
            for (auto& [zone, available] : zones) d[py::str(zone)] = available;
            return d;
          },
          "{zone: available}: the cinder-volume services' zones.")
      .def(
          "pools",
          [](const PyService& self, std::optional<std::string> name, std::optional<std::string> volume_type) {
            auto pools =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ListPools(self.s->ctx, name, volume_type); }));
            py::list out;
            for (auto& p : pools) {
              py::dict d;
              d["name"] = p.name;
              d["backend"] = p.backend_host;
              d["capabilities"] = p.capabilities;
              out.append(d);
            }
            return out;
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("volume_type") = py::none(),
          "The pools the schedulers see ({name, backend, capabilities}), as last reported; those whose "
          "capabilities satisfy `volume_type`'s extra specs.")
      .def(
          "messages",
          [](const PyService& self, std::optional<std::string> resource_uuid) {
            MessageListQuery q;
            q.resource_uuid = std::move(resource_uuid);
            auto list = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ListMessages(self.s->ctx, q); }));
            py::list out;
            for (auto& msg : list.messages) {
              py::dict d;
              d["id"] = msg.id;
              d["resource_type"] = msg.resource_type;
              d["resource_uuid"] = Opt(msg.resource_uuid);
              d["event_id"] = msg.event_id;
              d["user_message"] = UserMessageText(msg);
              d["message_level"] = msg.message_level;
              d["request_id"] = msg.request_id;
              d["created_at"] = msg.created_at;
              out.append(d);
            }
            return out;
          },
          py::arg("resource_uuid") = py::none(), "User messages: why asynchronous work failed.")
      .def(
          "services",
          [](const PyService& self) {
            auto list = Take(Blocking(
                self.s, [&](VolumeManager& vm) { return vm.ListServices(self.s->ctx, std::nullopt, std::nullopt); }));
            py::list out;
            for (auto& sv : list) {
              py::dict d;
              d["binary"] = sv.binary;
              d["host"] = sv.host;
              d["zone"] = sv.availability_zone;
              d["status"] = sv.disabled ? "disabled" : "enabled";
              d["state"] = sv.up ? "up" : "down";
              d["updated_at"] = Opt(sv.updated_at);
              out.append(d);
            }
            return out;
          },
          "The services (cinder-volume per backend, cinder-scheduler, ...) with their state.")
      .def(
          "group_types",
          [](const PyService& self, std::optional<bool> is_public) {
            auto types =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ListGroupTypes(self.s->ctx, is_public); }));
            std::vector<PyGroupType> out;
            for (auto& t : types) out.push_back(PyGroupType{self.s, std::move(t)});
            return out;
          },
          py::arg("is_public") = py::none(), "The group types: every one for an admin (or those of `is_public`).")
      .def(
          "get_group_type",
          [](const PyService& self, const std::string& id) {
            auto t = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetGroupType(self.s->ctx, id); }));
            return PyGroupType{self.s, std::move(t)};
          },
          py::arg("id"), "By id (\"default\": the default_group_type option's); NotFound when there is none.")
      .def(
          "create_group_type",
          [](const PyService& self, const std::string& name,
             std::optional<std::map<std::string, std::string>> group_specs, std::optional<std::string> description,
             bool is_public) {
            GroupType req;
            req.name = name;
            req.group_specs = ToMetadata(group_specs);
            req.description = std::move(description);
            req.is_public = is_public;
            auto t = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.CreateGroupType(self.s->ctx, req); }));
            return PyGroupType{self.s, std::move(t)};
          },
          py::arg("name"), py::kw_only(), py::arg("group_specs") = py::none(), py::arg("description") = py::none(),
          py::arg("is_public") = true, "Creates a group type (admin); Conflict when the name is taken.")
      .def(
          "create_group",
          [](const PyService& self, py::object group_type, py::object volume_types, std::optional<std::string> name,
             std::optional<std::string> description, std::optional<std::string> availability_zone) {
            GroupCreate req;
            req.group_type = IdOf<PyGroupType>(group_type);
            if (py::isinstance<py::str>(volume_types)) Raise(InvalidArgument("volume_types is a list of types."));
            for (auto t : volume_types) req.volume_types.push_back(IdOf<PyVolumeType>(t));
            req.name = std::move(name);
            req.description = std::move(description);
            req.availability_zone = std::move(availability_zone);
            VolumeGroup g = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.CreateGroup(self.s->ctx, req); }));
            return PyGroup{self.s, std::move(g)};
          },
          py::arg("group_type"), py::arg("volume_types"), py::kw_only(), py::arg("name") = py::none(),
          py::arg("description") = py::none(), py::arg("availability_zone") = py::none(),
          "Creates a generic volume group (3.13) of `group_type` (a GroupType, name or id) for volumes of "
          "`volume_types` (VolumeTypes, names or ids): \"creating\" until a backend taking all of them has it "
          "(wait()). OverQuota over the groups quota.")
      .def(
          "get_group",
          [](const PyService& self, const std::string& id) {
            VolumeGroup g = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetGroup(self.s->ctx, id); }));
            return PyGroup{self.s, std::move(g)};
          },
          py::arg("id"), "The group `id` with its volumes; NotFound when there is none (or it is not visible).")
      .def(
          "groups",
          [](const PyService& self, std::optional<std::string> name, std::optional<std::string> status,
             std::optional<std::string> availability_zone, std::optional<std::string> group_type_id,
             bool all_tenants, std::optional<std::string> sort, std::optional<int64_t> limit,
             std::optional<int64_t> page_size) {
            GroupListQuery q;
            if (name) q.filters["name"] = *name;
            if (status) q.filters["status"] = *status;
            if (availability_zone) q.filters["availability_zone"] = *availability_zone;
            if (group_type_id) q.filters["group_type_id"] = *group_type_id;
            q.all_tenants = all_tenants;
            q.sort = ParseSort(sort);
            GroupFetch fetch = [q](const SessionPtr& s, std::optional<std::string> marker, int64_t n, bool* more) {
              GroupListQuery page = q;
              page.marker = std::move(marker);
              page.limit = n;
              auto l = Take(Blocking(s, [&](VolumeManager& vm) { return vm.ListGroups(s->ctx, page); }));
              *more = static_cast<int64_t>(l.size()) >= n;
              return l;
            };
            return GroupPager(self.s, PageSize(self.s, page_size), limit, std::move(fetch));
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("status") = py::none(),
          py::arg("availability_zone") = py::none(), py::arg("group_type_id") = py::none(),
          py::arg("all_tenants") = false, py::arg("sort") = py::none(), py::arg("limit") = py::none(),
          py::arg("page_size") = py::none(), "The project's groups matching the filters, as an iterator (as volumes()).")
      .def(
          "get_group_snapshot",
          [](const PyService& self, const std::string& id) {
            GroupSnapshot g =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetGroupSnapshot(self.s->ctx, id); }));
            return PyGroupSnapshot{self.s, std::move(g)};
          },
          py::arg("id"), "The group snapshot `id`; NotFound when there is none (or it is not visible).")
      .def(
          "group_snapshots",
          [](const PyService& self, std::optional<std::string> name, std::optional<std::string> status,
             py::object group, bool all_tenants, std::optional<std::string> sort, std::optional<int64_t> limit,
             std::optional<int64_t> page_size) {
            GroupSnapshotListQuery q;
            if (name) q.filters["name"] = *name;
            if (status) q.filters["status"] = *status;
            if (!group.is_none()) q.filters["group_id"] = IdOf<PyGroup>(group);
            q.all_tenants = all_tenants;
            q.sort = ParseSort(sort);
            GroupSnapshotFetch fetch = [q](const SessionPtr& s, std::optional<std::string> marker, int64_t n,
                                           bool* more) {
              GroupSnapshotListQuery page = q;
              page.marker = std::move(marker);
              page.limit = n;
              auto l = Take(Blocking(s, [&](VolumeManager& vm) { return vm.ListGroupSnapshots(s->ctx, page); }));
              *more = static_cast<int64_t>(l.size()) >= n;
              return l;
            };
            return GroupSnapshotPager(self.s, PageSize(self.s, page_size), limit, std::move(fetch));
          },
          py::kw_only(), py::arg("name") = py::none(), py::arg("status") = py::none(),
          py::arg("group_id") = py::none(), py::arg("all_tenants") = false, py::arg("sort") = py::none(),
          py::arg("limit") = py::none(), py::arg("page_size") = py::none(),
          "The project's group snapshots matching the filters (`group_id`: a Group or its id), as an iterator.")
      .def(
          "transfers",
          [](const PyService& self, bool all_tenants) {
            auto list =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ListTransfers(self.s->ctx, all_tenants); }));
            std::vector<PyTransfer> out;
            for (auto& t : list) out.push_back(PyTransfer{self.s, std::move(t)});
            return out;
          },
          py::kw_only(), py::arg("all_tenants") = false,
          "The project's volume transfers (every project's for an admin with all_tenants).")
      .def(
          "get_transfer",
          [](const PyService& self, const std::string& id) {
            Transfer t = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetTransfer(self.s->ctx, id); }));
            return PyTransfer{self.s, std::move(t)};
          },
          py::arg("id"), "The transfer `id` (without its auth_key); NotFound when there is none.")
      .def(
          "accept_transfer",
          [](const PyService& self, const std::string& id, const std::string& auth_key) {
            Transfer t = Take(
                Blocking(self.s, [&](VolumeManager& vm) { return vm.AcceptTransfer(self.s->ctx, id, auth_key); }));
            return PyTransfer{self.s, std::move(t)};
          },
          py::arg("id"), py::arg("auth_key"),
          "Accepts the transfer `id` into this service's project: the volume becomes its. InvalidInput for a wrong "
          "key.")
      .def(
          "manage_volume",
          [](const PyService& self, const std::string& source_name, std::optional<std::string> host,
             std::optional<std::string> cluster, std::optional<std::string> name,
             std::optional<std::string> description, std::optional<std::string> volume_type,
             std::optional<std::string> availability_zone, std::optional<std::map<std::string, std::string>> metadata,
             bool bootable) {
            CheckClusterHost(host, cluster);
            VolumeManager::ManageVolumeRequest req;
            req.source_name = source_name;
            req.host = std::move(host);
            req.cluster = std::move(cluster);
            req.name = std::move(name);
            req.description = std::move(description);
            req.volume_type = std::move(volume_type);
            req.availability_zone = std::move(availability_zone);
            req.metadata = ToMetadata(metadata);
            req.bootable = bootable;
            Volume v = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ManageVolume(self.s->ctx, req); }));
            return PyVolume{self.s, std::move(v)};
          },
          py::arg("source_name"), py::kw_only(), py::arg("host") = py::none(), py::arg("cluster") = py::none(),
          py::arg("name") = py::none(), py::arg("description") = py::none(), py::arg("volume_type") = py::none(),
          py::arg("availability_zone") = py::none(), py::arg("metadata") = py::none(), py::arg("bootable") = false,
          "Admin: adopts the object `source_name` of the backend at `host` (host@backend[#pool]) or `cluster` "
          "(exactly one): a volume \"managing\" until its host has it (wait(); OperationFailed "
          "\"error_managing\" for a bad reference). InvalidState \"Host '...' not found\" when no volume service is "
          "there (Cinder's ServiceUnavailable).")
      .def(
          "manage_snapshot",
          [](const PyService& self, py::object volume, const std::string& source_name, std::optional<std::string> name,
             std::optional<std::string> description, std::optional<std::map<std::string, std::string>> metadata) {
            VolumeManager::ManageSnapshotRequest req;
            req.volume_id = IdOf<PyVolume>(volume);
            req.source_name = source_name;
            req.name = std::move(name);
            req.description = std::move(description);
            req.metadata = ToMetadata(metadata);
            Snapshot sn =
                Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ManageSnapshot(self.s->ctx, req); }));
            return PySnapshot{self.s, std::move(sn)};
          },
          py::arg("volume"), py::arg("source_name"), py::kw_only(), py::arg("name") = py::none(),
          py::arg("description") = py::none(), py::arg("metadata") = py::none(),
          "Admin: adopts the snapshot `source_name` of `volume` (a Volume or id) on its backend: \"creating\" until "
          "its host has it (wait()).")
      .def(
          "manageable_volumes",
          [](const PyService& self, std::optional<std::string> host, std::optional<std::string> cluster,
             std::optional<std::string> marker, std::optional<int64_t> limit, int64_t offset,
             std::optional<std::string> sort) {
            auto q = ManageableQueryOf(host, cluster, marker, limit, offset, sort);
            auto l = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ListManageable(self.s->ctx, q, false); }));
            return ManageableList(l, false);
          },
          py::kw_only(), py::arg("host") = py::none(), py::arg("cluster") = py::none(), py::arg("marker") = py::none(),
          py::arg("limit") = py::none(), py::arg("offset") = 0, py::arg("sort") = py::none(),
          "Admin: what the backend at `host` or `cluster` holds that could be managed ({reference: {\"source-name\"}, "
          "size, safe_to_manage, reason_not_safe, cinder_id, extra_info}); `marker` a source-name, `sort` "
          "\"reference\" or \"size\" keys.")
      .def(
          "manageable_snapshots",
          [](const PyService& self, std::optional<std::string> host, std::optional<std::string> cluster,
             std::optional<std::string> marker, std::optional<int64_t> limit, int64_t offset,
             std::optional<std::string> sort) {
            auto q = ManageableQueryOf(host, cluster, marker, limit, offset, sort);
            auto l = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.ListManageable(self.s->ctx, q, true); }));
            return ManageableList(l, true);
          },
          py::kw_only(), py::arg("host") = py::none(), py::arg("cluster") = py::none(), py::arg("marker") = py::none(),
          py::arg("limit") = py::none(), py::arg("offset") = 0, py::arg("sort") = py::none(),
          "Admin: as manageable_volumes, for snapshots (with source_reference: their volume's).")
      .def(
          "quota_class",
          [](const PyService& self, const std::string& name) {
            auto q = Take(Blocking(self.s, [&](VolumeManager& vm) { return vm.GetQuotaClass(self.s->ctx, name); }));
            return LimitDict(q);
          },
          py::arg("name") = "default",
          "Admin: the quota class' limits {resource: limit} (\"default\": what projects without their own get).")
      .def(
          "set_quota_class",
          [](const PyService& self, const std::string& name, py::kwargs kw) {
            std::map<std::string, int64_t> limits;
            for (auto kv : kw) limits[py::str(kv.first).cast<std::string>()] = kv.second.cast<int64_t>();
            auto q = Take(
                Blocking(self.s, [&](VolumeManager& vm) { return vm.UpdateQuotaClass(self.s->ctx, name, limits); }));
            return LimitDict(q);
          },
          py::arg("name") = "default",
          "Admin: sets the class' limits by resource name (volumes=, gigabytes=, ...; -1 unlimited); returns them.")
      .def(
          "import_backup",
          [](const PyService& self, const std::string& backup_service, const std::string& backup_url) {
            BackupManager::Record rec{backup_service, backup_url};
            const uint64_t from = ProgressNow(self.s);
            Backup b =
                Take(BlockingBackups(self.s, [&](BackupManager& bm) { return bm.ImportRecord(self.s->ctx, rec); }));
            return PyBackup{self.s, std::move(b), from};
          },
          py::arg("backup_service"), py::arg("backup_url"),
          "Admin (import_record): records the backup an export_record() describes (\"creating\" until a backup host "
          "has checked its objects; wait()). NotFound when no backup host of that driver is up.")
      .def(
          "drain",
          [](const PyService& self) {
            py::gil_scoped_release release;
            Core::Use use(self.s->core.get());
            self.s->core->volumes().Drain();
          },
          "Embedded: waits until every accepted operation has finished.")
      .def(
          "close",
          [](const PyService& self) {
            py::gil_scoped_release release;
            self.s->core->Close();
          },
          "Stops the service (work in flight finishes). Objects made from it can no longer call it.")
      .def("__enter__", [](std::shared_ptr<PyService> s) { return s; })
      .def("__exit__",
           [](const PyService& self, py::args) {
             py::gil_scoped_release release;
             self.s->core->Close();
           })
      .def("__repr__", [](const PyService& s) {
        return std::string("<cinder.Service ") +
               (s.s->core->embedded() ? "embedded " + s.s->core->options().state_path
                                      : "deployment " + s.s->core->options().origin) +
               " project " + s.s->ctx.project_id + ">";
      });

  m.def(
      "configure_logging",
      [](bool debug, std::optional<std::string> log_file, std::optional<std::string> log_dir, bool use_stderr) {
        Options o;
        o.debug = debug;
        o.log_file = log_file.value_or("");
        o.log_dir = log_dir.value_or("");
        o.use_stderr = use_stderr;
        o.origin = "cinder.configure_logging()";
        Check(ConfigureLogging(o, "cinder-python"));
      },
      py::kw_only(), py::arg("debug") = false, py::arg("log_file") = py::none(), py::arg("log_dir") = py::none(),
      py::arg("use_stderr") = true,
      "Where libcinder's log lines go (oslo.log's format), for the whole process: `log_file` (under `log_dir` "
      "when relative; without it <log_dir>/cinder-python.log), also standard error unless use_stderr=False, "
      "Debug lines with debug=True. Until it is called (or open() is given one of these options), Info and above "
      "go to standard error.");
  m.def("open", &Open, py::kw_only(), py::arg("state_path") = py::none(), py::arg("backends") = py::none(),
        py::arg("config_file") = py::none(), py::arg("project_id") = "cinderlib", py::arg("user_id") = "cinderlib",
        "Opens libcinder.\n\n"
        "open(state_path=DIR, backends=[...], **options): an embedded service (SQLite under DIR, its schema "
        "synced, the REST API on a free loopback port, the volume and backup services in process). Each backend is "
        "a name (a file backend under DIR/volumes/NAME) or a dict of its cinder.conf section with \"name\"; "
        "`options` are [DEFAULT] options by Cinder's names (quota_volumes=-1, ...).\n\n"
        "open(config_file=PATH): joins the deployment a cinder.conf describes, as cinder-api does: its database and "
        "its transport to the schedulers, volume and backup hosts.\n\n"
        "The service acts as an admin of `project_id`.");
}

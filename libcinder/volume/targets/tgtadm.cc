// The tgtadm target (Cinder's TgtAdm) and the fake one. tgtd is driven with `tgtadm` directly:
// a call costs about 3 ms where Cinder's `tgt-admin --update` costs 200 ms (it re-reads every
// configuration file). tgtd keeps nothing across its own restart, so the database is the truth
// and the volume service re-creates what attachments need (VolumeServiceImpl::EnsureExports);
// the persist file Cinder writes under volumes_dir is written too (without fsync), for an
// operator's `tgt-admin -e`.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/digest.h"
#include "common/log.h"
#include "common/util.h"
#include "volume/targets/target.h"

extern char** environ;

namespace cinder {

namespace {

struct Output {
  int exit_code = -1;
  std::string text;  // stdout and stderr
};

// Runs argv with TGT_IPC_SOCKET set (when given), capturing its output; never through a shell.
Result<Output> Spawn(const std::vector<std::string>& argv, const std::string& ipc_socket) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "TGT_IPC_SOCKET=", 15) != 0) env.emplace_back(*e);
  }
  if (!ipc_socket.empty()) env.push_back("TGT_IPC_SOCKET=" + ipc_socket);
  std::vector<char*> envp, args;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  // tgtadm lives in /usr/sbin, which a non-root PATH may lack.
  std::string sbin = "/usr/sbin/" + argv[0];
  if (argv[0].find('/') == std::string::npos && access(sbin.c_str(), X_OK) == 0) args[0] = sbin.data();
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Unavailable(argv[0] + " cannot be run: " + std::strerror(rc));
  }
  Output out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      if (out.text.size() < (1 << 20)) out.text.append(buf, n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

bool Contains(const std::string& text, const char* what) { return text.find(what) != std::string::npos; }

// "CHAP <user> <password>" -> {user, password}.
std::optional<std::pair<std::string, std::string>> ParseChap(const std::optional<std::string>& auth) {
  if (!auth) return std::nullopt;
  auto parts = Split(*auth, ' ');
  if (parts.size() != 3 || parts[0] != "CHAP") return std::nullopt;
  return std::make_pair(parts[1], parts[2]);
}

// One target of `tgtadm --mode target --op show`.
struct ShownTarget {
  int tid = 0;
  bool has_lun1 = false;
  std::vector<std::string> accounts;
};

// ---- the write hold ---------------------------------------------------------------------------
//
// tgt offers no pause of one target that keeps its commands: a target set "offline" drops the
// SCSI commands it receives (target_cmd_queue answers -EBUSY and the iSCSI layer sends nothing
// back), so initiators time out and retry tens of seconds later. The hold is therefore taken on
// the tgtd process as a whole: SIGSTOP, then a wait until every thread of it is stopped. A
// thread stops only on its way back to user space, so a pwrite() of tgtd's backing store that
// had begun is in the file, and none begins until SIGCONT; the initiators' commands wait in
// their sockets meanwhile (a pause of milliseconds, far inside their timeouts). Every target
// of that tgtd pauses, not only the group's: the price of a real hold without changing tgt.
//
// Safety: a watchdog process (sh, timeout, head) sends SIGCONT when the hold's pipe closes,
// which happens when the holder releases it or dies, and after max_hold_seconds whatever the
// holder does. Holds of one tgtd are serialized across processes by flock() on tgtd's own
// lock file (<socket>.0.lock, which tgtd locks with lockf(): the two lock kinds do not
// conflict), and within this process by a mutex, so one holder's SIGCONT never ends another's
// hold.

// tgtd's control socket path, as tgtadm builds it.
std::string IpcPath(const std::string& ipc_socket) {
  return (ipc_socket.empty() ? std::string("/var/run/tgtd/socket") : ipc_socket) + ".0";
}

// The pid of the tgtd serving control socket `path`: the holder of the lockf() lock tgtd keeps
// on `path`.lock while it runs (F_GETLK reports it). Never a connection to the socket: tgtd
// spins on a control connection closed before it sent a request (its read() of 0 bytes is not
// taken for the end of the connection).
Result<pid_t> TgtdPid(const std::string& path) {
  const std::string lock = path + ".lock";
  int fd = open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unavailable("tgtd is not reachable at " + path + ": " + lock + ": " + std::strerror(errno));
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  int rc = fcntl(fd, F_GETLK, &fl);
  close(fd);
  if (rc != 0 || fl.l_type == F_UNLCK || fl.l_pid <= 0) {
    return Unavailable("tgtd is not running at " + path + " (nothing holds " + lock + ")");
  }
  std::ifstream comm("/proc/" + std::to_string(fl.l_pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  if (name != "tgtd") return Unavailable("the process holding " + lock + " is " + name + ", not tgtd");
  return static_cast<pid_t>(fl.l_pid);
}

// Whether every thread of `pid` is stopped (state T or t in /proc/pid/task/*/stat). `stopped`
// keeps the threads seen stopped by earlier calls of one hold (a stopped thread stays stopped
// until SIGCONT), so that a poll reads only the others: tgtd runs a dozen threads per LUN.
bool AllThreadsStopped(pid_t pid, std::set<std::string>* stopped) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  bool all = true;
  int seen = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    ++seen;
    if (stopped->count(e->d_name)) continue;
    char path[96];
    std::snprintf(path, sizeof path, "%s/%s/stat", dir.c_str(), e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // the thread just ended
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    std::string stat(buf, static_cast<size_t>(n));
    auto paren = stat.rfind(") ");
    if (paren == std::string::npos || paren + 2 >= stat.size()) continue;
    char state = stat[paren + 2];
    if (state == 'T' || state == 't') {
      stopped->insert(e->d_name);
    } else {
      all = false;
    }
  }
  closedir(d);
  return all && seen > 0;
}

std::mutex& HoldMutex() {
  static std::mutex mu;
  return mu;
}

class TgtdHold : public WriteHold {
 public:
  ~TgtdHold() override {
    if (pid_ > 0) kill(pid_, SIGCONT);
    if (pipe_ >= 0) close(pipe_);  // the watchdog sends SIGCONT too, and ends
    if (watchdog_ > 0) {
      int status = 0;
      while (waitpid(watchdog_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (lock_fd_ >= 0) close(lock_fd_);  // drops the flock
  }

  bool Intact() override {
    if (watchdog_ <= 0 || pid_ <= 0) return false;
    int status = 0;
    pid_t r = waitpid(watchdog_, &status, WNOHANG);
    if (r == watchdog_) watchdog_ = 0;  // it resumed tgtd and ended: reaped here
    std::set<std::string> stopped;
    return r == 0 && AllThreadsStopped(pid_, &stopped);
  }

  static Result<std::unique_ptr<WriteHold>> Take(const std::string& ipc_socket, int max_hold_seconds) {
    const std::string path = IpcPath(ipc_socket);
    CINDER_ASSIGN_OR_RETURN(pid_t pid, TgtdPid(path));
    auto hold = std::unique_ptr<TgtdHold>(new TgtdHold(std::unique_lock<std::mutex>(HoldMutex())));
    hold->lock_fd_ = open((path + ".lock").c_str(), O_RDONLY | O_CLOEXEC);
    if (hold->lock_fd_ >= 0) {
      while (flock(hold->lock_fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
    // The watchdog first: from now on tgtd is resumed whatever happens to this process.
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    std::vector<std::string> argv = {
        "/bin/sh",
        "-c",
        "PATH=/usr/bin:/bin:$PATH; timeout \"$2\" head -c 1 >/dev/null 2>&1; kill -CONT \"$1\"",
        "cinder-write-hold",
        std::to_string(pid),
        std::to_string(max_hold_seconds)};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t watchdog = 0;
    int rc = posix_spawn(&watchdog, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[0]);
    if (rc != 0) {
      close(fds[1]);
      return Unavailable(std::string("cannot start the hold's watchdog: ") + std::strerror(rc));
    }
    hold->watchdog_ = watchdog;
    hold->pipe_ = fds[1];
    if (kill(pid, SIGSTOP) != 0) {
      return Unavailable("cannot hold tgtd (pid " + std::to_string(pid) + "): " + std::strerror(errno));
    }
    hold->pid_ = pid;
    // Stopped once every thread is: a write under way in one of them has finished by then.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::set<std::string> stopped;
    while (!AllThreadsStopped(pid, &stopped)) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Unavailable("tgtd (pid " + std::to_string(pid) + ") did not stop within 2 s");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return std::unique_ptr<WriteHold>(std::move(hold));
  }

 private:
  explicit TgtdHold(std::unique_lock<std::mutex> lock) : lock_(std::move(lock)) {}

  std::unique_lock<std::mutex> lock_;  // released last (members go in reverse order)
  int lock_fd_ = -1;
  pid_t watchdog_ = 0;
  int pipe_ = -1;
  pid_t pid_ = 0;
};

class NoHold : public WriteHold {};

class TgtAdmTarget : public Target {
 public:
  TgtAdmTarget(const BackendOptions& b, std::string ip, std::string volumes_dir)
      : b_(b), ip_(std::move(ip)), volumes_dir_(std::move(volumes_dir)) {}

  std::string DriverVolumeType() const override { return "iscsi"; }

  Status ValidateConnector(const json::Value& connector) const override {
    if (!connector.is_object() || !connector.Find("initiator")) {
      return InvalidArgument("Invalid input received: Connector doesn't have required information: initiator");
    }
    return Status::OK();
  }

  Result<ExportRecord> CreateExport(const TargetVolume& v) override {
    std::lock_guard<std::mutex> l(mu_);
    const std::string iqn = Iqn(v.id);
    std::optional<std::pair<std::string, std::string>> chap = ParseChap(v.provider_auth);
    if (!chap && b_.use_chap_auth) chap = std::make_pair(RandomPassword(20), RandomPassword(16));
    if (!b_.use_chap_auth) chap.reset();
    for (int attempt = 0; attempt < 3; ++attempt) {
      CINDER_ASSIGN_OR_RETURN(auto shown, Show());
      auto it = shown.find(iqn);
      int tid = 0;
      if (it != shown.end()) {
        const ShownTarget& t = it->second;
        bool complete =
            t.has_lun1 && (!chap || std::find(t.accounts.begin(), t.accounts.end(), chap->first) != t.accounts.end());
        if (complete) return Record(v.id, t.tid, chap);
        // Half made (a crash between calls): made again.
        (void)Adm({"--mode", "target", "--op", "delete", "--force", "--tid", std::to_string(t.tid)});
        tid = t.tid;
      } else {
        for (const auto& [name, t] : shown) tid = std::max(tid, t.tid);
        ++tid;
      }
      auto made = Adm({"--mode", "target", "--op", "new", "--tid", std::to_string(tid), "--targetname", iqn});
      if (!made.ok()) {
        if (Contains(made.status().message(), "already exists")) continue;  // another process took the tid
        return made.status();
      }
      Status st = Fill(tid, v, chap);
      if (!st.ok()) {
        (void)Adm({"--mode", "target", "--op", "delete", "--force", "--tid", std::to_string(tid)});
        return st;
      }
      WritePersistFile(v, iqn, chap);
      return Record(v.id, tid, chap);
    }
    return Unavailable("Failed to create iscsi target for volume volume-" + v.id + ".");
  }

  Status RemoveExport(const TargetVolume& v) override {
    std::lock_guard<std::mutex> l(mu_);
    CINDER_ASSIGN_OR_RETURN(auto shown, Show());
    auto it = shown.find(Iqn(v.id));
    if (it != shown.end()) {
      auto gone = Adm({"--mode", "target", "--op", "delete", "--force", "--tid", std::to_string(it->second.tid)});
      if (!gone.ok() && !Contains(gone.status().message(), "can't find the target")) return gone.status();
    }
    // Accounts are tgtd-wide: this volume's goes with its target.
    if (auto chap = ParseChap(v.provider_auth)) {
      (void)Adm({"--mode", "account", "--op", "delete", "--user", chap->first});
    }
    std::remove(PersistPath(v.id).c_str());
    return Status::OK();
  }

  Result<json::Value> ConnectionData(const TargetVolume& v) override {
    // provider_location: "<ip>:<port>[;<ip>:<port>...],<tid> <iqn> <lun>".
    if (!v.provider_location) {
      return FailedPrecondition("Invalid volume: Could not find iSCSI export for volume volume-" + v.id);
    }
    auto parts = Split(*v.provider_location, ' ');
    if (parts.size() < 3) {
      return FailedPrecondition("Invalid volume: Could not find iSCSI export for volume volume-" + v.id);
    }
    std::string portal = parts[0].substr(0, parts[0].find(','));
    portal = portal.substr(0, portal.find(';'));
    json::Value d = json::Value::MakeObject();
    d.Set("target_discovered", false);
    d.Set("target_portal", portal);
    d.Set("target_iqn", parts[1]);
    d.Set("target_lun", static_cast<int64_t>(std::atoi(parts[2].c_str())));
    d.Set("volume_id", v.id);
    if (auto chap = ParseChap(v.provider_auth)) {
      d.Set("auth_method", "CHAP");
      d.Set("auth_username", chap->first);
      d.Set("auth_password", chap->second);
    }
    d.Set("encrypted", false);
    return d;
  }

  Result<std::vector<std::string>> ListExports() override {
    std::lock_guard<std::mutex> l(mu_);
    CINDER_ASSIGN_OR_RETURN(auto shown, Show());
    std::vector<std::string> ids;
    const std::string prefix = b_.target_prefix + "volume-";
    for (const auto& [iqn, t] : shown) {
      if (iqn.compare(0, prefix.size(), prefix) == 0) ids.push_back(iqn.substr(prefix.size()));
    }
    return ids;
  }

  Result<std::unique_ptr<WriteHold>> HoldWrites(int max_hold_seconds) override {
    return TgtdHold::Take(b_.tgt_ipc_socket, max_hold_seconds);
  }

  bool Reachable() override {
    auto r = Spawn({"tgtadm", "--lld", "iscsi", "--mode", "system", "--op", "show"}, b_.tgt_ipc_socket);
    return r.ok() && r->exit_code == 0;
  }

 private:
  std::string Iqn(const std::string& id) const { return b_.target_prefix + "volume-" + id; }
  std::string PersistPath(const std::string& id) const { return volumes_dir_ + "/volume-" + id; }

  // tgtadm --lld iscsi ARGS...: its output, or an error carrying tgtadm's message (never the
  // arguments: they may hold a CHAP secret).
  Result<std::string> Adm(std::vector<std::string> args) {
    std::vector<std::string> argv = {"tgtadm", "--lld", b_.target_protocol};
    argv.insert(argv.end(), args.begin(), args.end());
    CINDER_ASSIGN_OR_RETURN(Output out, Spawn(argv, b_.tgt_ipc_socket));
    if (out.exit_code == 0) return out.text;
    std::string msg = Trim(out.text);
    if (out.exit_code == 107 || Contains(msg, "failed to send request") || Contains(msg, "can't connect")) {
      return Unavailable("tgtd is not reachable (" + msg + ")");
    }
    return Internal(msg.empty() ? "tgtadm failed with exit code " + std::to_string(out.exit_code) : msg);
  }

  // iqn -> what tgtd has of it.
  Result<std::map<std::string, ShownTarget>> Show() {
    CINDER_ASSIGN_OR_RETURN(std::string text, Adm({"--mode", "target", "--op", "show"}));
    std::map<std::string, ShownTarget> out;
    ShownTarget* cur = nullptr;
    bool in_accounts = false;
    for (const std::string& raw : Split(text, '\n')) {
      if (raw.rfind("Target ", 0) == 0) {
        auto colon = raw.find(": ");
        if (colon == std::string::npos) continue;
        ShownTarget& t = out[Trim(raw.substr(colon + 2))];
        t.tid = std::atoi(raw.c_str() + 7);
        cur = &t;
        in_accounts = false;
        continue;
      }
      if (!cur) continue;
      std::string line = Trim(raw);
      if (line == "LUN: 1") cur->has_lun1 = true;
      if (line == "Account information:") {
        in_accounts = true;
      } else if (line == "ACL information:") {
        in_accounts = false;
      } else if (in_accounts && !line.empty()) {
        cur->accounts.push_back(line);
      }
    }
    return out;
  }

  // The LUN, its flags, the CHAP account and the ACL of a new target.
  Status Fill(int tid, const TargetVolume& v, const std::optional<std::pair<std::string, std::string>>& chap) {
    const std::string t = std::to_string(tid);
    std::vector<std::string> lun = {"--mode", "logicalunit",     "--op", "new", "--tid", t, "--lun",
                                    "1",      "--backing-store", v.path};
    std::string flags = b_.iscsi_target_flags;
    if (b_.iscsi_iotype == "blockio" && flags.find("direct") == std::string::npos) {
      flags = flags.empty() ? "direct" : flags + ":direct";
    }
    if (!flags.empty()) lun.insert(lun.end(), {"--bsoflags", flags});
    CINDER_RETURN_IF_ERROR(Adm(lun).status());
    if (v.readonly) {  // tgt then answers writes with DATA PROTECT
      CINDER_RETURN_IF_ERROR(
          Adm({"--mode", "logicalunit", "--op", "update", "--tid", t, "--lun", "1", "--params", "readonly=1"})
              .status());
    }
    if (!b_.iscsi_write_cache) {
      CINDER_RETURN_IF_ERROR(Adm({"--mode", "logicalunit", "--op", "update", "--tid", t, "--lun", "1", "--params",
                                  "mode_page=8:0:18:0x10:0:0xff:0xff:0:0:0xff:0xff:0xff:0xff:0x80:0x14:0:0:0:0:0:0"})
                                 .status());
    }
    if (chap) {
      auto acct = Adm({"--mode", "account", "--op", "new", "--user", chap->first, "--password", chap->second});
      if (!acct.ok() && !Contains(acct.status().message(), "already exists")) return acct.status();
      CINDER_RETURN_IF_ERROR(Adm({"--mode", "account", "--op", "bind", "--tid", t, "--user", chap->first}).status());
    }
    return Adm({"--mode", "target", "--op", "bind", "--tid", t, "--initiator-address", "ALL"}).status();
  }

  ExportRecord Record(const std::string& id, int tid, const std::optional<std::pair<std::string, std::string>>& chap) {
    ExportRecord r;
    std::string host = ip_.find(':') != std::string::npos ? "[" + ip_ + "]" : ip_;
    r.provider_location =
        host + ":" + std::to_string(b_.target_port) + "," + std::to_string(tid) + " " + Iqn(id) + " 1";
    if (chap) r.provider_auth = "CHAP " + chap->first + " " + chap->second;
    return r;
  }

  // Cinder's persist file (TgtAdm.VOLUME_CONF), for an operator's tgt-admin; best effort.
  void WritePersistFile(const TargetVolume& v, const std::string& iqn,
                        const std::optional<std::pair<std::string, std::string>>& chap) {
    if (mkdir(volumes_dir_.c_str(), 0700) != 0 && errno != EEXIST) return;
    const std::string path = PersistPath(v.id);
    const std::string tmp = path + ".tmp";
    {
      int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);  // it may hold a secret
      if (fd < 0) return;
      std::string text =
          "\n<target " + iqn + ">\n    backing-store " + v.path + "\n    driver " + b_.target_protocol + "\n";
      if (chap) text += "    incominguser " + chap->first + " " + chap->second + "\n";
      if (!b_.iscsi_target_flags.empty()) text += "    bsoflags " + b_.iscsi_target_flags + "\n";
      text += std::string("    write-cache ") + (b_.iscsi_write_cache ? "on" : "off") + "\n</target>\n";
      bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      close(fd);
      if (!ok) return;
    }
    std::rename(tmp.c_str(), path.c_str());
  }

  BackendOptions b_;
  std::string ip_;
  std::string volumes_dir_;
  std::mutex mu_;  // one change of tgtd at a time from this process (tids are chosen here)
};

class LocalTarget : public Target {
 public:
  std::string DriverVolumeType() const override { return "local"; }
  Status ValidateConnector(const json::Value&) const override { return Status::OK(); }
  Result<ExportRecord> CreateExport(const TargetVolume&) override { return ExportRecord{}; }
  Status RemoveExport(const TargetVolume&) override { return Status::OK(); }
  Result<json::Value> ConnectionData(const TargetVolume& v) override {
    json::Value d = json::Value::MakeObject();
    d.Set("device_path", v.path);
    d.Set("encrypted", false);
    return d;
  }
  Result<std::vector<std::string>> ListExports() override { return std::vector<std::string>{}; }
  bool Reachable() override { return true; }
  Result<std::unique_ptr<WriteHold>> HoldWrites(int) override { return std::unique_ptr<WriteHold>(new NoHold()); }
};

}  // namespace

std::unique_ptr<Target> NewLocalTarget() { return std::make_unique<LocalTarget>(); }

Result<std::unique_ptr<Target>> OpenTarget(const BackendOptions& b, const std::string& my_ip,
                                           const std::string& state_path) {
  if (b.target_helper == "fake" || b.target_helper == "none") return NewLocalTarget();
  if (b.target_helper != "tgtadm") {
    return InvalidArgument("[" + b.name + "] target_helper: " + b.target_helper +
                           " is not supported here (tgtadm, fake)");
  }
  if (b.target_protocol != "iscsi") {
    return InvalidArgument("[" + b.name + "] target_protocol: " + b.target_protocol +
                           " is not supported with tgtadm here (iscsi)");
  }
  std::string ip = b.target_ip_address.empty() || b.target_ip_address == "$my_ip" ? my_ip : b.target_ip_address;
  std::string dir = b.volumes_dir.empty() ? state_path + "/targets" : b.volumes_dir;
  return std::unique_ptr<Target>(std::make_unique<TgtAdmTarget>(b, ip, dir));
}

}  // namespace cinder

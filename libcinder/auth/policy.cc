// Policy: the code defaults (policy_defaults.cc) overridden by the policy file, compiled into a
// RuleSet that Enforce walks without allocating (policy_parser.cc). The file is read with
// yaml-cpp (JSON is YAML) and read again when it changes: Enforce looks at its mtime, size and
// inode at most once a second, and a new RuleSet replaces the old one in one atomic step, so a
// request sees the old rules or the new ones, never a mix (each thread keeps a reference to the
// rules it last used, and looks for newer ones only when the generation moved on). A file that stops parsing keeps the
// last good rules (and is logged once); one that goes away leaves the defaults, as at start.
#include "auth/policy.h"

#include <sys/stat.h>
#include <time.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "auth/policy_internal.h"
#include "cinder/env.h"
#include "common/log.h"

namespace cinder::auth {

using policy_internal::Check;
using policy_internal::CheckType;
using policy_internal::RuleDefault;
using policy_internal::RuleSet;

namespace {

constexpr char kLog[] = "cinder";
constexpr std::chrono::seconds kReloadInterval{1};

// A rule's default, parsed.
struct ParsedDefault {
  std::string name;
  std::string check_text;
  Check check;
  std::string deprecated_name;
  std::string deprecated_text;
  std::optional<Check> deprecated;
};

// What a policy file says: rule name -> check.
using FileRules = std::map<std::string, Check>;

Status ParseDefaults(std::span<const RuleDefault> table, std::vector<ParsedDefault>* out) {
  for (const RuleDefault& d : table) {
    ParsedDefault p{d.name, d.check, {}, {}, {}, {}};
    auto check = policy_internal::ParseRule(d.check);
    if (!check.ok()) return Internal("policy default " + p.name + ": " + check.status().message());
    p.check = std::move(*check);
    if (d.deprecated_check != nullptr) {
      p.deprecated_name = *d.deprecated_name == '\0' ? p.name : d.deprecated_name;
      p.deprecated_text = d.deprecated_check;
      auto deprecated = policy_internal::ParseRule(d.deprecated_check);
      if (!deprecated.ok()) return Internal("policy default " + p.name + ": " + deprecated.status().message());
      p.deprecated = std::move(*deprecated);
    }
    out->push_back(std::move(p));
  }
  return Status::OK();
}

// --- The policy file ---------------------------------------------------------------------------

Result<Check> ParseFileValue(const YAML::Node& value) {
  if (value.IsNull()) return policy_internal::ParseRule("");  // oslo.policy: None is "always"
  if (value.IsScalar()) return policy_internal::ParseRule(value.Scalar());
  if (!value.IsSequence()) return InvalidArgument("a rule must be a check string");
  std::vector<std::vector<std::string>> list;  // the old list-of-lists syntax
  for (const YAML::Node& inner : value) {
    if (inner.IsScalar()) {
      list.push_back({inner.Scalar()});
      continue;
    }
    if (!inner.IsSequence()) return InvalidArgument("a rule's list holds check strings or lists of them");
    list.emplace_back();
    for (const YAML::Node& item : inner) {
      if (!item.IsScalar()) return InvalidArgument("a rule's inner list holds check strings");
      list.back().push_back(item.Scalar());
    }
  }
  return policy_internal::ParseListRule(list);
}

std::string Quoted(const YAML::Node& value) { return value.IsScalar() ? ": '" + value.Scalar() + "'" : ""; }

// InvalidArgument naming the file (and the rule) for a file that does not parse.
Result<FileRules> ReadPolicyFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("policy file " + path + ": " + e.what());
  }
  FileRules rules;
  if (root.IsNull()) return rules;
  if (!root.IsMap()) return InvalidArgument("policy file " + path + ": not a mapping of rule names to check strings");
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) return InvalidArgument("policy file " + path + ": a rule name must be a string");
    const std::string& name = entry.first.Scalar();
    auto check = ParseFileValue(entry.second);
    if (!check.ok()) {
      return InvalidArgument("policy file " + path + ": rule \"" + name + "\": " + check.status().message() +
                             Quoted(entry.second));
    }
    rules[name] = std::move(*check);
  }
  return rules;
}

// What the file looked like when last read; any change means reading it again.
struct FileStamp {
  bool exists = false;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t size = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp StampOf(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  auto ns = [](const timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; };
  return {true, ns(st.st_mtim), ns(st.st_ctim), st.st_size, st.st_ino, st.st_dev};
}

// policy_file as oslo.config finds it: relative to the configuration file's directory. Without
// a configuration file (options made in code) a relative name finds nothing.
std::string PolicyPath(const Options& options) {
  namespace fs = std::filesystem;
  const std::string& file = options.auth.policy_file;
  if (file.empty() || fs::path(file).is_absolute()) return file;
  std::error_code ec;
  if (options.origin.empty() || !fs::is_regular_file(options.origin, ec)) return "";
  return (fs::path(options.origin).parent_path() / file).string();
}

// --- Compiling the rules -----------------------------------------------------------------------

// The check a default stands for, given the file (oslo.policy's _handle_deprecated_rule).
Check Effective(const ParsedDefault& d, const FileRules& file, bool enforce_new_defaults) {
  if (!d.deprecated) return d.check;
  if (d.deprecated_name != d.name) {
    // A file that still overrides the rule by its old name keeps doing so.
    auto old = file.find(d.deprecated_name);
    if (old != file.end()) {
      std::string text = old->second.ToString();
      if (text != d.deprecated->ToString() && text != "rule:" + d.name) return old->second;
    }
  }
  if (enforce_new_defaults || d.deprecated_text == d.check_text) return d.check;
  Check either;
  either.type = CheckType::kOr;
  either.children = {d.check, *d.deprecated};
  return either;
}

void Add(RuleSet* rules, const std::string& name, Check check) {
  rules->index.emplace(name, static_cast<int>(rules->checks.size()));
  rules->names.push_back(name);
  rules->checks.push_back(std::move(check));
}

// Points every rule: check at its rule's index; collects the names that are not defined.
void Resolve(Check* check, const RuleSet& rules, std::vector<std::string>* undefined) {
  if (check->type == CheckType::kRule) {
    check->rule = rules.Find(check->match);
    if (check->rule < 0) undefined->push_back(check->match);
  }
  for (Check& child : check->children) Resolve(&child, rules, undefined);
}

// Rule references, followed from each rule, must end: a cycle would never finish evaluating,
// and a very long chain could exhaust a stack.
class ChainCheck {
 public:
  explicit ChainCheck(const RuleSet& rules) : rules_(rules), depth_(rules.checks.size(), kUnvisited) {}

  Status Run() {
    for (size_t i = 0; i < rules_.checks.size(); ++i) CINDER_RETURN_IF_ERROR(Visit(static_cast<int>(i)).status());
    return Status::OK();
  }

 private:
  static constexpr int kUnvisited = -1;
  static constexpr int kInProgress = -2;
  static constexpr int kMaxChain = 64;

  Result<int> Visit(int rule) {
    if (depth_[rule] == kInProgress) {
      return InvalidArgument("rule \"" + rules_.names[rule] + "\" is part of a cyclical reference");
    }
    if (depth_[rule] != kUnvisited) return depth_[rule];
    depth_[rule] = kInProgress;
    CINDER_ASSIGN_OR_RETURN(int deepest, Deepest(rules_.checks[rule]));
    if (deepest + 1 > kMaxChain) return InvalidArgument("rule \"" + rules_.names[rule] + "\" refers too deeply");
    return depth_[rule] = deepest + 1;
  }

  Result<int> Deepest(const Check& check) {
    int deepest = 0;
    if (check.type == CheckType::kRule && check.rule >= 0) {
      CINDER_ASSIGN_OR_RETURN(deepest, Visit(check.rule));
    }
    for (const Check& child : check.children) {
      CINDER_ASSIGN_OR_RETURN(int d, Deepest(child));
      deepest = std::max(deepest, d);
    }
    return deepest;
  }

  const RuleSet& rules_;
  std::vector<int> depth_;
};

Result<std::shared_ptr<const RuleSet>> Compile(const std::vector<ParsedDefault>& defaults, const FileRules& file,
                                               bool enforce_new_defaults) {
  auto rules = std::make_shared<RuleSet>();
  for (const auto& [name, check] : file) Add(rules.get(), name, check);
  for (const ParsedDefault& d : defaults) {
    if (rules->Find(d.name) < 0) Add(rules.get(), d.name, Effective(d, file, enforce_new_defaults));
  }
  std::vector<std::string> undefined;
  for (Check& check : rules->checks) Resolve(&check, *rules, &undefined);
  CINDER_RETURN_IF_ERROR(ChainCheck(*rules).Run());
  for (const std::string& name : undefined) {
    CINDER_LOG(kWarning, kLog) << "policy: rule:" << name << " is not defined; the checks naming it deny";
  }
  return std::shared_ptr<const RuleSet>(std::move(rules));
}

// --- The Policy --------------------------------------------------------------------------------

// Each Policy's id, never reused: what a thread's cached rules name their owner by.
std::atomic<uint64_t> g_next_policy_id{1};

// The rules a thread last used, per policy (a few slots: a process may hold several), so that
// an Enforce touches no shared reference count: an atomic shared_ptr load only after a reload.
struct CachedRules {
  uint64_t policy = 0;
  uint64_t generation = 0;
  std::shared_ptr<const RuleSet> rules;
};
thread_local CachedRules t_cached_rules[4];

class PolicyImpl final : public Policy {
 public:
  PolicyImpl(const Options& options, std::vector<ParsedDefault> defaults)
      : id_(g_next_policy_id.fetch_add(1)),
        env_(options.env != nullptr ? options.env : Env::Default()),
        path_(PolicyPath(options)),
        enforce_new_defaults_(options.auth.enforce_new_defaults),
        defaults_(std::move(defaults)) {}

  // Reads the file (when there is one) and compiles the rules.
  Status Load() {
    std::lock_guard<std::mutex> lock(reload_mu_);
    stamp_ = StampOf(path_);
    CINDER_ASSIGN_OR_RETURN(auto rules, ReadAndCompile(stamp_));
    Publish(std::move(rules));
    ScheduleNextCheck();
    return Status::OK();
  }

  Status Enforce(const RequestContext& ctx, std::string_view rule, const PolicyTarget& target) const override {
    if (Allowed(ctx, rule, target)) return Status::OK();
    return PermissionDenied("Policy doesn't allow " + std::string(rule) + " to be performed.");
  }

  bool Allowed(const RequestContext& ctx, std::string_view rule, const PolicyTarget& target) const override {
    MaybeReload();
    const RuleSet& rules = Current();
    int index = rules.Find(rule);
    if (index < 0) {
      LogUnknownOnce(rule);
      return false;
    }
    return policy_internal::Evaluate(rules.checks[index], rules, ctx, target);
  }

 private:
  // The rules in force, through this thread's cache.
  const RuleSet& Current() const {
    uint64_t generation = generation_.load(std::memory_order_acquire);
    CachedRules& cached = t_cached_rules[id_ % std::size(t_cached_rules)];
    if (cached.policy != id_ || cached.generation != generation) {
      // Rules newer than `generation` may come: the next call then loads them again.
      cached.rules = rules_.load();
      cached.policy = id_;
      cached.generation = generation;
    }
    return *cached.rules;
  }

  void Publish(std::shared_ptr<const RuleSet> rules) const {
    rules_.store(std::move(rules));
    generation_.fetch_add(1, std::memory_order_release);
  }

  Result<std::shared_ptr<const RuleSet>> ReadAndCompile(const FileStamp& stamp) const {
    FileRules file;
    if (stamp.exists) {
      CINDER_ASSIGN_OR_RETURN(file, ReadPolicyFile(path_));
    }
    auto rules = Compile(defaults_, file, enforce_new_defaults_);
    if (!rules.ok() && stamp.exists) return InvalidArgument("policy file " + path_ + ": " + rules.status().message());
    return rules;
  }

  // Monotonic nanoseconds. The real clock's coarse variant (a few ns, where a precise read
  // costs tens on some virtual machines: a fair share of an Enforce) is plenty for a once-a-
  // second check; a test's Env is asked.
  int64_t NowNs() const {
    if (env_ != Env::Default()) return env_->NowMonotonic().time_since_epoch().count();
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
  }

  void ScheduleNextCheck() const {
    next_check_ns_.store(NowNs() + std::chrono::nanoseconds(kReloadInterval).count(), std::memory_order_relaxed);
  }

  // At most once a second, one caller looks at the file and reads it again if it changed.
  void MaybeReload() const {
    if (path_.empty()) return;
    int64_t now = NowNs();
    int64_t due = next_check_ns_.load(std::memory_order_relaxed);
    if (now < due) return;
    int64_t next = now + std::chrono::nanoseconds(kReloadInterval).count();
    if (!next_check_ns_.compare_exchange_strong(due, next, std::memory_order_relaxed)) return;
    std::unique_lock<std::mutex> lock(reload_mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    FileStamp stamp = StampOf(path_);
    if (stamp == stamp_) return;
    stamp_ = stamp;
    auto rules = ReadAndCompile(stamp);
    if (!rules.ok()) {
      CINDER_LOG(kError, kLog) << "policy: keeping the rules in force: " << rules.status().message();
      return;
    }
    Publish(std::move(*rules));
    CINDER_LOG(kInfo, kLog) << "policy: " << (stamp.exists ? "read " + path_ + " again" : path_ + " is gone: defaults");
  }

  void LogUnknownOnce(std::string_view rule) const {
    std::lock_guard<std::mutex> lock(unknown_mu_);
    if (unknown_logged_.emplace(rule).second) {
      CINDER_LOG(kError, kLog) << "policy: no rule named " << rule << " (denied)";
    }
  }

  const uint64_t id_;
  Env* env_;
  std::string path_;  // "" when there is no file to read
  bool enforce_new_defaults_;
  std::vector<ParsedDefault> defaults_;
  mutable std::atomic<std::shared_ptr<const RuleSet>> rules_;
  mutable std::atomic<uint64_t> generation_{0};    // counts the rule sets published
  mutable std::atomic<int64_t> next_check_ns_{0};  // NowNs()
  mutable std::mutex reload_mu_;
  mutable FileStamp stamp_;  // guarded by reload_mu_
  mutable std::mutex unknown_mu_;
  mutable std::unordered_set<std::string> unknown_logged_;  // guarded by unknown_mu_
};

}  // namespace

Result<std::shared_ptr<Policy>> Policy::Open(const Options& options) {
  std::vector<ParsedDefault> defaults;
  CINDER_RETURN_IF_ERROR(ParseDefaults(policy_internal::CinderRuleDefaults(), &defaults));
  CINDER_RETURN_IF_ERROR(ParseDefaults(policy_internal::IdentityRuleDefaults(), &defaults));
  auto policy = std::make_shared<PolicyImpl>(options, std::move(defaults));
  CINDER_RETURN_IF_ERROR(policy->Load());
  return std::shared_ptr<Policy>(std::move(policy));
}

}  // namespace cinder::auth

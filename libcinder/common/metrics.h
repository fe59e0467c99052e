// Operational metrics in Prometheus' text exposition format (version 0.0.4), written by our own
// small module rather than prometheus-cpp (see docs/metrics.md for why).
//
// On the request path a metric costs a relaxed atomic add: counters and histogram buckets are
// std::atomic, and a series is found through a per-thread cache, so a thread takes a family's
// mutex only the first time it meets a label set (the series are never removed, so the
// pointers it caches stay valid). A scrape (Registry::Text) reads the atomics and copies the
// sections that background threads prepared (Section): nothing on it waits for the database.
//
// Labels never carry project or user ids, nor a resource id: their values come from small
// fixed sets (route templates, methods, statuses, backends, RPC methods).
#ifndef CINDER_COMMON_METRICS_H_
#define CINDER_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cinder::metrics {

// The Content-Type of the text format.
inline constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

class Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  void Add(double d) { v_.fetch_add(d, std::memory_order_relaxed); }
  double Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Fixed upper bounds (sorted, without +Inf); a count per bucket and the sum of observations.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double v);
  // The cumulative counts per bound, then +Inf (== the count), read once each.
  std::vector<uint64_t> Cumulative() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_->size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

// Bounds for latencies in seconds: 1 ms to 10 s.
const std::vector<double>& LatencyBuckets();
// Bounds for long operations in seconds (a backup, a restore): 1 s to 6 h.
const std::vector<double>& DurationBuckets();

enum class Type { kCounter, kGauge, kHistogram };

// One metric family: a name, its help, its label names and its series.
class Family {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::vector<double> bounds = {});
  ~Family();
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // The series of these label values (as many as label names, in their order), made the first
  // time it is asked for. Thread-safe; lock-free once this thread has seen the label set.
  Counter& CounterWith(std::initializer_list<std::string_view> values) { return *static_cast<Counter*>(Get(values)); }
  Gauge& GaugeWith(std::initializer_list<std::string_view> values) { return *static_cast<Gauge*>(Get(values)); }
  Histogram& HistogramWith(std::initializer_list<std::string_view> values) {
    return *static_cast<Histogram*>(Get(values));
  }

  void AppendText(std::string* out) const;

 private:
  struct Series;
  void* Get(std::initializer_list<std::string_view> values);

  const std::string name_, help_;
  const Type type_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
  std::vector<std::string> le_;  // the bounds as `le` values, then +Inf
  const uint64_t id_;            // for the per-thread caches
  mutable std::mutex mu_;        // series_: a new label set, a scrape
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;
};

// Text that a background thread renders in advance (the database's counts, the pools'
// capacity); a scrape copies the last one. Holds complete families (HELP, TYPE, samples).
class Section {
 public:
  void Set(std::string text);
  std::shared_ptr<const std::string> Get() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const std::string> text_ = std::make_shared<const std::string>();
};

// The metrics of a process. Families live as long as the registry (the process's Default()
// lives as long as the process), so callers may keep the references it returns.
class Registry {
 public:
  static Registry& Default();

  // The family of that name, made on the first call; a second call with the same name returns
  // the same family (its type, help and labels must be the same).
  Family& AddCounter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family& AddGauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family& AddHistogram(const std::string& name, const std::string& help, std::vector<std::string> labels,
                       const std::vector<double>& bounds);

  // A section under `key`, shown while the returned pointer lives; a later section of the same
  // key replaces it (e.g. a service started again in the same process).
  std::shared_ptr<Section> AddSection(const std::string& key);

  // The exposition text: every family with at least one series, then the sections.
  std::string Text() const;

 private:
  Family& Add(const std::string& name, const std::string& help, Type type, std::vector<std::string> labels,
              std::vector<double> bounds);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
  std::map<std::string, std::weak_ptr<Section>> sections_;
  mutable std::atomic<size_t> last_families_size_{0};  // to reserve the next scrape's text at once
};

// Writes families in the text format, for sections: Begin then the samples of that family.
class TextWriter {
 public:
  explicit TextWriter(std::string* out) : out_(out) {}
  void Begin(std::string_view name, std::string_view help, Type type);
  // `name` is the family's name, or with _bucket/_sum/_count for histograms.
  void Sample(std::string_view name, std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              double value);
  void Sample(std::string_view name, const std::vector<std::pair<std::string_view, std::string_view>>& labels,
              double value);

 private:
  std::string* out_;
};

// Text helpers (exposed for the tests).
void AppendEscapedLabelValue(std::string* out, std::string_view v);  // \\ \" \n
void AppendValue(std::string* out, double v);                        // Go's float syntax: +Inf, NaN

}  // namespace cinder::metrics

#endif  // CINDER_COMMON_METRICS_H_

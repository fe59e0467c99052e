#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

namespace cinder::metrics {

namespace {

// Families get an id of their own for the per-thread caches (never an address, which a
// destroyed registry's family could leave to a new one).
std::atomic<uint64_t> next_family_id{1};

const char* TypeName(Type t) {
  switch (t) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

void AppendUint(std::string* out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// HELP text: backslash and newline escaped.
void AppendHelp(std::string* out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void AppendHeader(std::string* out, std::string_view name, std::string_view help, Type type) {
  out->append("# HELP ").append(name).push_back(' ');
  AppendHelp(out, help);
  out->append("\n# TYPE ").append(name).push_back(' ');
  out->append(TypeName(type)).push_back('\n');
}

}  // namespace

void AppendEscapedLabelValue(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void AppendValue(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    out->append(buf, r.ptr);
  }
}

// --- Histogram ------------------------------------------------------------------------------

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  if (!(v >= 0)) return;  // NaN or negative: no latency or size, and _sum must stay a number
  const auto& b = *bounds_;
  const size_t i = static_cast<size_t>(std::lower_bound(b.begin(), b.end(), v) - b.begin());  // v <= le
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::Cumulative() const {
  std::vector<uint64_t> out(bounds_->size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> b = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

const std::vector<double>& DurationBuckets() {
  static const std::vector<double> b = {1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 10800, 21600};
  return b;
}

// --- Family ---------------------------------------------------------------------------------

struct Family::Series {
  std::vector<std::string> values;
  std::string labels;  // a="x",b="y": rendered once
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<Histogram> histogram;
};

Family::Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
               std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)),
      id_(next_family_id.fetch_add(1)) {
  for (double b : bounds_) {
    le_.emplace_back();
    AppendValue(&le_.back(), b);
  }
  le_.push_back("+Inf");
  if (label_names_.empty()) Get({});  // an unlabelled series exists from the start (shows 0)
}

Family::~Family() = default;

void* Family::Get(std::initializer_list<std::string_view> values) {
  if (values.size() != label_names_.size()) {
    throw std::logic_error("metric " + name_ + ": " + std::to_string(values.size()) + " label values for " +
                           std::to_string(label_names_.size()) + " labels");
  }
  // This thread's series by family id and label values: found without a lock once seen.
  thread_local std::unordered_map<std::string, void*> cache;
  std::string key;
  key.reserve(64);
  key.append(reinterpret_cast<const char*>(&id_), sizeof(id_));
  for (auto v : values) key.append(v).push_back('\0');
  if (auto it = cache.find(key); it != cache.end()) return it->second;

  std::vector<std::string> labels(values.begin(), values.end());
  std::lock_guard<std::mutex> l(mu_);
  auto& s = series_[labels];
  if (!s) {
    s = std::make_unique<Series>();
    s->values = std::move(labels);
    for (size_t i = 0; i < label_names_.size(); ++i) {
      if (i) s->labels.push_back(',');
      s->labels.append(label_names_[i]).append("=\"");
      AppendEscapedLabelValue(&s->labels, s->values[i]);
      s->labels.push_back('"');
    }
    switch (type_) {
      case Type::kCounter: s->counter = std::make_unique<Counter>(); break;
      case Type::kGauge: s->gauge = std::make_unique<Gauge>(); break;
      case Type::kHistogram: s->histogram = std::make_unique<Histogram>(&bounds_); break;
    }
  }
  void* p = s->counter ? static_cast<void*>(s->counter.get())
            : s->gauge ? static_cast<void*>(s->gauge.get())
                       : static_cast<void*>(s->histogram.get());
  cache.emplace(std::move(key), p);
  return p;
}

void Family::AppendText(std::string* out) const {
  // The series as they are now, copied under the lock and rendered without it: a request
  // thread adding its first series of a label set never waits for a scrape. Series are never
  // removed, and their label text never changes once made.
  std::vector<const Series*> series;
  {
    std::lock_guard<std::mutex> l(mu_);
    series.reserve(series_.size());
    for (const auto& entry : series_) series.push_back(entry.second.get());
  }
  if (series.empty()) return;
  AppendHeader(out, name_, help_, type_);
  for (const Series* s : series) {
    // name{labels} or name (no labels), with `suffix` after the name.
    auto begin = [&](std::string_view suffix) {
      out->append(name_).append(suffix);
      if (!s->labels.empty()) out->append("{").append(s->labels).append("}");
      out->push_back(' ');
    };
    if (type_ != Type::kHistogram) {
      begin("");
      if (s->counter) {
        AppendUint(out, s->counter->Value());
      } else {
        AppendValue(out, s->gauge->Value());
      }
      out->push_back('\n');
      continue;
    }
    const auto cumulative = s->histogram->Cumulative();
    for (size_t i = 0; i < cumulative.size(); ++i) {
      out->append(name_).append("_bucket{").append(s->labels);
      if (!s->labels.empty()) out->push_back(',');
      out->append("le=\"").append(le_[i]).append("\"} ");
      AppendUint(out, cumulative[i]);
      out->push_back('\n');
    }
    begin("_sum");
    AppendValue(out, s->histogram->Sum());
    out->push_back('\n');
    begin("_count");
    AppendUint(out, cumulative.back());
    out->push_back('\n');
  }
}

// --- Section, Registry ------------------------------------------------------------------------

void Section::Set(std::string text) {
  auto p = std::make_shared<const std::string>(std::move(text));
  std::lock_guard<std::mutex> l(mu_);
  text_.swap(p);
}  // the old text goes after the lock is released

std::shared_ptr<const std::string> Section::Get() const {
  std::lock_guard<std::mutex> l(mu_);
  return text_;
}

Registry& Registry::Default() {
  static auto* r = new Registry();  // never destroyed: threads may still count at exit
  return *r;
}

Family& Registry::Add(const std::string& name, const std::string& help, Type type, std::vector<std::string> labels,
                      std::vector<double> bounds) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& f : families_) {
    if (f->name() != name) continue;
    if (f->type() != type || f->label_names() != labels) {
      throw std::logic_error("metric " + name + " registered twice with different types or labels");
    }
    return *f;
  }
  families_.push_back(std::make_unique<Family>(name, help, type, std::move(labels), std::move(bounds)));
  return *families_.back();
}

Family& Registry::AddCounter(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  return Add(name, help, Type::kCounter, std::move(labels), {});
}

Family& Registry::AddGauge(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  return Add(name, help, Type::kGauge, std::move(labels), {});
}

Family& Registry::AddHistogram(const std::string& name, const std::string& help, std::vector<std::string> labels,
                               const std::vector<double>& bounds) {
  if (!std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end()) {
    throw std::logic_error("metric " + name + ": histogram bounds must increase");
  }
  return Add(name, help, Type::kHistogram, std::move(labels), bounds);
}

std::shared_ptr<Section> Registry::AddSection(const std::string& key) {
  auto s = std::make_shared<Section>();
  std::lock_guard<std::mutex> l(mu_);
  sections_[key] = s;
  return s;
}

std::string Registry::Text() const {
  std::vector<Family*> families;
  std::vector<std::shared_ptr<const std::string>> texts;
  {
    std::lock_guard<std::mutex> l(mu_);  // scrapes and registrations only
    families.reserve(families_.size());
    for (const auto& f : families_) families.push_back(f.get());
    for (const auto& [key, weak] : sections_) {
      if (auto s = weak.lock()) texts.push_back(s->Get());
    }
  }
  size_t reserve = last_families_size_.load(std::memory_order_relaxed) + 4096;
  for (const auto& t : texts) reserve += t->size();
  std::string out;
  out.reserve(reserve);
  for (const Family* f : families) f->AppendText(&out);
  last_families_size_.store(out.size(), std::memory_order_relaxed);
  for (const auto& t : texts) out.append(*t);
  return out;
}

// --- TextWriter -------------------------------------------------------------------------------

void TextWriter::Begin(std::string_view name, std::string_view help, Type type) {
  AppendHeader(out_, name, help, type);
}

void TextWriter::Sample(std::string_view name,
                        std::initializer_list<std::pair<std::string_view, std::string_view>> labels, double value) {
  Sample(name, std::vector<std::pair<std::string_view, std::string_view>>(labels), value);
}

void TextWriter::Sample(std::string_view name, const std::vector<std::pair<std::string_view, std::string_view>>& labels,
                        double value) {
  out_->append(name);
  if (!labels.empty()) {
    out_->push_back('{');
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_->push_back(',');
      first = false;
      out_->append(k).append("=\"");
      AppendEscapedLabelValue(out_, v);
      out_->push_back('"');
    }
    out_->push_back('}');
  }
  out_->push_back(' ');
  AppendValue(out_, value);
  out_->push_back('\n');
}

}  // namespace cinder::metrics

// JsonWriter: a small, fast JSON emitter that keeps keys in the order written.
#ifndef CINDER_COMMON_JSON_WRITER_H_
#define CINDER_COMMON_JSON_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace cinder {

class JsonWriter {
 public:
  JsonWriter() = default;
  // Writes into `buffer`'s storage (cleared first): a caller that keeps one large buffer per
  // thread spares each long list the page faults of fresh memory.
  explicit JsonWriter(std::string buffer) : out_(std::move(buffer)) { out_.clear(); }

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Inside an object: the next value's key.
  JsonWriter& Key(std::string_view k);
  // A key or string written as a literal in the code: it must need no escaping, so it is
  // copied without being scanned (the hot path of every view).
  template <size_t N>
  JsonWriter& Key(const char (&k)[N]) {
    Separate();
    out_ += '"';
    out_.append(k, N - 1);
    out_.append("\": ", 3);
    after_key_ = true;
    return *this;
  }
  template <size_t N>
  JsonWriter& String(const char (&v)[N]) {
    Separate();
    out_ += '"';
    out_.append(v, N - 1);
    out_ += '"';
    return *this;
  }
  JsonWriter& String(std::string_view v);
  JsonWriter& Int(int64_t v);
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // A value already in JSON (a stored object), copied as it is.
  JsonWriter& Raw(std::string_view json) {
    Separate();
    out_.append(json);
    return *this;
  }
  // A string, or null when absent.
  JsonWriter& OptString(const std::optional<std::string>& v);

  // Pre-allocates room for `bytes` of output.
  void Reserve(size_t bytes) { out_.reserve(bytes); }
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  // Writes ", " before every element of a container but the first.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
    } else if (depth_ > 0) {
      if (has_element_[depth_ - 1]) out_.append(", ", 2);
      has_element_[depth_ - 1] = 1;
    }
  }
  void Open(char c);
  void Close(char c);
  std::string out_;
  static constexpr int kMaxDepth = 64;  // the views nest a few levels; deeper is a bug
  char has_element_[kMaxDepth] = {};    // per open container
  int depth_ = 0;
  bool after_key_ = false;
};

// Appends the characters of `s` escaped for the inside of a JSON string (no quotes). Valid
// UTF-8 is copied; a byte that is not part of valid UTF-8 becomes \ufffd, so the output is
// always valid JSON.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace cinder

#endif  // CINDER_COMMON_JSON_WRITER_H_

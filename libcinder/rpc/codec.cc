#include "rpc/codec.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/digest.h"
#include "common/json.h"
#include "common/json_writer.h"

namespace cinder::rpc {

namespace {}  // namespace

// Written straight to text by JsonWriter (the fastest writer measured, bench/json/); read
// back through the JSON document model.
struct Writer::Impl {
  JsonWriter w;
  Impl() { w.BeginObject(); }
};

Writer::Writer() : impl_(std::make_unique<Impl>()) {}
Writer::~Writer() = default;

void Writer::operator()(std::string_view key, const std::string& v) { impl_->w.Key(key).String(v); }
void Writer::operator()(std::string_view key, int64_t v) { impl_->w.Key(key).Int(v); }
void Writer::operator()(std::string_view key, double v) {
  // JSON has no inf or NaN: they travel as strings (a driver may report infinite capacity).
  if (std::isnan(v)) {
    impl_->w.Key(key).String("nan");
  } else if (std::isinf(v)) {
    impl_->w.Key(key).String(v > 0 ? "inf" : "-inf");
  } else {
    impl_->w.Key(key).Double(v);
  }
}
void Writer::operator()(std::string_view key, bool v) { impl_->w.Key(key).Bool(v); }
void Writer::operator()(std::string_view key, const Bytes& v) { impl_->w.Key(key).String(ToBase64(v.data)); }
void Writer::operator()(std::string_view key, const std::vector<std::string>& v) {
  impl_->w.Key(key).BeginArray();
  for (const auto& s : v) impl_->w.String(s);
  impl_->w.EndArray();
}
void Writer::operator()(std::string_view key, const std::map<std::string, std::string>& v) {
  impl_->w.Key(key).BeginObject();
  for (const auto& [k, s] : v) impl_->w.Key(k).String(s);
  impl_->w.EndObject();
}
void Writer::Begin(std::string_view key) { impl_->w.Key(key).BeginObject(); }
void Writer::End() { impl_->w.EndObject(); }
std::string Writer::Finish() {
  impl_->w.EndObject();
  return impl_->w.Take();
}

struct Reader::Impl {
  json::Value root;
  std::vector<const json::Value*> stack;
  std::string path;  // "volume." inside a nested message, for error messages
};

Reader::Reader() : impl_(std::make_unique<Impl>()) {}
Reader::Reader(Reader&&) noexcept = default;
Reader::~Reader() = default;

Result<Reader> Reader::Open(std::string_view text) {
  auto parsed = json::Parse(text);
  if (!parsed.ok()) return InvalidArgument("malformed RPC message: " + parsed.status().message());
  if (!parsed->is_object()) return InvalidArgument("malformed RPC message: not a JSON object");
  Reader r;
  r.impl_->root = std::move(parsed).value();
  r.impl_->stack.push_back(&r.impl_->root);
  return r;
}

bool Reader::Has(std::string_view key) const {
  const json::Value* v = impl_->stack.back()->Find(key);
  return v && !v->is_null();
}

namespace {

// The member `key` of `top` when it has the type `ok` accepts; else records why in `status`.
template <class Pred>
const json::Value* Member(const json::Value* top, const std::string& path, std::string_view key, Status* status,
                          const char* type, Pred ok) {
  if (!status->ok()) return nullptr;
  const json::Value* v = top->Find(key);
  if (!v) {
    *status = InvalidArgument("malformed RPC message: field '" + path + std::string(key) + "' is missing");
    return nullptr;
  }
  if (!ok(*v)) {
    *status = InvalidArgument("malformed RPC message: field '" + path + std::string(key) + "' is not " + type);
    return nullptr;
  }
  return v;
}

}  // namespace

void Reader::operator()(std::string_view key, std::string& v) {
  if (auto m = Member(impl_->stack.back(), impl_->path, key, &status_, "a string",
                      [](const json::Value& j) { return j.is_string(); })) {
    v = m->as_string();
  }
}
void Reader::operator()(std::string_view key, int64_t& v) {
  if (auto m = Member(impl_->stack.back(), impl_->path, key, &status_, "an integer",
                      [](const json::Value& j) { return j.is_int(); })) {
    v = m->as_int();
  }
}
void Reader::operator()(std::string_view key, int& v) {
  if (auto m = Member(impl_->stack.back(), impl_->path, key, &status_, "a 32-bit integer", [](const json::Value& j) {
        return j.is_int() && j.as_int() >= INT32_MIN && j.as_int() <= INT32_MAX;
      })) {
    v = static_cast<int>(m->as_int());
  }
}
void Reader::operator()(std::string_view key, double& v) {
  auto special = [](const json::Value& j) {
    return j.is_string() && (j.as_string() == "inf" || j.as_string() == "-inf" || j.as_string() == "nan");
  };
  if (auto m = Member(impl_->stack.back(), impl_->path, key, &status_, "a number",
                      [&](const json::Value& j) { return j.is_number() || special(j); })) {
    if (m->is_number()) {
      v = m->as_double();
    } else {
      const std::string& s = m->as_string();
      v = s == "nan" ? std::nan("") : s == "inf" ? HUGE_VAL : -HUGE_VAL;
    }
  }
}
void Reader::operator()(std::string_view key, bool& v) {
  if (auto m = Member(impl_->stack.back(), impl_->path, key, &status_, "a boolean",
                      [](const json::Value& j) { return j.is_bool(); })) {
    v = m->as_bool();
  }
}
void Reader::operator()(std::string_view key, Bytes& v) {
  if (auto m = Member(impl_->stack.back(), impl_->path, key, &status_, "base64 data",
                      [](const json::Value& j) { return j.is_string(); })) {
    if (!FromBase64(m->as_string(), &v.data)) {
      status_ =
          InvalidArgument("malformed RPC message: field '" + impl_->path + std::string(key) + "' is not base64 data");
    }
  }
}
void Reader::operator()(std::string_view key, std::vector<std::string>& v) {
  auto m = Member(impl_->stack.back(), impl_->path, key, &status_, "a list of strings", [](const json::Value& j) {
    if (!j.is_array()) return false;
    for (const auto& e : j.as_array()) {
      if (!e.is_string()) return false;
    }
    return true;
  });
  if (!m) return;
  v.clear();
  for (const auto& e : m->as_array()) v.push_back(e.as_string());
}
void Reader::operator()(std::string_view key, std::map<std::string, std::string>& v) {
  auto m = Member(impl_->stack.back(), impl_->path, key, &status_, "an object of strings", [](const json::Value& j) {
    if (!j.is_object()) return false;
    for (const auto& [k, e] : j.as_object()) {
      if (!e.is_string()) return false;
    }
    return true;
  });
  if (!m) return;
  v.clear();
  for (const auto& [k, e] : m->as_object()) v[k] = e.as_string();
}
bool Reader::Begin(std::string_view key) {
  auto m = Member(impl_->stack.back(), impl_->path, key, &status_, "an object",
                  [](const json::Value& j) { return j.is_object(); });
  if (!m) return false;
  impl_->stack.push_back(m);
  impl_->path += std::string(key) + ".";
  return true;
}
void Reader::End() {
  impl_->stack.pop_back();
  std::string& p = impl_->path;  // "a.b." -> "a."
  const size_t dot = p.size() >= 2 ? p.rfind('.', p.size() - 2) : std::string::npos;
  p.resize(dot == std::string::npos ? 0 : dot + 1);
}

}  // namespace cinder::rpc

// Typed RPC messages: a message is a plain struct that lists its fields once,
//
//   struct ExtendVolume {
//     std::string volume_id;
//     int64_t new_size = 0;
//     template <class V> void Fields(V& v) { v("volume_id", volume_id); v("new_size", new_size); }
//   };
//
// and Encode / Decode turn it into the wire's JSON object and back. A field that is not
// std::optional must be present on receipt; a missing or mistyped field is InvalidArgument
// naming it, never a default. Field types: std::string, int64_t, int, double, bool, Bytes,
// std::vector<std::string>, std::map<std::string, std::string>, another message, and
// std::optional of any of these (absent when empty).
//
// Standard library only: the JSON library stays in codec.cc.
#ifndef CINDER_RPC_CODEC_H_
#define CINDER_RPC_CODEC_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cinder/status.h"

namespace cinder::rpc {

// Binary data (a volume's bytes): base64 on the wire.
struct Bytes {
  std::string data;
};

// A message with no fields (a cast's empty reply, a call without arguments).
struct Empty {
  template <class V>
  void Fields(V&) {}
};

template <class T>
concept Message = requires(T t, int& v) {
  t.Fields(v);
};

class Writer {
 public:
  Writer();
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void operator()(std::string_view key, const std::string& v);
  void operator()(std::string_view key, int64_t v);
  void operator()(std::string_view key, int v) { (*this)(key, static_cast<int64_t>(v)); }
  void operator()(std::string_view key, double v);
  void operator()(std::string_view key, bool v);
  void operator()(std::string_view key, const Bytes& v);
  void operator()(std::string_view key, const std::vector<std::string>& v);
  void operator()(std::string_view key, const std::map<std::string, std::string>& v);
  template <class T>
  void operator()(std::string_view key, const std::optional<T>& v) {
    if (v) (*this)(key, *v);
  }
  template <Message T>
  void operator()(std::string_view key, const T& v) {
    Begin(key);
    const_cast<T&>(v).Fields(*this);  // Fields only reads through a Writer
    End();
  }

  // The JSON text of what was written.
  std::string Finish();

 private:
  void Begin(std::string_view key);
  void End();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Reader {
 public:
  // InvalidArgument when `text` is not a JSON object.
  static Result<Reader> Open(std::string_view text);
  Reader(Reader&&) noexcept;
  ~Reader();

  void operator()(std::string_view key, std::string& v);
  void operator()(std::string_view key, int64_t& v);
  void operator()(std::string_view key, int& v);
  void operator()(std::string_view key, double& v);
  void operator()(std::string_view key, bool& v);
  void operator()(std::string_view key, Bytes& v);
  void operator()(std::string_view key, std::vector<std::string>& v);
  void operator()(std::string_view key, std::map<std::string, std::string>& v);
  template <class T>
  void operator()(std::string_view key, std::optional<T>& v) {
    if (!Has(key)) return;
    v.emplace();
    (*this)(key, *v);
  }
  template <Message T>
  void operator()(std::string_view key, T& v) {
    if (!Begin(key)) return;
    v.Fields(*this);
    End();
  }

  // OK, or the first field that was missing or of the wrong type.
  const Status& status() const { return status_; }

 private:
  Reader();
  bool Has(std::string_view key) const;
  bool Begin(std::string_view key);
  void End();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Status status_;
};

template <Message T>
std::string Encode(const T& message) {
  Writer w;
  const_cast<T&>(message).Fields(w);
  return w.Finish();
}

template <Message T>
Result<T> Decode(std::string_view text) {
  CINDER_ASSIGN_OR_RETURN(Reader r, Reader::Open(text));
  T message;
  message.Fields(r);
  if (!r.status().ok()) return r.status();
  return message;
}

}  // namespace cinder::rpc

#endif  // CINDER_RPC_CODEC_H_

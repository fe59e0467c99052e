#include "common/json_writer.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cinder {

namespace {

// 1 for the bytes that need a look: those JSON strings must escape (control characters, '"'
// and '\\'), and every byte of a multi-byte UTF-8 sequence, which must be valid to be copied.
struct EscapeTable {
  bool needs[256] = {};
  constexpr EscapeTable() {
    for (int c = 0; c < 0x20; ++c) needs[c] = true;
    for (int c = 0x80; c < 0x100; ++c) needs[c] = true;
    needs[static_cast<unsigned char>('"')] = true;
    needs[static_cast<unsigned char>('\\')] = true;
  }
};
constexpr EscapeTable kEscape;

// The length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no surrogates,
// nothing past U+10FFFF), or 0.
size_t Utf8Length(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < n || p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  }
  return n;
}

// Whether any of the 8 bytes of `w` may need a look (exact: a byte < 0x20, '"', '\', or one
// of a multi-byte UTF-8 sequence).
inline bool MayNeedEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  return (w | ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash)) & kHigh;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  const char* p = s.data();
  const char* end = p + s.size();
  const char* run = p;  // start of the pending run of bytes that need no escaping
  while (true) {
    // Eight bytes at a time while none needs escaping, then byte by byte.
    for (uint64_t w; end - p >= 8 && (std::memcpy(&w, p, 8), !MayNeedEscape(w));) p += 8;
    while (p < end && !kEscape.needs[static_cast<unsigned char>(*p)]) ++p;
    if (p == end) break;
    if (static_cast<unsigned char>(*p) >= 0x80) {
      // Valid UTF-8 is copied as it is; a byte that is not becomes U+FFFD, so the output
      // always parses.
      const size_t n =
          Utf8Length(reinterpret_cast<const unsigned char*>(p), reinterpret_cast<const unsigned char*>(end));
      if (n) {
        p += n;
        continue;
      }
      out->append(run, static_cast<size_t>(p - run));
      out->append("\\ufffd", 6);
      run = ++p;
      continue;
    }
    out->append(run, static_cast<size_t>(p - run));
    switch (*p) {
      case '"': out->append("\\\"", 2); break;
      case '\\': out->append("\\\\", 2); break;
      case '\n': out->append("\\n", 2); break;
      case '\r': out->append("\\r", 2); break;
      case '\t': out->append("\\t", 2); break;
      case '\b': out->append("\\b", 2); break;
      case '\f': out->append("\\f", 2); break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(*p));
        out->append(buf);
      }
    }
    run = ++p;
  }
  out->append(run, static_cast<size_t>(end - run));
}

void JsonWriter::Open(char c) {
  Separate();
  out_ += c;
  if (depth_ == kMaxDepth) std::abort();
  has_element_[depth_++] = 0;
}

void JsonWriter::Close(char c) {
  out_ += c;
  --depth_;
}

JsonWriter& JsonWriter::BeginObject() {
  Open('{');
  return *this;
}
JsonWriter& JsonWriter::EndObject() {
  Close('}');
  return *this;
}
JsonWriter& JsonWriter::BeginArray() {
  Open('[');
  return *this;
}
JsonWriter& JsonWriter::EndArray() {
  Close(']');
  return *this;
}
JsonWriter& JsonWriter::Key(std::string_view k) {
  Separate();
  out_ += '"';
  AppendJsonString(&out_, k);
  out_.append("\": ", 3);
  after_key_ = true;
  return *this;
}
JsonWriter& JsonWriter::String(std::string_view v) {
  Separate();
  out_ += '"';
  AppendJsonString(&out_, v);
  out_ += '"';
  return *this;
}
JsonWriter& JsonWriter::Int(int64_t v) {
  Separate();
  out_.append(std::to_string(v));
  return *this;
}
JsonWriter& JsonWriter::Double(double v) {
  Separate();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out_.append(buf);
  return *this;
}
JsonWriter& JsonWriter::Bool(bool v) {
  Separate();
  out_.append(v ? "true" : "false");
  return *this;
}
JsonWriter& JsonWriter::Null() {
  Separate();
  out_.append("null");
  return *this;
}
JsonWriter& JsonWriter::OptString(const std::optional<std::string>& v) { return v ? String(*v) : Null(); }

}  // namespace cinder

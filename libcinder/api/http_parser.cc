#include "api/http_parser.h"

#include <algorithm>
#include <cstring>

namespace cinder::api {

namespace {

// RFC 9110 tchar: what a method and a header name are made of.
bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

std::string LowerTrimmed(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  std::string out(s, b, e - b);
  for (char& c : out) c = Lower(c);
  return out;
}

// True when the comma-separated list `value` holds `token` (case-insensitive).
bool ListHas(const std::string& value, const char* token) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    if (LowerTrimmed(value.substr(start, comma - start)) == token) return true;
    start = comma + 1;
  }
  return false;
}

// Longest chunk-size line accepted: hex digits and chunk extensions nobody sends.
constexpr size_t kMaxChunkLine = 1024;

}  // namespace

void RequestParser::Reset() {
  request_ = HttpRequest();
  phase_ = Phase::kRequestLine;
  started_ = false;
  head_bytes_ = 0;
  header_count_ = 0;
  remaining_ = 0;
  error_status_ = 0;
  error_message_.clear();
}

RequestParser::State RequestParser::Fail(int status, std::string message) {
  if (error_status_ == 0) {
    error_status_ = status;
    error_message_ = std::move(message);
  }
  request_.keep_alive = false;
  return State::kError;
}

RequestParser::State RequestParser::Parse(const char* data, size_t len, size_t* consumed) {
  *consumed = 0;
  if (error_status_ != 0) return State::kError;
  if (len > 0) started_ = true;
  size_t pos = 0;
  while (true) {
    switch (phase_) {
      case Phase::kBody:
      case Phase::kChunkData: {
        const size_t take = static_cast<size_t>(std::min<int64_t>(remaining_, static_cast<int64_t>(len - pos)));
        request_.body.append(data + pos, take);
        pos += take;
        remaining_ -= static_cast<int64_t>(take);
        if (remaining_ > 0) {
          *consumed = pos;
          return State::kNeedMore;
        }
        phase_ = phase_ == Phase::kBody ? Phase::kDone : Phase::kChunkEnd;
        continue;
      }
      case Phase::kDone: *consumed = pos; return State::kDone;
      default: break;
    }
    // A line: the request line, a header, a chunk size, the end of a chunk, or a trailer.
    const char* start = data + pos;
    const void* nl = std::memchr(start, '\n', len - pos);
    const size_t partial = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : len - pos;
    // Refuse an over-long line as soon as it is over, not when (if ever) it ends.
    switch (phase_) {
      case Phase::kRequestLine: {
        // Not HTTP at all (a TLS handshake on the plain port, binary): say so at the first byte.
        // Checked before the length, over no more bytes than the length allows, so that the
        // answer is the same however the bytes arrive.
        const size_t scan = std::min(partial, limits_.max_request_line + 1);
        for (size_t i = 0; i < scan && start[i] != ' '; ++i) {
          if (!IsTokenChar(static_cast<unsigned char>(start[i])) && !(start[i] == '\r' && i + 1 == scan)) {
            return Fail(400, "Malformed request: this is not an HTTP request (TLS to a plain HTTP port?).");
          }
        }
        if (partial > limits_.max_request_line) {
          return Fail(414, "Request-URI Too Long: the request line is longer than " +
                               std::to_string(limits_.max_request_line) + " bytes.");
        }
        break;
      }
      case Phase::kHeaders:
      case Phase::kTrailers:
        if (partial > limits_.max_header_line) {
          return Fail(400, "Malformed request: a header line is longer than " +
                               std::to_string(limits_.max_header_line) + " bytes (max_header_line).");
        }
        if (head_bytes_ + partial > limits_.max_header_bytes) {
          return Fail(400, "Malformed request: the headers are larger than " +
                               std::to_string(limits_.max_header_bytes) + " bytes.");
        }
        break;
      default:
        if (partial > kMaxChunkLine) return Fail(400, "Malformed request: a chunk-size line is too long.");
        break;
    }
    if (nl == nullptr) {
      *consumed = pos;
      return State::kNeedMore;
    }
    size_t n = partial;
    if (n > 0 && start[n - 1] == '\r') --n;
    pos += partial + 1;
    switch (phase_) {
      case Phase::kRequestLine:
        if (n == 0) continue;  // empty lines before a request are ignored (RFC 9112 2.2)
        if (!RequestLine(start, n)) return State::kError;
        phase_ = Phase::kHeaders;
        break;
      case Phase::kHeaders:
        head_bytes_ += partial + 1;
        if (n == 0) {
          if (!EndOfHead()) return State::kError;
        } else if (!HeaderLine(start, n)) {
          return State::kError;
        }
        break;
      case Phase::kChunkSize: {
        int64_t size = 0;
        size_t i = 0;
        for (; i < n; ++i) {
          const char c = Lower(start[i]);
          int digit;
          if (c >= '0' && c <= '9') {
            digit = c - '0';
          } else if (c >= 'a' && c <= 'f') {
            digit = c - 'a' + 10;
          } else {
            break;
          }
          if (size > (limits_.max_body + 1) / 16 + 1) {  // already past any body we take
            return Fail(413, "Request is too large. The body is limited to " + std::to_string(limits_.max_body) +
                                 " bytes (osapi_max_request_body_size).");
          }
          size = size * 16 + digit;
        }
        // Extensions (";name=value") are ignored; anything else after the digits is not a size.
        size_t j = i;
        while (j < n && (start[j] == ' ' || start[j] == '\t')) ++j;
        if (i == 0 || (j < n && start[j] != ';')) return Fail(400, "Malformed request: bad chunk size.");
        if (static_cast<int64_t>(request_.body.size()) + size > limits_.max_body) {
          return Fail(413, "Request is too large. The body is limited to " + std::to_string(limits_.max_body) +
                               " bytes (osapi_max_request_body_size).");
        }
        remaining_ = size;
        phase_ = size == 0 ? Phase::kTrailers : Phase::kChunkData;
        break;
      }
      case Phase::kChunkEnd:
        if (n != 0) return Fail(400, "Malformed request: a chunk does not end where its size says.");
        phase_ = Phase::kChunkSize;
        break;
      case Phase::kTrailers:  // read and dropped, within the header limits
        head_bytes_ += partial + 1;
        if (n == 0) {
          phase_ = Phase::kDone;
        } else if (++header_count_ > limits_.max_headers) {
          return Fail(400, "Malformed request: more than " + std::to_string(limits_.max_headers) + " headers.");
        }
        break;
      default: break;
    }
  }
}

bool RequestParser::RequestLine(const char* p, size_t n) {
  const std::string_view line(p, n);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == 0 || sp2 == sp1) {
    Fail(400, "Malformed request: bad request line.");
    return false;
  }
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (target.empty() || target.find(' ') != std::string_view::npos) {
    Fail(400, "Malformed request: bad request line.");
    return false;
  }
  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) {
      Fail(400, "Malformed request: bad request line.");
      return false;
    }
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9') {
    Fail(400, "Malformed request: bad HTTP version.");
    return false;
  }
  if (version[5] != '1') {
    Fail(505, "HTTP version not supported: " + std::string(version) + " (HTTP/1.0 and HTTP/1.1 are).");
    return false;
  }
  request_.method.assign(p, sp1);
  request_.target.assign(target);
  request_.minor = version[7] - '0';
  return true;
}

bool RequestParser::HeaderLine(const char* p, size_t n) {
  if (++header_count_ > limits_.max_headers) {
    Fail(400, "Malformed request: more than " + std::to_string(limits_.max_headers) + " headers.");
    return false;
  }
  if (p[0] == ' ' || p[0] == '\t') {
    Fail(400, "Malformed request: folded header lines are not accepted.");
    return false;
  }
  size_t colon = 0;
  while (colon < n && IsTokenChar(static_cast<unsigned char>(p[colon]))) ++colon;
  if (colon == 0 || colon == n || p[colon] != ':') {
    Fail(400, "Malformed request: bad header line.");
    return false;
  }
  size_t b = colon + 1, e = n;
  while (b < e && (p[b] == ' ' || p[b] == '\t')) ++b;
  while (e > b && (p[e - 1] == ' ' || p[e - 1] == '\t')) --e;
  for (size_t i = b; i < e; ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      Fail(400, "Malformed request: a control character in a header value.");
      return false;
    }
  }
  std::string name(p, colon);
  for (char& c : name) c = Lower(c);
  std::string value(p + b, e - b);
  auto [it, inserted] = request_.headers.try_emplace(std::move(name), value);
  if (!inserted) {
    if (it->first == "content-length" && it->second != value) {
      Fail(400, "Malformed request: two different Content-Length headers.");
      return false;
    }
    it->second = std::move(value);  // the last one wins, as before
  }
  return true;
}

bool RequestParser::EndOfHead() {
  auto& h = request_.headers;
  const auto connection = h.find("connection");
  if (request_.minor >= 1) {
    request_.keep_alive = connection == h.end() || !ListHas(connection->second, "close");
  } else {
    request_.keep_alive = connection != h.end() && ListHas(connection->second, "keep-alive");
  }
  const auto expect = h.find("expect");
  request_.expect_continue = expect != h.end() && LowerTrimmed(expect->second) == "100-continue";
  const auto te = h.find("transfer-encoding");
  const auto cl = h.find("content-length");
  const std::string too_large = "Request is too large. The body is limited to " + std::to_string(limits_.max_body) +
                                " bytes (osapi_max_request_body_size).";
  if (te != h.end()) {
    if (cl != h.end()) {
      Fail(400, "Malformed request: both Transfer-Encoding and Content-Length.");
      return false;
    }
    const std::string coding = LowerTrimmed(te->second);
    if (coding != "chunked") {
      Fail(501, "Transfer-Encoding '" + te->second + "' is not implemented (only chunked is).");
      return false;
    }
    phase_ = Phase::kChunkSize;
    return true;
  }
  if (cl != h.end()) {
    const std::string& v = cl->second;
    if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      if (!v.empty() && v.size() > 18 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        Fail(413, too_large);
      } else {
        Fail(400, "Malformed request: bad Content-Length.");
      }
      return false;
    }
    const int64_t length = std::stoll(v);
    if (length > limits_.max_body) {
      Fail(413, too_large);
      return false;
    }
    if (length > 0) {
      request_.body.reserve(static_cast<size_t>(length));
      remaining_ = length;
      phase_ = Phase::kBody;
      return true;
    }
  }
  phase_ = Phase::kDone;
  return true;
}

}  // namespace cinder::api

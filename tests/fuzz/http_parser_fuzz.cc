// libFuzzer target for the HTTP request parser (api/http_parser.cc), which reads whatever a
// client sends before any handler or authentication. Run by scripts/fuzz.sh in `make test`.
//
// The first two bytes choose small limits (so that every limit is reached) and where the rest
// is cut; the rest is a connection's bytes. The parser is fed them whole, and again in the
// pieces the cuts make, each time as a server does (pipelined requests one after the other,
// Reset() between them, the unconsumed bytes kept). Checked:
// 1. It never crashes, never consumes more than it was given, and never keeps more than a line
//    (within its limits) unconsumed.
// 2. Every request it completes is within the limits: a method, a target, at most max_headers
//    headers, a body of at most max_body bytes, a Content-Length equal to the body when sent.
// 3. It reads the same requests and ends the same way (the same error status) whatever the
//    pieces the bytes arrive in.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_parser.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  std::vector<std::string> requests;  // each request, flattened
  int error = 0;                      // the error status that ended the connection, if one did
  bool operator==(const Outcome& o) const { return requests == o.requests && error == o.error; }
};

std::string Flatten(const cinder::api::HttpRequest& r) {
  std::string s = r.method + ' ' + r.target + ' ' + std::to_string(r.minor) + (r.keep_alive ? " ka" : " close") +
                  (r.expect_continue ? " 100" : "") + '\n';
  for (const auto& [k, v] : r.headers) s += k + ": " + v + '\n';
  return s + '\n' + r.body;
}

Outcome Feed(const cinder::api::HttpLimits& limits, std::string_view in, const std::vector<size_t>& cuts) {
  using cinder::api::RequestParser;
  RequestParser parser(limits);
  Outcome out;
  std::string buf;
  size_t at = 0;
  size_t next_cut = 0;
  while (true) {
    // The next piece arrives.
    size_t end = next_cut < cuts.size() ? cuts[next_cut++] : in.size();
    if (end < at) end = at;
    buf.append(in.substr(at, end - at));
    at = end;
    // The server parses what it has until it needs more.
    while (true) {
      size_t used = 0;
      auto state = parser.Parse(buf.data(), buf.size(), &used);
      Check(used <= buf.size());
      buf.erase(0, used);
      if (state == RequestParser::State::kError) {
        Check(parser.error_status() >= 400 && parser.error_status() < 600);
        Check(!parser.error_message().empty());
        out.error = parser.error_status();
        return out;
      }
      if (state == RequestParser::State::kNeedMore) {
        // What it keeps is at most a line within its limits (a request line, a header line,
        // or a chunk-size line, at most 1024 bytes with its extensions).
        Check(buf.size() <= std::max({limits.max_request_line, limits.max_header_line, size_t{1024}}) + 2);
        break;
      }
      const auto& r = parser.request();
      Check(!r.method.empty() && !r.target.empty());
      Check(r.headers.size() <= limits.max_headers);
      Check(static_cast<int64_t>(r.body.size()) <= limits.max_body);
      if (auto cl = r.headers.find("content-length"); cl != r.headers.end() && !r.headers.count("transfer-encoding")) {
        Check(std::strtoll(cl->second.c_str(), nullptr, 10) == static_cast<long long>(r.body.size()));
      }
      out.requests.push_back(Flatten(r));
      parser.Reset();
      if (out.requests.size() > 64) return out;
    }
    if (at == in.size()) return out;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  cinder::api::HttpLimits limits;
  // Small limits, so that inputs of a few hundred bytes reach each of them.
  limits.max_request_line = 16 + data[0] % 64;
  limits.max_header_line = 16 + data[0] / 4 % 64;
  limits.max_header_bytes = 64 + data[1] % 256;
  limits.max_headers = 1 + data[1] / 16 % 8;
  limits.max_body = data[1] % 2 ? 100 : 7;
  const std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);
  const Outcome whole = Feed(limits, in, {});
  // Cut after every byte, then at places the bytes themselves pick.
  std::vector<size_t> every;
  for (size_t i = 1; i < in.size(); ++i) every.push_back(i);
  Check(Feed(limits, in, every) == whole);
  std::vector<size_t> some;
  for (size_t i = 0; i < in.size(); i += 1 + static_cast<uint8_t>(in[i]) % 23) some.push_back(i);
  Check(Feed(limits, in, some) == whole);
  return 0;
}

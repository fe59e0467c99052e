// RequestParser: HTTP/1.x requests read incrementally from a connection's bytes, within limits.
// No Poco and no sockets here, so that unit tests and the fuzzer drive it with plain strings.
#ifndef CINDER_API_HTTP_PARSER_H_
#define CINDER_API_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace cinder::api {

// What a request may hold. The defaults are eventlet's (Cinder's WSGI server): a request line of
// 8192 bytes, header lines of max_header_line (16384), 100 headers; and Cinder's
// osapi_max_request_body_size.
struct HttpLimits {
  size_t max_request_line = 8192;   // longer: 414
  size_t max_header_line = 16384;   // longer: 400
  size_t max_header_bytes = 65536;  // the whole header section (every line); more: 400
  size_t max_headers = 100;         // more: 400
  int64_t max_body = 114688;        // a larger body (declared or sent, chunked or not): 413
};

// One request as read. Header names are lower case; a header sent twice keeps its last value.
struct HttpRequest {
  std::string method;
  std::string target;  // as sent: "/v3/p/volumes?limit=1"
  int minor = 1;       // HTTP/1.<minor>
  std::map<std::string, std::string> headers;
  std::string body;  // decoded when it came chunked
  bool keep_alive = true;
  bool expect_continue = false;  // "Expect: 100-continue"
};

// Not thread-safe; one per connection. Feed it the connection's bytes as they come:
//
//   size_t used = 0;
//   switch (parser.Parse(buf.data(), buf.size(), &used)) { ... }
//   buf.erase(0, used);   // what was used is in request() now
//
// kNeedMore: give it more bytes (it keeps at most one partial line or chunk-size line
// unconsumed, so the caller's buffer stays small). kDone: request() is complete; bytes after it
// (a pipelined request) are left unconsumed; Reset() before the next request. kError:
// error_status() and error_message() say what to answer; the connection must then be closed.
class RequestParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  explicit RequestParser(const HttpLimits& limits) : limits_(limits) {}

  State Parse(const char* data, size_t len, size_t* consumed);
  // Ready for the next request of the connection.
  void Reset();

  HttpRequest& request() { return request_; }
  // True once the request line and the headers were read (the body may still be coming).
  bool head_complete() const { return phase_ > Phase::kHeaders; }
  // True once any byte of the current request was read (an idle connection has none).
  bool started() const { return started_; }
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  enum class Phase { kRequestLine, kHeaders, kBody, kChunkSize, kChunkData, kChunkEnd, kTrailers, kDone };

  State Fail(int status, std::string message);
  // One complete line (without its end) of the request line or the headers.
  bool RequestLine(const char* p, size_t n);
  bool HeaderLine(const char* p, size_t n);
  bool EndOfHead();

  HttpLimits limits_;
  HttpRequest request_;
  Phase phase_ = Phase::kRequestLine;
  bool started_ = false;
  size_t head_bytes_ = 0;  // the header section so far
  size_t header_count_ = 0;
  int64_t remaining_ = 0;  // of the body (Content-Length) or of the current chunk
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace cinder::api

#endif  // CINDER_API_HTTP_PARSER_H_

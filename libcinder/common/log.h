// Logging: lines with a level, the service that wrote them and the request they serve, as
// oslo.log writes them for Cinder:
//
//   2026-12-06 22:52:02.123 4711 WARNING cinder-volume [req-6f0c...] extend of volume ... failed
//
// written through spdlog (common/log.cc) to stderr and/or a file (Cinder's options `debug`,
// `log_file`, `log_dir`, `use_stderr`). The request id is the calling thread's: the API sets
// it for each request, the RPC dispatcher for each message it runs, and a volume host's
// workers carry it on with the work they were given (log::CurrentRequestId).
//
//   CINDER_LOG(kWarning, "cinder-volume") << "extend of volume " << id << " failed: " << st;
//
// Nothing secret may be logged: no password, token, CHAP secret or transfer key; database
// URLs go through log::RedactUrl.
#ifndef CINDER_COMMON_LOG_H_
#define CINDER_COMMON_LOG_H_

#include <sstream>
#include <string>
#include <string_view>

#include "cinder/status.h"

namespace cinder::log {

enum class Level { kDebug, kInfo, kWarning, kError };

struct LogOptions {
  bool debug = false;      // also Debug lines (else Info and above)
  std::string log_file;    // a file to append to ("" = none); relative to log_dir if given
  std::string log_dir;     // with no log_file: <log_dir>/<binary>.log
  bool use_stderr = true;  // also to stderr (always, when there is no file)
  std::string binary;      // names the file under log_dir ("cinder-volume")
};

// Replaces where lines go; until it is called they go to stderr at Info. InvalidArgument when
// the file cannot be opened. Safe to call again: lines written meanwhile go to one or the other.
Status Configure(const LogOptions& options);

bool Enabled(Level level);
// Writes one line (thread-safe).
void Write(Level level, std::string_view service, std::string_view message);

// The request id of this thread's work ("" when none).
const std::string& CurrentRequestId();

// Sets this thread's request id for its lifetime, and restores the previous one after.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string request_id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

// "postgresql://cinder:***@db/cinder" for "postgresql://cinder:secret@db/cinder".
std::string RedactUrl(std::string_view url);

// One line, written when it goes out of scope.
class Line {
 public:
  Line(Level level, std::string_view service) : level_(level), service_(service) {}
  ~Line() { Write(level_, service_, out_.str()); }
  template <class T>
  Line& operator<<(const T& v) {
    out_ << v;
    return *this;
  }
  Line& operator<<(const Status& st) {
    out_ << st.ToString();
    return *this;
  }

 private:
  Level level_;
  std::string_view service_;
  std::ostringstream out_;
};

// Turns the streamed line into a void expression (glog's LogMessageVoidify), so that
// CINDER_LOG is one expression: safe after an unbraced `if`.
struct Voidify {
  void operator&(const Line&) {}
};

}  // namespace cinder::log

// The stream is not evaluated when the level is off.
#define CINDER_LOG(level, service)                     \
  !::cinder::log::Enabled(::cinder::log::Level::level) \
      ? (void)0                                        \
      : ::cinder::log::Voidify() & ::cinder::log::Line(::cinder::log::Level::level, service)

#endif  // CINDER_COMMON_LOG_H_

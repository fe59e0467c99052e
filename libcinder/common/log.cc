#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace cinder::log {

namespace {

thread_local std::string current_request_id;

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};

// Never destroyed: services' threads may log during static destruction.
std::mutex& mu = *new std::mutex;                                                // guards logger
std::shared_ptr<spdlog::logger>& logger = *new std::shared_ptr<spdlog::logger>;  // null until first use

// A message on one line: control characters (a decoded %0A in a logged path) escaped, so that
// nobody can forge a line.
std::string OneLine(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::shared_ptr<spdlog::logger> NewLogger(std::vector<spdlog::sink_ptr> sinks) {
  auto l = std::make_shared<spdlog::logger>("cinder", sinks.begin(), sinks.end());
  // oslo.log's default: date, time with milliseconds, pid; the rest is ours (see Write).
  l->set_pattern("%Y-%m-%d %H:%M:%S.%e %P %v");
  l->set_level(spdlog::level::trace);  // filtered by min_level before a line is built
  l->flush_on(spdlog::level::trace);   // every line reaches the file at once
  return l;
}

std::shared_ptr<spdlog::logger> Logger() {
  std::lock_guard<std::mutex> l(mu);
  if (!logger) logger = NewLogger({std::make_shared<spdlog::sinks::stderr_sink_mt>()});
  return logger;
}

constexpr const char* kNames[] = {"DEBUG", "INFO", "WARNING", "ERROR"};

}  // namespace

Status Configure(const LogOptions& options) {
  std::vector<spdlog::sink_ptr> sinks;
  std::filesystem::path file;
  if (!options.log_file.empty()) {
    file = options.log_dir.empty() ? std::filesystem::path(options.log_file)
                                   : std::filesystem::path(options.log_dir) / options.log_file;
  } else if (!options.log_dir.empty()) {
    file = std::filesystem::path(options.log_dir) / ((options.binary.empty() ? "cinder" : options.binary) + ".log");
  }
  if (!file.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string()));
    } catch (const spdlog::spdlog_ex& e) {
      return InvalidArgument("cannot open the log file " + file.string() + ": " + e.what());
    }
  }
  if (options.use_stderr || sinks.empty()) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto fresh = NewLogger(std::move(sinks));
  {
    std::lock_guard<std::mutex> l(mu);
    logger = std::move(fresh);
  }
  min_level = static_cast<int>(options.debug ? Level::kDebug : Level::kInfo);
  return Status::OK();
}

bool Enabled(Level level) { return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed); }

void Write(Level level, std::string_view service, std::string_view message) {
  if (!Enabled(level)) return;
  const std::string& req = current_request_id;
  auto l = Logger();
  try {
    l->log(spdlog::level::info, "{} {} [{}] {}", kNames[static_cast<int>(level)], OneLine(service),
           req.empty() ? std::string("-") : OneLine(req), OneLine(message));
  } catch (...) {  // a log line must never take the service down
  }
}

const std::string& CurrentRequestId() { return current_request_id; }

ScopedRequestId::ScopedRequestId(std::string request_id) : previous_(std::move(current_request_id)) {
  current_request_id = std::move(request_id);
}

ScopedRequestId::~ScopedRequestId() { current_request_id = std::move(previous_); }

std::string RedactUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t start = scheme + 3;
  // The password runs from the first ':' of the user part to the last '@' (a password may hold
  // a raw '/' or '@').
  const size_t at = url.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  const size_t colon = url.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

}  // namespace cinder::log

#include "common/util.h"

#include <algorithm>

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

namespace cinder {

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::string FormatIso(std::chrono::system_clock::time_point tp) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us % 1000000));
  return buf;
}

std::string NowIso() { return FormatIso(std::chrono::system_clock::now()); }

std::string IsoSecondsAgo(int64_t seconds) {
  // In microseconds since the epoch, clamped at the epoch: a large age must not overflow the
  // clock's nanosecond representation.
  using std::chrono::microseconds;
  int64_t now_us =
      std::chrono::duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  int64_t then_us = seconds >= now_us / 1000000 ? 0 : now_us - seconds * 1000000;
  return FormatIso(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(microseconds(then_us))));
}

std::optional<double> ParseIso(std::string_view iso) {
  std::tm tm{};
  int micros = 0;
  std::string s(iso);
  int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                      &tm.tm_min, &tm.tm_sec, &micros);
  if (n < 6) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + (n == 7 ? micros / 1e6 : 0.0);
}

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

std::string FormatGb(double gb) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", std::floor(gb));
  return buf;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  size_t start = (s[0] == '+') ? 1 : 0;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data() + start, s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || start == s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t next = s.find(sep, pos);
    out.emplace_back(s.substr(pos, next == std::string_view::npos ? s.npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// from_chars reports overflow and underflow alike as out of range. Tell them apart by the
// decimal exponent of the literal's first significant digit: out-of-range values sit far
// from 10^0 on one side or the other.
bool DecimalOverflows(std::string_view s) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  int64_t lead = 0;
  bool found = false;
  size_t j = i;
  while (j < s.size() && (s[j] >= '0' && s[j] <= '9')) ++j;
  for (size_t k = i; k < j && !found; ++k) {
    if (s[k] != '0') lead = static_cast<int64_t>(j - k) - 1, found = true;
  }
  if (j < s.size() && s[j] == '.') {
    const size_t f = ++j;
    while (j < s.size() && (s[j] >= '0' && s[j] <= '9')) ++j;
    for (size_t k = f; k < j && !found; ++k) {
      if (s[k] != '0') lead = -static_cast<int64_t>(k - f) - 1, found = true;
    }
  }
  int64_t exp = 0;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    ++j;
    bool neg = false;
    if (j < s.size() && (s[j] == '-' || s[j] == '+')) neg = s[j++] == '-';
    // Saturate: an exponent with a thousand digits is still just "huge".
    for (; j < s.size() && (s[j] >= '0' && s[j] <= '9'); ++j)
      exp = std::min<int64_t>(exp * 10 + (s[j] - '0'), 1'000'000'000);
    if (neg) exp = -exp;
  }
  return found && lead + exp > 0;
}

}  // namespace cinder

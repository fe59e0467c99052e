// Small helpers shared by every service: ids, clocks, strings.
#ifndef CINDER_COMMON_UTIL_H_
#define CINDER_COMMON_UTIL_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cinder {

// A random version-4 UUID, lower case.
std::string NewUuid();
// True for a canonical 8-4-4-4-12 hexadecimal UUID.
bool IsUuid(std::string_view s);
// Now in UTC as "2024-01-02T03:04:05.123456" (Cinder's DB format).
std::string NowIso();
// `tp` in the same format.
std::string FormatIso(std::chrono::system_clock::time_point tp);
// Seconds since the epoch, as ParseIso answers them.
inline double EpochSeconds(std::chrono::system_clock::time_point tp) {
  return std::chrono::duration<double>(tp.time_since_epoch()).count();
}
// `t` shifted back by `seconds`, same format; t is NowIso()-shaped.
std::string IsoSecondsAgo(int64_t seconds);
// Seconds since the epoch of a NowIso()-shaped UTC time; nullopt when it does not parse.
std::optional<double> ParseIso(std::string_view iso);
// This machine's host name.
std::string HostName();
// Whole GiB, rounded down, for messages: 79.6 -> "79".
std::string FormatGb(double gb);
// Parses a whole base-10 integer (optional sign); nullopt otherwise.
std::optional<int64_t> ParseInt(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
// For a decimal literal [-]digits[.digits][(e|E)[+-]digits] that std::from_chars found out of
// range: whether it is too large (true) rather than too small (false) for a double.
bool DecimalOverflows(std::string_view s);
std::string Trim(std::string_view s);
std::string ToLower(std::string_view s);

}  // namespace cinder

#endif  // CINDER_COMMON_UTIL_H_

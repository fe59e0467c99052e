// The LDAP identity driver's pieces that need no libldap (ldap_identity.h): how a value goes into
// a search filter, and how a user's enabled flag is read. Linked into the module
// (libcinder_ldap.so) and into the unit tests, which check them on their own.
#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include "auth/ldap/ldap_identity.h"
#include "common/util.h"

namespace cinder::auth::ldap {

std::string EscapeFilterValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0') {
      auto u = static_cast<unsigned char>(c);
      out += '\\';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

bool IsWellFormedFilter(std::string_view filter) {
  if (filter.empty()) return true;
  if (filter.front() != '(' || filter.back() != ')') return false;
  int depth = 0;
  for (size_t i = 0; i < filter.size(); ++i) {
    char c = filter[i];
    if (c == '\\') {
      if (i + 2 >= filter.size() || !std::isxdigit(static_cast<unsigned char>(filter[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(filter[i + 2]))) {
        return false;
      }
      i += 2;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return false;
      // One filter: the outermost parenthesis closes only at the end.
      if (depth == 0 && i + 1 != filter.size()) return false;
    }
  }
  return depth == 0;
}

namespace {

// "true"/"TRUE" -> true, "false" -> false, an integer -> non-zero; nullopt otherwise.
std::optional<bool> ParseBool(std::string_view s) {
  std::string v = ToLower(Trim(s));
  if (v == "true") return true;
  if (v == "false") return false;
  if (auto n = ParseInt(v)) return *n != 0;
  return std::nullopt;
}

}  // namespace

bool UserEnabled(const LdapOptions& options, const std::optional<std::string>& value) {
  if (options.user_enabled_mask != 0) {
    const std::string& raw = value ? *value : options.user_enabled_default;
    if (auto n = ParseInt(Trim(raw))) {
      return (*n & options.user_enabled_mask) != options.user_enabled_mask;
    }
    // Keystone fails here; a default written as a boolean ("True", the option's own default)
    // is read as one, and anything else from the directory disables the user.
    if (!value) return ParseBool(raw).value_or(false);
    return false;
  }
  bool enabled = ParseBool(value ? *value : options.user_enabled_default).value_or(false);
  return options.user_enabled_invert ? !enabled : enabled;
}

}  // namespace cinder::auth::ldap

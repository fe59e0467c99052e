#include "rpc/args.h"

#include <cstdio>
#include <cstdlib>

#include "common/util.h"

namespace cinder::rpc {

Args& Args::Set(const std::string& key, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  return Set(key, std::string(buf));
}

Result<std::string> Args::Str(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return InvalidArgument("RPC argument '" + key + "' is missing");
  return it->second;
}

Result<int64_t> Args::Int(const std::string& key) const {
  CINDER_ASSIGN_OR_RETURN(std::string v, Str(key));
  auto n = ParseInt(v);
  if (!n) return InvalidArgument("RPC argument '" + key + "' is not an integer: " + v);
  return *n;
}

Result<double> Args::Double(const std::string& key) const {
  CINDER_ASSIGN_OR_RETURN(std::string v, Str(key));
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') return InvalidArgument("RPC argument '" + key + "' is not a number: " + v);
  return d;
}

std::string Args::Encode() const {
  std::string out;
  for (const auto& [k, v] : values_) {
    out += k;
    out += '=';
    for (char c : v) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '\n';
  }
  return out;
}

Result<Args> Args::Decode(const std::string& text) {
  Args args;
  for (const auto& line : Split(text, '\n')) {
    if (line.empty()) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) return InvalidArgument("malformed RPC arguments: '" + line + "'");
    std::string value;
    for (size_t i = eq + 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        value += line[i + 1] == 'n' ? '\n' : line[i + 1];
        ++i;
      } else {
        value += line[i];
      }
    }
    args.values_[line.substr(0, eq)] = value;
  }
  return args;
}

}  // namespace cinder::rpc

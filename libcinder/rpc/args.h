// RpcArgs: the arguments and replies of libcinder's own RPC methods, as "key=value" lines
// (standard library only, so every service folder can read them without a JSON library).
#ifndef CINDER_RPC_ARGS_H_
#define CINDER_RPC_ARGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "cinder/status.h"

namespace cinder::rpc {

class Args {
 public:
  Args() = default;
  Args& Set(const std::string& key, const std::string& value) {
    values_[key] = value;
    return *this;
  }
  Args& Set(const std::string& key, int64_t value) { return Set(key, std::to_string(value)); }
  Args& Set(const std::string& key, double value);
  // InvalidArgument naming the key when it is missing or not of the type asked for.
  Result<std::string> Str(const std::string& key) const;
  Result<int64_t> Int(const std::string& key) const;
  Result<double> Double(const std::string& key) const;

  std::string Encode() const;
  static Result<Args> Decode(const std::string& text);

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace cinder::rpc

#endif  // CINDER_RPC_ARGS_H_

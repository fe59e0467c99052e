#include "rpc/method.h"

#include "common/log.h"

namespace cinder::rpc {

Result<std::string> Dispatcher::Dispatch(const RpcRequest& request) const {
  log::ScopedRequestId scoped(request.ctx.request_id);  // for the handler's log lines
  auto it = handlers_.find(request.method);
  if (it == handlers_.end()) {
    return Unimplemented(service_ + " has no method " + request.method + " (RPC version " +
                         std::to_string(kRpcVersion) + ")");
  }
  return it->second(request);
}

}  // namespace cinder::rpc

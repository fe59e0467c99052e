// Typed RPC on top of a Transport, in the spirit of Cinder's rpcapi.py but checked by the
// compiler. A service declares each operation once, as a Method with its request and reply
// messages (rpc/codec.h); its client sends through Call / Cast / Fanout, and its server side
// registers one handler per Method with a Dispatcher:
//
//   inline constexpr rpc::Method<ExtendVolume> kExtendVolume{"extend_volume"};
//   rpc::Cast(transport, topic, kExtendVolume, ctx, request, timeout);             // client
//   dispatcher.On(kExtendVolume, [&](const RequestContext& ctx, ExtendVolume r) {   // server
//     return Extend(r); });
#ifndef CINDER_RPC_METHOD_H_
#define CINDER_RPC_METHOD_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "cinder/transport.h"
#include "rpc/codec.h"

namespace cinder::rpc {

// One operation: its name on the wire, the message it takes and the one it answers (Empty for
// a cast, whose handler returns a Status).
template <Message Req, Message Rep = Empty>
struct Method {
  const char* name;
};

template <Message Req>
RpcRequest MakeRequest(const RequestContext& ctx, const char* method, const Req& request) {
  RpcRequest r;
  r.version = kRpcVersion;
  r.method = method;
  r.args = Encode(request);
  r.ctx = ctx;
  return r;
}

// Runs `m` on one server of `topic` and decodes its reply.
template <Message Req, Message Rep>
Result<Rep> Call(Transport& transport, const std::string& topic, Method<Req, Rep> m, const RequestContext& ctx,
                 const Req& request, std::chrono::milliseconds timeout) {
  CINDER_ASSIGN_OR_RETURN(std::string reply, transport.Call(topic, MakeRequest(ctx, m.name, request), timeout));
  return Decode<Rep>(reply);
}

// Hands `m` to one server of `topic` (see Transport::Cast).
template <Message Req>
Status Cast(Transport& transport, const std::string& topic, Method<Req, Empty> m, const RequestContext& ctx,
            const Req& request, std::chrono::milliseconds timeout) {
  return transport.Cast(topic, MakeRequest(ctx, m.name, request), timeout);
}

// Casts `m` to every server of `topic`; how many accepted it.
template <Message Req>
Result<int> Fanout(Transport& transport, const std::string& topic, Method<Req, Empty> m, const RequestContext& ctx,
                   const Req& request, std::chrono::milliseconds timeout) {
  return transport.Fanout(topic, MakeRequest(ctx, m.name, request), timeout);
}

// The server side of one service: decodes each request into its Method's message, runs the
// handler registered for it and encodes the reply. A method with no handler is refused with
// Unimplemented naming it; a malformed message with InvalidArgument naming the field. (The
// transports refuse a request of another RPC version before it gets here.)
class Dispatcher {
 public:
  // `service` names the server in errors ("cinder-volume has no method ...").
  explicit Dispatcher(std::string service) : service_(std::move(service)) {}

  // `handler(const RequestContext&, Req)` returns Result<Rep>, or Status when Rep is Empty.
  template <Message Req, Message Rep, class Fn>
  Dispatcher& On(Method<Req, Rep> m, Fn handler) {
    handlers_[m.name] = [where = service_ + " " + m.name + ": ",
                         handler = std::move(handler)](const RpcRequest& r) -> Result<std::string> {
      auto request = Decode<Req>(r.args);
      if (!request.ok()) return Status(request.status().code(), where + request.status().message());
      if constexpr (std::is_same_v<Rep, Empty>) {
        CINDER_RETURN_IF_ERROR(handler(r.ctx, std::move(request).value()));
        return std::string();
      } else {
        CINDER_ASSIGN_OR_RETURN(Rep reply, handler(r.ctx, std::move(request).value()));
        return Encode(reply);
      }
    };
    return *this;
  }

  Result<std::string> Dispatch(const RpcRequest& request) const;

  // A transport handler that owns the dispatcher.
  static RpcHandler Serve(std::shared_ptr<const Dispatcher> dispatcher) {
    return [d = std::move(dispatcher)](const RpcRequest& r) { return d->Dispatch(r); };
  }

 private:
  std::string service_;
  std::map<std::string, std::function<Result<std::string>(const RpcRequest&)>, std::less<>> handlers_;
};

}  // namespace cinder::rpc

#endif  // CINDER_RPC_METHOD_H_

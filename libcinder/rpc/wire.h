// The frames of libcinder's RPC protocol over ZeroMQ (standard library only).
//
// request (DEALER -> ROUTER): "CINDER1", kind ("call" | "cast"), id, version, topic, method,
//                             context, args   (a request for a topic not served there gets no ACK)
// accept  (ROUTER -> DEALER): "ACK", id                      (sent as soon as a request arrives)
// reply   (ROUTER -> DEALER): "REPLY", id, code name, message, payload   (calls only)
#ifndef CINDER_RPC_WIRE_H_
#define CINDER_RPC_WIRE_H_

#include <string>

#include "cinder/context.h"
#include "cinder/status.h"
#include "cinder/transport.h"

namespace cinder::rpc {

inline constexpr char kProtocol[] = "CINDER1";

std::string EncodeContext(const RequestContext& ctx);
RequestContext DecodeContext(const std::string& text);
// The Code named `name` (CodeName's inverse); Internal for a name this library does not know.
Code CodeFromName(const std::string& name);

// Whether a request's RPC version is this library's (kRpcVersion): the wire format changes
// from one version to the next, so a request of any other version is refused with
// Unimplemented, saying which versions met, rather than misread. Both transports check it on
// receipt.
Status CheckVersion(const RpcRequest& request);

}  // namespace cinder::rpc

#endif  // CINDER_RPC_WIRE_H_

// A Transport that counts: every request sent (Cast, Call, Fanout) and served (the handlers
// given to Serve), by topic (its service: "cinder-volume", not the host), method and outcome,
// with the latency of calls and of handlers (docs/metrics.md). One decorator over any
// Transport, so the in-process and ZeroMQ transports count alike.
#ifndef CINDER_RPC_METRICS_TRANSPORT_H_
#define CINDER_RPC_METRICS_TRANSPORT_H_

#include <memory>

#include "cinder/transport.h"

namespace cinder::rpc {

std::unique_ptr<Transport> WithMetrics(std::unique_ptr<Transport> inner);

}  // namespace cinder::rpc

#endif  // CINDER_RPC_METRICS_TRANSPORT_H_

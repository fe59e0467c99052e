// A process that is not of the deployment (or, for a control, one that holds its key) sends
// one well-formed RPC request to a service's ZeroMQ port, in the wire format of rpc/wire.h, and
// says what came back. Used by tests/e2e/test_transport_security.py.
//
//   rpc_intruder plain|own-key:PATH|key-file:PATH ENDPOINT TOPIC METHOD ARGS call|cast [WAIT_MS]
//
// plain: no CURVE. own-key:PATH: CURVE with a fresh random key pair, knowing the server's
// public key (only the public key is taken from the key file at PATH: it is no secret).
// key-file:PATH: the deployment's key, as its services use it. Prints "no answer", or the
// frames that came back (ACK, REPLY), one line each.
#include <zmq.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "cinder/context.h"
#include "cinder/transport.h"
#include "rpc/transport_key.h"
#include "rpc/wire.h"

int main(int argc, char** argv) {
  if (argc < 7) {
    std::cerr << "usage: rpc_intruder plain|own-key:KEYFILE|key-file:KEYFILE ENDPOINT TOPIC METHOD ARGS call|cast "
                 "[WAIT_MS]\n";
    return 2;
  }
  const std::string mode = argv[1], endpoint = argv[2], topic = argv[3], method = argv[4], args = argv[5],
                    kind = argv[6];
  const int wait_ms = argc > 7 ? std::stoi(argv[7]) : 2000;
  zmq::context_t ctx;
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  if (mode != "plain") {
    const bool own = mode.rfind("own-key:", 0) == 0;
    const std::string path = mode.substr(mode.find(':') + 1);
    auto key = cinder::rpc::ReadTransportKey(path);
    if (!key.ok()) {
      std::cerr << key.status().message() << "\n";
      return 2;
    }
    std::string pub = key->public_key, sec = key->secret_key;
    if (own) {  // the server's public key, but a key pair of its own
      char p[41], k[41];
      if (zmq_curve_keypair(p, k) != 0) return 2;
      pub = p, sec = k;
    }
    s.set(zmq::sockopt::curve_serverkey, key->public_key);
    s.set(zmq::sockopt::curve_publickey, pub);
    s.set(zmq::sockopt::curve_secretkey, sec);
  }
  s.connect(endpoint);
  cinder::RequestContext ctx_admin = cinder::RequestContext::Admin("intruder", "intruder");
  ctx_admin.request_id = "req-intruder";
  const std::vector<std::string> frames = {cinder::rpc::kProtocol,
                                           kind,
                                           "intruder-1",
                                           std::to_string(cinder::kRpcVersion),
                                           topic,
                                           method,
                                           cinder::rpc::EncodeContext(ctx_admin),
                                           args};
  for (size_t i = 0; i < frames.size(); ++i) {
    s.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  bool answered = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (std::chrono::steady_clock::now() < until) {
    zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(50));
    if (!(item.revents & ZMQ_POLLIN)) continue;
    std::string line;
    while (true) {
      zmq::message_t m;
      if (!s.recv(m, zmq::recv_flags::dontwait)) break;
      line += (line.empty() ? "" : " | ") + m.to_string();
      if (!m.more()) break;
    }
    std::cout << line << std::endl;
    answered = true;
    if (line.rfind("REPLY", 0) == 0 || (kind == "cast" && line.rfind("ACK", 0) == 0)) break;
  }
  if (!answered) std::cout << "no answer" << std::endl;
  return 0;
}

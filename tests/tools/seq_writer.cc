// For the crash-consistency test of group snapshots (tests/e2e/test_group_snapshot_consistency.py):
// writes increasing sequence numbers to two volumes through their connection_info (the connector:
// iSCSI through the volume host's tgtd), A then B, each write completed before the next, until
// STOP_FILE exists or SECONDS pass. Every write is the 8-byte little-endian number n at offset 0,
// repeated over the first 4 KiB.
//   seq_writer CONN_A_JSON CONN_B_JSON STOP_FILE SECONDS
// Prints "written N" (the last n written to both) and exits 0; exits 1 on an I/O error.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cinder/connector.h"

namespace {

std::string ReadFile(const char* path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s CONN_A_JSON CONN_B_JSON STOP_FILE SECONDS\n", argv[0]);
    return 2;
  }
  cinder::ConnectorOptions opts;
  opts.initiator_name = "iqn.1993-08.org.debian:01:seq-writer";
  auto a = cinder::OpenConnection(ReadFile(argv[1]), opts);
  auto b = cinder::OpenConnection(ReadFile(argv[2]), opts);
  if (!a.ok() || !b.ok()) {
    std::fprintf(stderr, "open: %s %s\n", a.status().ToString().c_str(), b.status().ToString().c_str());
    return 1;
  }
  const std::string stop = argv[3];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[4]));
  std::vector<uint64_t> block(4096 / sizeof(uint64_t));
  uint64_t n = 0;
  while (std::chrono::steady_clock::now() < deadline && access(stop.c_str(), F_OK) != 0) {
    ++n;
    for (auto& x : block) x = n;  // little-endian on the hosts this runs on
    for (auto* dev : {a->get(), b->get()}) {
      cinder::Status st = dev->Write(0, block.data(), block.size() * sizeof(uint64_t));
      if (!st.ok()) {
        std::fprintf(stderr, "write %llu: %s\n", static_cast<unsigned long long>(n), st.ToString().c_str());
        return 1;
      }
    }
  }
  std::printf("written %llu\n", static_cast<unsigned long long>(n));
  return 0;
}

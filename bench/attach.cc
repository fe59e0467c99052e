// bench_attach: the connector against raw libiscsi, iscsi-perf and the backing file, side by side
// on one tgtd target (docs/connector.md, "Benchmark").
//
//   scripts/tgtd-harness.sh start /tmp/bt
//   build/bin/bench_attach --tgtd-dir /tmp/bt [--seconds 3] [--rounds 5] [--size-mib 256]
//   scripts/tgtd-harness.sh stop /tmp/bt
//
// The bench makes its own target (tgtadm, CHAP) on a backing file under /tmp, filled with random
// bytes, and deletes it at the end. Cases: sequential 1 MiB reads and writes at queue depth 1,
// 4 KiB random reads at queue depth 1 and 32. Methods:
//   connector      cinder::OpenConnection + Read/Write (QD32: 32 threads on one device, and
//                  Submit batches of 32)
//   raw libiscsi   the same async calls (iscsi_read16_iov_task/iscsi_write16_iov_task + poll +
//                  iscsi_service) without the BlockDevice layer, keeping QD commands in flight
//   iscsi-perf     libiscsi-bin's tool, reads only (-m QD -b blocks [-r])
//   file           pread/pwrite of the backing file with O_DIRECT (the disk), and buffered after
//                  a first pass (the page cache tgtd reads from)
#include <fcntl.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cinder/connector.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Figure {
  double mib_s = 0;
  double iops = 0;
  bool ok = false;
  std::string note;
};

struct Case {
  const char* name;
  bool write;
  bool random;
  size_t bytes;
  int depth;
};

std::string Run(const std::string& cmd) {
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

// Offsets for a case: sequential wrapping at the end, or uniformly random aligned to the I/O.
class Offsets {
 public:
  Offsets(const Case& c, uint64_t size, uint32_t seed) : c_(c), slots_(size / c.bytes), gen_(seed) {}
  uint64_t Next() {
    if (c_.random) return (gen_() % slots_) * c_.bytes;
    uint64_t off = (next_ % slots_) * c_.bytes;
    ++next_;
    return off;
  }

 private:
  const Case& c_;
  uint64_t slots_;
  uint64_t next_ = 0;
  std::mt19937_64 gen_;
};

Figure Measure(double seconds, const Case& c, const std::function<uint64_t(Clock::time_point)>& body) {
  auto start = Clock::now();
  uint64_t ops = body(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  Figure f;
  f.iops = ops / secs;
  f.mib_s = f.iops * c.bytes / (1 << 20);
  f.ok = ops > 0;
  return f;
}

// The connector: QD1 with Read/Write; QD>1 with `depth` threads sharing the device.
Figure Connector(cinder::BlockDevice& dev, const Case& c, uint64_t size, double seconds) {
  return Measure(seconds, c, [&](Clock::time_point end) {
    std::atomic<uint64_t> total{0};
    std::atomic<bool> failed{false};
    auto worker = [&](int t) {
      std::vector<char> buf(c.bytes, 'w');
      Offsets offs(c, size, 11 + t);
      uint64_t n = 0;
      while (Clock::now() < end) {
        uint64_t off = offs.Next();
        cinder::Status st = c.write ? dev.Write(off, buf.data(), c.bytes) : dev.Read(off, buf.data(), c.bytes);
        if (!st.ok()) {
          std::fprintf(stderr, "connector: %s\n", st.ToString().c_str());
          failed = true;
          break;
        }
        ++n;
      }
      total += n;
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < c.depth; ++t) threads.emplace_back(worker, t);
    worker(0);
    for (auto& th : threads) th.join();
    return failed ? 0 : total.load();
  });
}

// The connector with one caller submitting batches of `depth` requests.
Figure ConnectorBatches(cinder::BlockDevice& dev, const Case& c, uint64_t size, double seconds) {
  return Measure(seconds, c, [&](Clock::time_point end) -> uint64_t {
    std::vector<char> buf(c.bytes * c.depth);
    std::vector<cinder::BlockDevice::Request> batch(c.depth);
    Offsets offs(c, size, 5);
    uint64_t n = 0;
    while (Clock::now() < end) {
      for (int i = 0; i < c.depth; ++i) batch[i] = {c.write, offs.Next(), buf.data() + i * c.bytes, c.bytes, {}};
      if (!dev.Submit(batch).ok()) return 0;
      n += c.depth;
    }
    return n;
  });
}

// Raw libiscsi: one session, `depth` commands kept in flight, a new one started in each
// completion callback until the time is up.
struct RawState {
  iscsi_context* ctx = nullptr;
  int lun = 1;
  const Case* c = nullptr;
  Offsets* offs = nullptr;
  Clock::time_point end;
  uint64_t done = 0;
  int in_flight = 0;
  bool failed = false;
  std::vector<std::vector<char>> bufs;
  std::vector<scsi_iovec> iovs;
};

void RawStart(RawState* s, int slot);

void RawDone(iscsi_context*, int status, void* command_data, void* private_data) {
  auto* slot_ptr = static_cast<std::pair<RawState*, int>*>(private_data);
  RawState* s = slot_ptr->first;
  --s->in_flight;
  if (command_data != nullptr) scsi_free_scsi_task(static_cast<scsi_task*>(command_data));
  if (status != SCSI_STATUS_GOOD) {
    s->failed = true;
    return;
  }
  ++s->done;
  if (Clock::now() < s->end) RawStart(s, slot_ptr->second);
}

std::vector<std::pair<RawState*, int>> g_slots;

void RawStart(RawState* s, int slot) {
  const Case& c = *s->c;
  uint64_t lba = s->offs->Next() / 512;
  s->iovs[slot] = {s->bufs[slot].data(), c.bytes};
  scsi_task* t = c.write ? iscsi_write16_iov_task(s->ctx, s->lun, lba, nullptr, c.bytes, 512, 0, 0, 0, 0, 0, RawDone,
                                                  &g_slots[slot], &s->iovs[slot], 1)
                         : iscsi_read16_iov_task(s->ctx, s->lun, lba, c.bytes, 512, 0, 0, 0, 0, 0, RawDone,
                                                 &g_slots[slot], &s->iovs[slot], 1);
  if (t == nullptr) {
    s->failed = true;
    return;
  }
  ++s->in_flight;
}

Figure RawLibiscsi(const std::string& portal, const std::string& iqn, const std::string& user,
                   const std::string& password, const Case& c, uint64_t size, double seconds) {
  iscsi_context* ctx = iscsi_create_context("iqn.2026-12.org.libcinder:bench-raw");
  iscsi_set_targetname(ctx, iqn.c_str());
  iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
  iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE);
  iscsi_set_initiator_username_pwd(ctx, user.c_str(), password.c_str());
  Figure f;
  if (iscsi_full_connect_sync(ctx, portal.c_str(), 1) != 0) {
    std::fprintf(stderr, "raw libiscsi login failed: %s\n", iscsi_get_error(ctx));
    iscsi_destroy_context(ctx);
    return f;
  }
  Offsets offs(c, size, 5);
  RawState s;
  s.ctx = ctx;
  s.c = &c;
  s.offs = &offs;
  s.bufs.assign(c.depth, std::vector<char>(c.bytes, 'r'));
  s.iovs.resize(c.depth);
  g_slots.clear();
  for (int i = 0; i < c.depth; ++i) g_slots.push_back({&s, i});
  f = Measure(seconds, c, [&](Clock::time_point end) -> uint64_t {
    s.end = end;
    for (int i = 0; i < c.depth; ++i) RawStart(&s, i);
    while (s.in_flight > 0 && !s.failed) {
      pollfd pfd = {iscsi_get_fd(ctx), static_cast<short>(iscsi_which_events(ctx)), 0};
      if (poll(&pfd, 1, 1000) < 0) break;
      if (iscsi_service(ctx, pfd.revents) < 0) {
        s.failed = true;
        break;
      }
    }
    return s.failed ? 0 : s.done;
  });
  iscsi_logout_sync(ctx);
  iscsi_destroy_context(ctx);
  return f;
}

// The backing file: O_DIRECT (the disk) or buffered (the page cache); QD>1 with threads.
Figure File(const std::string& path, bool direct, const Case& c, uint64_t size, double seconds) {
  int fd = open(path.c_str(), (c.write ? O_RDWR : O_RDONLY) | (direct ? O_DIRECT : 0));
  if (fd < 0) return Figure{};
  Figure f = Measure(seconds, c, [&](Clock::time_point end) -> uint64_t {
    std::atomic<uint64_t> total{0};
    auto worker = [&](int t) {
      void* buf = nullptr;
      if (posix_memalign(&buf, 4096, c.bytes) != 0) return;
      std::memset(buf, 'f', c.bytes);
      Offsets offs(c, size, 17 + t);
      uint64_t n = 0;
      while (Clock::now() < end) {
        uint64_t off = offs.Next();
        ssize_t r = c.write ? pwrite(fd, buf, c.bytes, off) : pread(fd, buf, c.bytes, off);
        if (r != static_cast<ssize_t>(c.bytes)) break;
        ++n;
      }
      if (c.write && !direct) fdatasync(fd);
      total += n;
      std::free(buf);
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < c.depth; ++t) threads.emplace_back(worker, t);
    worker(0);
    for (auto& th : threads) th.join();
    return total.load();
  });
  close(fd);
  return f;
}

// iscsi-perf (reads only): "iops average N (M MB/s)" on its last lines.
Figure IscsiPerf(const std::string& url, const Case& c, double seconds, std::string* command) {
  Figure f;
  if (c.write) {
    f.note = "(no write mode)";
    return f;
  }
  std::string args = "-t " + std::to_string(static_cast<int>(seconds + 0.5)) + " -m " + std::to_string(c.depth) +
                     " -b " + std::to_string(c.bytes / 512) + (c.random ? " -r" : "");
  *command = "iscsi-perf " + args + " iscsi://USER%PASSWORD@PORTAL/IQN/1";
  std::string out = Run("iscsi-perf " + args + " '" + url + "' 2>&1");
  size_t p = out.rfind("iops average ");
  if (p == std::string::npos) {
    f.note = "(iscsi-perf failed)";
    return f;
  }
  f.iops = std::atof(out.c_str() + p + std::strlen("iops average "));
  f.mib_s = f.iops * c.bytes / (1 << 20);
  f.ok = true;
  return f;
}

Figure Median(std::vector<Figure> figures) {
  std::sort(figures.begin(), figures.end(), [](const Figure& a, const Figure& b) { return a.mib_s < b.mib_s; });
  return figures[figures.size() / 2];
}

std::string Cell(const Figure& f) {
  if (!f.ok) return f.note.empty() ? "-" : f.note;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f MiB/s %.0f IOPS", f.mib_s, f.iops);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string tgtd_dir;
  double seconds = 3;
  uint64_t size_mib = 256;
  int rounds = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--tgtd-dir" && i + 1 < argc) {
      tgtd_dir = argv[++i];
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--size-mib" && i + 1 < argc) {
      size_mib = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: bench_attach --tgtd-dir DIR [--seconds 3] [--rounds 5] [--size-mib 256]\n");
      return 2;
    }
  }
  if (tgtd_dir.empty()) {
    std::fprintf(stderr, "bench_attach: --tgtd-dir DIR (scripts/tgtd-harness.sh start DIR) is required\n");
    return 2;
  }
  std::string socket = ReadLine(tgtd_dir + "/socket");
  std::string port = ReadLine(tgtd_dir + "/port");
  if (socket.empty() || port.empty()) {
    std::fprintf(stderr, "bench_attach: no running harness in %s\n", tgtd_dir.c_str());
    return 1;
  }
  // The target: a backing file of random bytes, LUN 1, CHAP.
  char tmpl[] = "/tmp/bench-attach-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  std::string dir = tmpl, backing = dir + "/backing";
  uint64_t size = size_mib << 20;
  Run("head -c " + std::to_string(size) + " /dev/urandom > " + backing);
  const int tid = 31000 + getpid() % 1000;
  const std::string iqn = "iqn.2026-12.org.libcinder.bench:attach-" + std::to_string(tid);
  const std::string user = "benchuser" + std::to_string(tid), password = "BenchPw" + std::to_string(getpid()) + "q";
  const std::string adm = "TGT_IPC_SOCKET='" + socket + "' tgtadm --lld iscsi ";
  const std::string t = " --tid " + std::to_string(tid);
  std::string setup = adm + "--mode target --op new" + t + " --targetname " + iqn + " && " + adm +
                      "--mode logicalunit --op new" + t + " --lun 1 --backing-store " + backing + " && " + adm +
                      "--mode account --op new --user " + user + " --password " + password + " && " + adm +
                      "--mode account --op bind" + t + " --user " + user + " && " + adm + "--mode target --op bind" +
                      t + " --initiator-address ALL";
  if (std::system(setup.c_str()) != 0) {
    std::fprintf(stderr, "bench_attach: tgtadm failed\n");
    return 1;
  }
  const std::string portal = "127.0.0.1:" + port;
  std::string json = R"({"driver_volume_type": "iscsi", "target_portal": ")" + portal + R"(", "target_iqn": ")" + iqn +
                     R"(", "target_lun": 1, "auth_method": "CHAP", "auth_username": ")" + user +
                     R"(", "auth_password": ")" + password + R"(", "access_mode": "rw"})";
  const std::string url = "iscsi://" + user + "%" + password + "@" + portal + "/" + iqn + "/1";
  int rc = 0;
  {
    auto dev = cinder::OpenConnection(json);
    if (!dev.ok()) {
      std::fprintf(stderr, "bench_attach: %s\n", dev.status().ToString().c_str());
      rc = 1;
    } else {
      const Case cases[] = {{"seq read 1 MiB QD1", false, false, 1 << 20, 1},
                            {"seq write 1 MiB QD1", true, false, 1 << 20, 1},
                            {"rand read 4 KiB QD1", false, true, 4096, 1},
                            {"rand read 4 KiB QD32", false, true, 4096, 32}};
      // Warm tgtd's page cache so every method reads the same memory.
      File(backing, false, cases[0], size, 1);
      std::printf(
          "bench_attach: tgtd %s, target %s (%llu MiB backing file on %s), %.0f s per figure (connector and raw: "
          "median of %d alternating rounds)\n\n",
          portal.c_str(), iqn.c_str(), static_cast<unsigned long long>(size_mib), backing.c_str(), seconds, rounds);
      std::printf("%-22s %-26s %-26s %-7s %-26s %-26s %-26s\n", "case", "connector", "raw libiscsi", "conn/raw",
                  "iscsi-perf", "file O_DIRECT", "file page cache");
      std::vector<std::string> commands;
      for (const Case& c : cases) {
        // The machine is shared: alternate the two in short rounds and keep each one's median.
        std::vector<Figure> conns, raws;
        for (int r = 0; r < rounds; ++r) {
          conns.push_back(Connector(**dev, c, size, seconds / rounds));
          raws.push_back(RawLibiscsi(portal, iqn, user, password, c, size, seconds / rounds));
        }
        Figure conn = Median(conns), raw = Median(raws);
        std::string cmd;
        Figure perf = IscsiPerf(url, c, seconds, &cmd);
        if (!cmd.empty()) commands.push_back(cmd);
        Figure direct = File(backing, true, c, size, seconds);
        Figure cached = File(backing, false, c, size, seconds);
        char ratio[16] = "-";
        if (conn.ok && raw.ok) std::snprintf(ratio, sizeof(ratio), "%.2f", conn.mib_s / raw.mib_s);
        std::printf("%-22s %-26s %-26s %-7s %-26s %-26s %-26s\n", c.name, Cell(conn).c_str(), Cell(raw).c_str(), ratio,
                    Cell(perf).c_str(), Cell(direct).c_str(), Cell(cached).c_str());
        if (c.depth > 1) {
          Figure batches = ConnectorBatches(**dev, c, size, seconds);
          std::printf("%-22s %-26s (one caller, Submit batches of %d; the row above: %d threads)\n", "",
                      Cell(batches).c_str(), c.depth, c.depth);
        }
        std::fflush(stdout);
      }
      std::printf("\niscsi-perf runs:\n");
      for (const auto& cmd : commands) std::printf("  %s\n", cmd.c_str());
    }
  }
  Run(adm + "--mode target --op delete --force" + t + " 2>&1; " + adm + "--mode account --op delete --user " + user +
      " 2>&1");
  Run("rm -rf '" + dir + "'");
  return rc;
}

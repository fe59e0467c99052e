// The connector against a real tgtd (scripts/tgtd-harness.sh, started by the ctest fixture
// "tgtd"; CINDER_TEST_TGTD_DIR names its folder) and against local files. Each test makes its
// own target with tgtadm on a temporary backing file and deletes it afterwards.
#include "cinder/connector.h"

#include <doctest/doctest.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "connector/connection_info.h"
#include "unit/test_util.h"

namespace cinder {
namespace {

using testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Pattern(size_t len, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string s(len, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

// The harness's tgtd, or nullopt (with the reason) when the tests must skip.
struct Tgtd {
  std::string socket;
  int port = 0;
};
std::optional<Tgtd> HarnessTgtd(std::string* why) {
  const char* dir = std::getenv("CINDER_TEST_TGTD_DIR");
  if (dir == nullptr) {
    *why = "CINDER_TEST_TGTD_DIR is not set (run through ctest, or start scripts/tgtd-harness.sh)";
    return std::nullopt;
  }
  if (std::filesystem::exists(std::string(dir) + "/unavailable")) {
    *why = ReadFile(std::string(dir) + "/unavailable");
    return std::nullopt;
  }
  Tgtd t;
  t.socket = ReadFile(std::string(dir) + "/socket");
  std::string port = ReadFile(std::string(dir) + "/port");
  while (!t.socket.empty() && t.socket.back() == '\n') t.socket.pop_back();
  REQUIRE_MESSAGE(!t.socket.empty(), "CINDER_TEST_TGTD_DIR=" << dir << " holds no running harness");
  t.port = std::atoi(port.c_str());
  REQUIRE(t.port > 0);
  return t;
}

#define TGTD_OR_SKIP(var)                 \
  std::string skip_reason_;               \
  auto var = HarnessTgtd(&skip_reason_);  \
  if (!var) {                             \
    MESSAGE("skipped: " << skip_reason_); \
    return;                               \
  }

// Runs tgtadm against the harness's tgtd; returns its exit status, output in *out.
int Tgtadm(const Tgtd& tgtd, const std::string& args, std::string* out = nullptr) {
  std::string cmd = "TGT_IPC_SOCKET='" + tgtd.socket + "' tgtadm --lld iscsi " + args + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  REQUIRE(f != nullptr);
  std::string text;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  int st = pclose(f);
  if (out != nullptr) *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// A target of its own on a backing file filled with a known pattern: LUN 1, CHAP account bound,
// open to every initiator address. Deleted (with its account) at the end of the scope.
class Target {
 public:
  static constexpr size_t kSize = 8 << 20;

  Target(const Tgtd& tgtd, bool readonly_lun = false) : tgtd_(tgtd) {
    backing_ = dir_.path() + "/backing";
    initial_ = Pattern(kSize, 7);
    std::ofstream(backing_, std::ios::binary) << initial_;
    static std::atomic<int> counter{0};
    std::string out;
    for (int attempt = 0; attempt < 20; ++attempt) {
      tid_ = 20000 + static_cast<int>(getpid() % 5000) * 4 + (counter++ % 4) + attempt * 20000;
      iqn_ = "iqn.2026-12.org.libcinder.test:connector-" + std::to_string(getpid()) + "-" + std::to_string(tid_);
      if (Tgtadm(tgtd_, "--mode target --op new --tid " + std::to_string(tid_) + " --targetname " + iqn_, &out) == 0) {
        break;
      }
      REQUIRE_MESSAGE(out.find("already exists") != std::string::npos, out);
      tid_ = 0;
    }
    REQUIRE(tid_ != 0);
    user_ = "conntest" + std::to_string(tid_);
    password_ = "Pw" + std::to_string(getpid()) + "x" + std::to_string(tid_) + "Zq";
    std::string t = " --tid " + std::to_string(tid_);
    REQUIRE_MESSAGE(
        Tgtadm(tgtd_, "--mode logicalunit --op new" + t + " --lun 1 --backing-store " + backing_, &out) == 0, out);
    if (readonly_lun) {
      REQUIRE_MESSAGE(Tgtadm(tgtd_, "--mode logicalunit --op update" + t + " --lun 1 --params readonly=1", &out) == 0,
                      out);
    }
    Tgtadm(tgtd_, "--mode account --op delete --user " + user_);  // a leftover of a crashed run
    REQUIRE_MESSAGE(Tgtadm(tgtd_, "--mode account --op new --user " + user_ + " --password " + password_, &out) == 0,
                    out);
    REQUIRE_MESSAGE(Tgtadm(tgtd_, "--mode account --op bind" + t + " --user " + user_, &out) == 0, out);
    REQUIRE_MESSAGE(Tgtadm(tgtd_, "--mode target --op bind" + t + " --initiator-address ALL", &out) == 0, out);
  }
  ~Target() {
    Tgtadm(tgtd_, "--mode target --op delete --force --tid " + std::to_string(tid_));
    Tgtadm(tgtd_, "--mode account --op delete --user " + user_);
  }

  // Attachment-style (flat) connection_info.
  std::string Flat(const std::string& password, const std::string& access_mode = "rw") const {
    return R"({"driver_volume_type": "iscsi", "target_discovered": false, "target_portal": "127.0.0.1:)" +
           std::to_string(tgtd_.port) + R"(", "target_iqn": ")" + iqn_ +
           R"(", "target_lun": 1, "volume_id": "11111111-2222-3333-4444-555555555555", "auth_method": "CHAP",)"
           R"( "auth_username": ")" +
           user_ + R"(", "auth_password": ")" + password + R"(", "encrypted": false, "access_mode": ")" + access_mode +
           R"(", "attachment_id": "aaaaaaaa-0000-0000-0000-000000000001"})";
  }
  std::string Flat() const { return Flat(password_); }
  // os-initialize_connection's legacy form, with target_portals lists and a ",tpgt" portal.
  std::string Legacy() const {
    return R"({"driver_volume_type": "iscsi", "data": {"target_portals": ["127.0.0.1:)" + std::to_string(tgtd_.port) +
           R"(,1"], "target_iqns": [")" + iqn_ +
           R"("], "target_luns": [1], "auth_method": "CHAP", "auth_username": ")" + user_ + R"(", "auth_password": ")" +
           password_ + R"(", "volume_id": "v1"}})";
  }

  const std::string& backing() const { return backing_; }
  const std::string& password() const { return password_; }
  const std::string& iqn() const { return iqn_; }
  const std::string& initial() const { return initial_; }
  int tid() const { return tid_; }

 private:
  Tgtd tgtd_;
  TempDir dir_;
  std::string backing_, initial_, iqn_, user_, password_;
  int tid_ = 0;
};

std::unique_ptr<BlockDevice> MustOpen(const std::string& json) {
  auto dev = OpenConnection(json);
  REQUIRE_MESSAGE(dev.ok(), dev.status().ToString());
  return std::move(dev).value();
}

TEST_CASE("connector: the flat and the legacy connection_info both log in with CHAP and see the LUN's size") {
  TGTD_OR_SKIP(tgtd);
  Target target(*tgtd);
  for (const std::string& json : {target.Flat(), target.Legacy()}) {
    auto dev = MustOpen(json);
    CHECK(dev->BlockSize() == 512);
    CHECK_FALSE(dev->ReadOnly());
    auto size = dev->Size();
    REQUIRE(size.ok());
    CHECK(*size == Target::kSize);
    CHECK(dev->Describe().find(target.iqn()) != std::string::npos);
    std::string buf(4096, '\0');
    REQUIRE(dev->Read(Target::kSize - 4096, buf.data(), buf.size()).ok());
    CHECK(buf == target.initial().substr(Target::kSize - 4096));
  }
}

TEST_CASE("connector: writes at aligned and misaligned offsets read back through iSCSI and land in the backing file") {
  TGTD_OR_SKIP(tgtd);
  Target target(*tgtd);
  auto dev = MustOpen(target.Flat());
  std::string expected = target.initial();
  struct Case {
    uint64_t offset;
    size_t len;
  };
  // Aligned, misaligned head, misaligned tail, both, inside one block, across many blocks,
  // larger than one SCSI command (1 MiB), the last bytes of the volume.
  const Case cases[] = {{0, 4096},
                        {512 * 9 + 17, 2000},
                        {65536, 1000},
                        {3 * 4096 + 1, 3 * 4096},
                        {100000, 100},
                        {200001, 1},
                        {1 << 20, 3 << 20},
                        {(5 << 20) + 7, (1 << 20) + 513},
                        {Target::kSize - 300, 300}};
  uint32_t seed = 100;
  for (const Case& c : cases) {
    std::string data = Pattern(c.len, seed++);
    REQUIRE_MESSAGE(dev->Write(c.offset, data.data(), data.size()).ok(), "offset " << c.offset);
    expected.replace(c.offset, c.len, data);
  }
  REQUIRE(dev->Flush().ok());
  for (const Case& c : cases) {
    std::string back(c.len, '\0');
    REQUIRE(dev->Read(c.offset, back.data(), back.size()).ok());
    CHECK_MESSAGE(back == expected.substr(c.offset, c.len), "offset " << c.offset << " len " << c.len);
  }
  // The whole volume through iSCSI, in misaligned pieces, and the backing file, byte for byte.
  std::string all(Target::kSize, '\0');
  for (size_t off = 0; off < Target::kSize; off += 777777) {
    size_t len = std::min<size_t>(777777, Target::kSize - off);
    REQUIRE(dev->Read(off, all.data() + off, len).ok());
  }
  CHECK(all == expected);
  CHECK(ReadFile(target.backing()) == expected);
  // A new session sees the same bytes.
  auto again = MustOpen(target.Legacy());
  std::string head(8192, '\0');
  REQUIRE(again->Read(0, head.data(), head.size()).ok());
  CHECK(head == expected.substr(0, 8192));
}

TEST_CASE("connector: a batch of 32 I/Os is in flight at once, and concurrent callers share the session") {
  TGTD_OR_SKIP(tgtd);
  Target target(*tgtd);
  auto dev = MustOpen(target.Flat());
  std::string expected = target.initial();
  // 32 writes of 4 KiB at scattered offsets (two of them misaligned and sharing a block).
  std::vector<std::string> data;
  std::vector<BlockDevice::Request> batch;
  for (int i = 0; i < 32; ++i) {
    data.push_back(Pattern(4096, 1000 + i));
    uint64_t off = static_cast<uint64_t>(i) * 200 * 1024;
    if (i == 30) off = 7000000 + 10;
    if (i == 31) off = 7000000 + 10 + 4096 + 100;  // shares a block with i == 30's tail
    batch.push_back({true, off, data.back().data(), 4096, Status()});
  }
  REQUIRE(dev->Submit(batch).ok());
  for (auto& r : batch) {
    CHECK(r.result.ok());
    expected.replace(r.offset, r.len, static_cast<const char*>(r.buf), r.len);
  }
  REQUIRE(dev->Flush().ok());
  CHECK(ReadFile(target.backing()) == expected);
  // 32 reads back in one batch.
  std::vector<std::string> back(32, std::string(4096, '\0'));
  std::vector<BlockDevice::Request> reads;
  for (int i = 0; i < 32; ++i) reads.push_back({false, batch[i].offset, back[i].data(), 4096, Status()});
  REQUIRE(dev->Submit(reads).ok());
  for (int i = 0; i < 32; ++i) CHECK(back[i] == expected.substr(batch[i].offset, 4096));
  // One bad request fails alone; the others complete.
  std::string big(4096, '\0'), ok(4096, '\0');
  std::vector<BlockDevice::Request> mixed = {{false, Target::kSize, big.data(), 4096, Status()},
                                             {false, 0, ok.data(), 4096, Status()}};
  Status st = dev->Submit(mixed);
  CHECK(st.code() == Code::kInvalidArgument);
  CHECK(mixed[0].result.code() == Code::kInvalidArgument);
  CHECK(mixed[1].result.ok());
  CHECK(ok == expected.substr(0, 4096));
  // Eight threads, each reading and writing its own region, on one device.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      uint64_t base = static_cast<uint64_t>(t) * (1 << 20);
      for (int i = 0; i < 40; ++i) {
        std::string w = Pattern(8192 + 3, t * 100 + i);
        uint64_t off = base + static_cast<uint64_t>(i % 10) * 9000;
        std::string r(w.size(), '\0');
        if (!dev->Write(off, w.data(), w.size()).ok() || !dev->Read(off, r.data(), r.size()).ok() || r != w) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("connector: a wrong CHAP password is refused, naming the portal and IQN but not the password") {
  TGTD_OR_SKIP(tgtd);
  Target target(*tgtd);
  const std::string wrong = "NotThePassword42";
  auto dev = OpenConnection(target.Flat(wrong));
  REQUIRE_FALSE(dev.ok());
  CHECK(dev.status().code() == Code::kUnauthenticated);
  const std::string& m = dev.status().message();
  CHECK(m.find(target.iqn()) != std::string::npos);
  CHECK(m.find("127.0.0.1:" + std::to_string(tgtd->port)) != std::string::npos);
  CHECK(m.find(wrong) == std::string::npos);
  CHECK(m.find(target.password()) == std::string::npos);
  // No credentials at all: refused too.
  std::string none = target.Flat();
  none.replace(none.find("\"auth_method\": \"CHAP\""), std::strlen("\"auth_method\": \"CHAP\""), "\"x\": 0");
  auto anon = OpenConnection(none);
  REQUIRE_FALSE(anon.ok());
  CHECK(anon.status().code() == Code::kUnauthenticated);
  // A target that does not exist.
  std::string missing = target.Flat();
  missing.replace(missing.find(target.iqn()), target.iqn().size(), target.iqn() + "-gone");
  auto gone = OpenConnection(missing);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.status().message().find(target.iqn() + "-gone") != std::string::npos);
}

TEST_CASE("connector: access_mode ro refuses every write without sending it") {
  TGTD_OR_SKIP(tgtd);
  Target target(*tgtd);
  auto dev = MustOpen(target.Flat(target.password(), "ro"));
  CHECK(dev->ReadOnly());
  std::string data(4096, 'x');
  Status st = dev->Write(0, data.data(), data.size());
  CHECK(st.code() == Code::kPermissionDenied);
  CHECK(st.message().find("read-only") != std::string::npos);
  std::vector<BlockDevice::Request> batch = {{true, 4096, data.data(), 4096, Status()},
                                             {false, 0, data.data(), 4096, Status()}};
  CHECK(dev->Submit(batch).code() == Code::kPermissionDenied);
  CHECK(batch[1].result.ok());  // reads still work
  CHECK(data == target.initial().substr(0, 4096));
  CHECK(ReadFile(target.backing()) == target.initial());
}

TEST_CASE("connector: a read-only LUN (tgt readonly=1) refuses writes with DATA PROTECT") {
  TGTD_OR_SKIP(tgtd);
  Target target(*tgtd, /*readonly_lun=*/true);
  auto dev = MustOpen(target.Flat());
  CHECK_FALSE(dev->ReadOnly());  // the connection_info says rw; the target says no
  std::string data(4096, 'y');
  Status st = dev->Write(8192, data.data(), data.size());
  CHECK(st.code() == Code::kPermissionDenied);
  CHECK(st.message().find("DATA PROTECT") != std::string::npos);
  Status unaligned = dev->Write(8192 + 5, data.data(), 100);
  CHECK(unaligned.code() == Code::kPermissionDenied);
  std::string back(4096, '\0');
  REQUIRE(dev->Read(8192, back.data(), back.size()).ok());
  CHECK(back == target.initial().substr(8192, 4096));
  CHECK(ReadFile(target.backing()) == target.initial());
}

TEST_CASE("connector: I/O past the end of the volume is refused") {
  TGTD_OR_SKIP(tgtd);
  Target target(*tgtd);
  auto dev = MustOpen(target.Flat());
  std::string buf(1024, '\0');
  CHECK(dev->Read(Target::kSize - 512, buf.data(), buf.size()).code() == Code::kInvalidArgument);
  CHECK(dev->Write(Target::kSize, buf.data(), 1).code() == Code::kInvalidArgument);
  CHECK(dev->Read(Target::kSize, buf.data(), 0).ok());
}

TEST_CASE("connector: driver_volume_type local reads and writes the file; ro opens it read-only") {
  TempDir dir;
  std::string path = dir.path() + "/vol";
  std::string initial = Pattern(1 << 20, 3);
  std::ofstream(path, std::ios::binary) << initial;
  std::string json = R"({"driver_volume_type": "local", "data": {"device_path": ")" + path + R"("}})";
  auto dev = MustOpen(json);
  CHECK(dev->BlockSize() == 1);
  CHECK(*dev->Size() == initial.size());
  std::string data = Pattern(10000, 4);
  REQUIRE(dev->Write(12345, data.data(), data.size()).ok());
  REQUIRE(dev->Flush().ok());
  initial.replace(12345, data.size(), data);
  CHECK(ReadFile(path) == initial);
  std::vector<std::string> back(8, std::string(5000, '\0'));
  std::vector<BlockDevice::Request> batch;
  for (int i = 0; i < 8; ++i) batch.push_back({false, static_cast<uint64_t>(i) * 5000, back[i].data(), 5000, Status()});
  REQUIRE(dev->Submit(batch).ok());
  for (int i = 0; i < 8; ++i) CHECK(back[i] == initial.substr(i * 5000, 5000));
  CHECK(dev->Read(initial.size() - 10, data.data(), 11).code() == Code::kInvalidArgument);

  auto ro = MustOpen(R"({"driver_volume_type": "local", "device_path": ")" + path + R"(", "access_mode": "ro"})");
  CHECK(ro->ReadOnly());
  CHECK(ro->Write(0, data.data(), 10).code() == Code::kPermissionDenied);
  CHECK(ReadFile(path) == initial);

  auto missing = OpenConnection(R"({"driver_volume_type": "local", "device_path": "/nonexistent/vol"})");
  CHECK(missing.status().code() == Code::kNotFound);
}

TEST_CASE("connector: bad JSON, an unknown driver_volume_type and missing keys are InvalidArgument") {
  struct Bad {
    const char* json;
    const char* says;
  };
  const Bad cases[] = {
      {"{not json", "JSON"},
      {"[1, 2]", "object"},
      {R"({"data": {}})", "driver_volume_type"},
      {R"({"driver_volume_type": "rbd", "data": {"name": "pool/vol"}})", "\"rbd\" is not supported"},
      {R"({"driver_volume_type": "iscsi", "target_iqn": "iqn.x:y", "target_lun": 1})", "target_portal"},
      {R"({"driver_volume_type": "iscsi", "target_portal": "127.0.0.1:3260", "target_lun": 1})", "target_iqn"},
      {R"({"driver_volume_type": "iscsi", "target_portal": "127.0.0.1:3260", "target_iqn": "iqn.x:y"})", "target_lun"},
      {R"({"driver_volume_type": "iscsi", "target_portal": "h:1", "target_iqn": "i", "target_lun": 1,
           "auth_method": "CHAP", "auth_username": "u"})",
       "auth_password"},
      {R"({"driver_volume_type": "iscsi", "target_portal": "h:1", "target_iqn": "i", "target_lun": 1,
           "auth_method": "kerberos"})",
       "only CHAP"},
      {R"({"driver_volume_type": "iscsi", "target_portal": "h:1", "target_iqn": "i", "target_lun": 1,
           "access_mode": "rx"})",
       "access_mode"},
      {R"({"driver_volume_type": "local"})", "device_path"},
      {R"({"connection_info": {}})", "empty"},
  };
  for (const Bad& b : cases) {
    auto dev = OpenConnection(b.json);
    REQUIRE_FALSE(dev.ok());
    CHECK_MESSAGE(dev.status().code() == Code::kInvalidArgument, b.json);
    CHECK_MESSAGE(dev.status().message().find(b.says) != std::string::npos, dev.status().message());
  }
  // The wrapped forms parse to the same thing as the flat one.
  auto wrapped = connector::ParseConnectionInfo(
      R"({"attachment": {"id": "a", "connection_info": {"driver_volume_type": "iscsi", "target_portal": "10.0.0.1:3260,1",
          "target_iqn": "iqn.x:y", "target_lun": "2", "auth_method": "CHAP", "auth_username": "u",
          "auth_password": "p", "access_mode": "ro", "attachment_id": "a"}}})");
  REQUIRE(wrapped.ok());
  CHECK(wrapped->portal == "10.0.0.1:3260");
  CHECK(wrapped->lun == 2);
  CHECK(wrapped->chap);
  CHECK(wrapped->read_only);
  CHECK(wrapped->Subject() == "attachment a");
  CHECK(DefaultInitiatorName().rfind("iqn.2026-12.org.libcinder:", 0) == 0);
}

}  // namespace
}  // namespace cinder

// The Env: its file calls on the real file system, and waiting on its clocks (the real one and
// a FakeClock) as the periodic tasks of the services do.
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cinder/env.h"
#include "cinder/service.h"
#include "db/heartbeat.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The real Env, counting how often its monotonic clock is read.
class CountingEnv : public EnvWrapper {
 public:
  CountingEnv() : EnvWrapper(Env::Default()) {}
  std::chrono::steady_clock::time_point NowMonotonic() override {
    ++reads;
    return EnvWrapper::NowMonotonic();
  }
  std::atomic<int> reads{0};
};

}  // namespace

TEST_CASE("Env files: create, write, holes, rename without replacing, remove") {
  testing::TempDir dir;
  Env* env = Env::Default();
  const std::string a = dir.path() + "/a";
  auto f = env->OpenFile(a, Env::OpenMode::kCreate);
  REQUIRE(f.ok());
  CHECK(env->OpenFile(a, Env::OpenMode::kCreate).status().code() == Code::kAlreadyExists);
  CHECK(env->OpenFile(dir.path() + "/none", Env::OpenMode::kRead).status().code() == Code::kNotFound);
  REQUIRE((*f)->Truncate(8 << 20).ok());
  REQUIRE((*f)->WriteAt(4 << 20, "data", 4).ok());
  auto e = (*f)->NextData(0);
  REQUIRE(e.ok());
  CHECK(e->offset <= 4 << 20);  // a file system without holes answers 0
  CHECK(e->offset + e->length >= (4 << 20) + 4);
  char buf[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  CHECK(*(*f)->ReadAt((4 << 20) + 2, buf, sizeof buf) == 8);
  CHECK(std::string(buf, 8) == std::string("ta\0\0\0\0\0\0", 8));  // then the hole reads as zeros
  CHECK(*(*f)->ReadAt((8 << 20) - 4, buf, sizeof buf) == 4);       // the end
  REQUIRE((*f)->Sync().ok());
  REQUIRE((*f)->Close().ok());
  auto info = env->Stat(a);
  REQUIRE(info.ok());
  CHECK(info->size == 8 << 20);
  CHECK(info->is_regular);
  CHECK(info->mode == 0600);

  std::string tmp;
  auto t = env->NewTempFile(dir.path() + "/.a.tmp-", &tmp);
  REQUIRE(t.ok());
  CHECK(tmp.rfind(dir.path() + "/.a.tmp-", 0) == 0);
  CHECK(env->RenameFile(tmp, a, /*replace=*/false).code() == Code::kAlreadyExists);
  REQUIRE(env->RenameFile(tmp, a, /*replace=*/true).ok());
  CHECK(env->Stat(a)->size == 0);
  CHECK(env->GetChildren(dir.path())->size() == 1);
  REQUIRE(env->CreateDirs(dir.path() + "/x/y/z").ok());
  CHECK(env->Stat(dir.path() + "/x/y/z")->is_directory);
  CHECK(env->CreateDirs(a + "/sub").code() == Code::kInternal);  // a is a file
  REQUIRE(env->RemoveFile(a).ok());
  CHECK(env->RemoveFile(a).code() == Code::kNotFound);
  CHECK(env->GetSpace(dir.path())->total_bytes > 0);
  CHECK(IoError(ENOSPC).code() == Code::kResourceExhausted);
  CHECK(IoError(EIO).code() == Code::kInternal);
}

TEST_CASE("Env files: a buffered write of many pieces lands whole, at an unaligned offset") {
  testing::TempDir dir;
  auto f = Env::Default()->OpenFile(dir.path() + "/big", Env::OpenMode::kCreate);
  REQUIRE(f.ok());
  // WriteAt goes by 32 KiB pieces (env_posix.cc kBufferedWritePiece): 5 MiB + 3 bytes from 7.
  std::string data((5 << 20) + 3, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 2654435761u >> 13);
  REQUIRE((*f)->WriteAt(7, data.data(), data.size()).ok());
  std::string back(data.size() + 7, '\1');
  CHECK(*(*f)->ReadAt(0, back.data(), back.size()) == back.size());
  CHECK(back.substr(0, 7) == std::string(7, '\0'));
  CHECK(back.substr(7) == data);
}

TEST_CASE("FakeClock: a waiter sleeps until the clock is advanced to its deadline, or it is stopped") {
  FakeClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::atomic<int> woke{0};
  const auto deadline = clock.NowMonotonic() + seconds(10);
  std::thread waiter([&] {
    std::unique_lock<std::mutex> l(mu);
    while (!clock.WaitUntil(cv, l, deadline, [&] { return stop; })) ++woke;
  });
  std::this_thread::sleep_for(milliseconds(100));
  CHECK(woke == 0);  // real time passes; the fake clock does not
  clock.Advance(seconds(9));
  std::this_thread::sleep_for(milliseconds(100));
  CHECK(woke == 0);
  clock.Advance(seconds(1));  // the deadline: it wakes, and then keeps returning at once
  for (int i = 0; i < 100 && woke == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  CHECK(woke > 0);
  {
    std::lock_guard<std::mutex> l(mu);
    stop = true;
  }
  cv.notify_all();
  waiter.join();
}

TEST_CASE("with the real clock a periodic task sleeps its whole interval, and stops at once") {
  testing::TempDir dir;
  Options o = testing::ManagerOptions(dir.path());
  REQUIRE(DbSync(o).ok());
  auto store = Store::Open(o.DatabaseUrl());
  REQUIRE(store.ok());
  CountingEnv env;
  const auto start = std::chrono::steady_clock::now();
  {
    ServiceHeartbeat heartbeat(store->get(), /*interval_seconds=*/3600, &env);
    std::this_thread::sleep_for(milliseconds(600));
  }
  // Made, waited once, and woken to stop: no looking at the clock a few times a second.
  CHECK(env.reads <= 3);
  CHECK(std::chrono::steady_clock::now() - start < seconds(2));
}

TEST_CASE("a FakeClock's advance wakes the heartbeat") {
  testing::TempDir dir;
  Options o = testing::ManagerOptions(dir.path());
  REQUIRE(DbSync(o).ok());
  auto store = Store::Open(o.DatabaseUrl());
  REQUIRE(store.ok());
  FakeClock clock;
  ServiceHeartbeat heartbeat(store->get(), /*interval_seconds=*/10, &clock);
  ServiceInfo svc;
  svc.host = "h@b";
  svc.binary = "cinder-volume";
  svc.topic = "cinder-volume";
  REQUIRE(heartbeat.Register(svc).ok());
  auto updated = [&] {
    auto all = (*store)->ListServices(std::nullopt, std::nullopt);
    REQUIRE(all.ok());
    REQUIRE(all->size() == 1);
    return all->front().updated_at.value_or("");
  };
  const std::string first = updated();
  std::this_thread::sleep_for(milliseconds(300));
  CHECK(updated() == first);  // not due on the fake clock
  clock.Advance(seconds(11));
  bool beat = false;
  for (int i = 0; i < 200 && !beat; ++i) {
    beat = updated() != first;
    if (!beat) std::this_thread::sleep_for(milliseconds(10));
  }
  CHECK(beat);
}

}  // namespace cinder

// Env: what libcinder asks of the machine that tests want to control, as LevelDB's Env: the
// clocks. Options::env names the Env a service uses (nullptr: Env::Default()); a FakeClock
// lets a test advance time, so heartbeats, down services and sweeps are tested without
// sleeping. The file system calls of the drivers are not behind it yet.
#ifndef CINDER_ENV_H_
#define CINDER_ENV_H_

#include <chrono>
#include <mutex>

namespace cinder {

// An Env is safe for concurrent use.
class Env {
 public:
  virtual ~Env() = default;
  // The real clocks. Never destroyed.
  static Env* Default();
  // Wall-clock time: timestamps written to the database, and how old the ones read are.
  virtual std::chrono::system_clock::time_point Now() = 0;
  // Monotonic time, for intervals within a process.
  virtual std::chrono::steady_clock::time_point NowMonotonic() = 0;
};

// Clocks that start at the real time and move only by Advance. The periodic tasks of the
// services look at their Env's clock a few times a second (in real time), so a test that
// advances the clock sees them run within a fraction of a second.
class FakeClock : public Env {
 public:
  FakeClock();
  std::chrono::system_clock::time_point Now() override;
  std::chrono::steady_clock::time_point NowMonotonic() override;
  void Advance(std::chrono::milliseconds by);

 private:
  std::mutex mu_;
  std::chrono::system_clock::time_point now_;        // guarded by mu_
  std::chrono::steady_clock::time_point monotonic_;  // guarded by mu_
};

}  // namespace cinder

#endif  // CINDER_ENV_H_

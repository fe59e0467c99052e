#include "cinder/env.h"

namespace cinder {

namespace {

class RealEnv : public Env {
 public:
  std::chrono::system_clock::time_point Now() override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point NowMonotonic() override { return std::chrono::steady_clock::now(); }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new RealEnv;  // never destroyed: services may outlive static destruction
  return env;
}

FakeClock::FakeClock() : now_(std::chrono::system_clock::now()), monotonic_(std::chrono::steady_clock::now()) {}

std::chrono::system_clock::time_point FakeClock::Now() {
  std::lock_guard<std::mutex> l(mu_);
  return now_;
}

std::chrono::steady_clock::time_point FakeClock::NowMonotonic() {
  std::lock_guard<std::mutex> l(mu_);
  return monotonic_;
}

void FakeClock::Advance(std::chrono::milliseconds by) {
  std::lock_guard<std::mutex> l(mu_);
  now_ += by;
  monotonic_ += by;
}

}  // namespace cinder

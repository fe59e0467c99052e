#include "cinder/env.h"

namespace cinder {

Status File::CloneFrom(File*) { return Unimplemented("this file cannot share blocks"); }

Result<int64_t> File::CopyRangeFrom(File*, int64_t, int64_t) {
  return Unimplemented("this file cannot copy ranges in the kernel");
}

FakeClock::FakeClock(Env* base)
    : EnvWrapper(base), now_(std::chrono::system_clock::now()), monotonic_(std::chrono::steady_clock::now()) {}

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

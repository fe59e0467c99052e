#include "cinder/env.h"

#include <algorithm>

namespace cinder {

Status File::CloneFrom(File*) { return Unimplemented("this file cannot share blocks"); }

Result<int64_t> File::CopyRangeFrom(File*, int64_t, int64_t) {
  return Unimplemented("this file cannot copy ranges in the kernel");
}

Status File::PunchHole(int64_t, int64_t) { return Unimplemented("this file cannot punch holes"); }

Status File::WriteDirectAt(int64_t offset, const char* data, size_t n) { return WriteAt(offset, data, n); }

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

// The waiter is registered with its own mutex released (Advance takes waiters_mu_, then the
// waiter's mutex), then waits on its condition variable; Advance notifies it holding that mutex,
// so a waiter between its check of the clock and its wait cannot miss an advance.
bool FakeClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                          std::chrono::steady_clock::time_point deadline, const std::function<bool()>& stop) {
  Waiter me{lock.mutex(), &cv};
  lock.unlock();
  {
    std::lock_guard<std::mutex> w(waiters_mu_);
    waiters_.push_back(&me);
  }
  lock.lock();
  while (!stop() && NowMonotonic() < deadline) cv.wait(lock);
  lock.unlock();
  {
    std::lock_guard<std::mutex> w(waiters_mu_);
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &me));
  }
  lock.lock();
  return stop();
}

void FakeClock::Advance(std::chrono::milliseconds by) {
  {
    std::lock_guard<std::mutex> l(mu_);
    now_ += by;
    monotonic_ += by;
  }
  std::lock_guard<std::mutex> w(waiters_mu_);
  for (Waiter* waiter : waiters_) {
    std::lock_guard<std::mutex> l(*waiter->mu);
    waiter->cv->notify_all();
  }
}

}  // namespace cinder

#include "common/worker_pool.h"

#include "common/log.h"

namespace cinder {

WorkerPool::WorkerPool(int threads) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());
  for (auto& w : workers_) w->thread = std::thread([this, p = w.get()] { Loop(p); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& w : workers_) w->thread.join();
}

namespace {

// The task runs under the request id of the thread that submitted it, so that its log lines
// say which request it serves.
std::function<void()> WithRequestId(std::function<void()> task) {
  const std::string& id = log::CurrentRequestId();
  if (id.empty()) return task;
  return [id, task = std::move(task)] {
    log::ScopedRequestId scoped(id);
    task();
  };
}

}  // namespace

void WorkerPool::Submit(const std::string& key, std::function<void()> task) {
  task = WithRequestId(std::move(task));
  Worker* w = workers_[std::hash<std::string>{}(key) % workers_.size()].get();
  {
    std::lock_guard<std::mutex> l(mu_);
    w->queue.push_back(std::move(task));
    ++pending_;
  }
  work_cv_.notify_all();
}

void WorkerPool::SubmitAny(std::function<void()> task) {
  task = WithRequestId(std::move(task));
  {
    std::lock_guard<std::mutex> l(mu_);
    shared_.push_back(std::move(task));
    ++pending_;
  }
  work_cv_.notify_one();
}

void WorkerPool::Drain() {
  std::unique_lock<std::mutex> l(mu_);
  idle_cv_.wait(l, [this] { return pending_ == 0; });
}

void WorkerPool::Loop(Worker* w) {
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    work_cv_.wait(l, [&] { return stopping_ || !w->queue.empty() || !shared_.empty(); });
    std::deque<std::function<void()>>& from = !w->queue.empty() ? w->queue : shared_;
    if (from.empty()) return;  // stopping, and nothing left to do
    auto task = std::move(from.front());
    from.pop_front();
    l.unlock();
    try {
      task();
    } catch (const std::exception& e) {  // a task must not take the process down
      CINDER_LOG(kError, "cinder") << "a background task failed: " << e.what();
    } catch (...) {
      CINDER_LOG(kError, "cinder") << "a background task failed";
    }
    l.lock();
    if (--pending_ == 0) idle_cv_.notify_all();
  }
}

}  // namespace cinder

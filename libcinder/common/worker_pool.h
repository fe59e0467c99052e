// WorkerPool: runs tasks off the caller's thread. Tasks with the same key run one at a time,
// in submission order (each key always lands on the same worker); tasks without a key go to
// whichever worker is free first.
#ifndef CINDER_COMMON_WORKER_POOL_H_
#define CINDER_COMMON_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cinder {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  // Finishes every queued task, then joins the threads.
  ~WorkerPool();
  void Submit(const std::string& key, std::function<void()> task);
  // Runs `task` on the first free worker.
  void SubmitAny(std::function<void()> task);
  // Blocks until no task is queued or running.
  void Drain();

 private:
  struct Worker {
    std::deque<std::function<void()>> queue;
    std::thread thread;
  };
  void Loop(Worker* w);

  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::deque<std::function<void()>> shared_;  // tasks without a key
  int pending_ = 0;
  bool stopping_ = false;
};

}  // namespace cinder

#endif  // CINDER_COMMON_WORKER_POOL_H_

// CreateAdmission: back-pressure on creates. The API refuses a new volume while
// osapi_max_pending_creates volumes of the deployment are being created (waiting for a
// scheduler, waiting in a volume host's queue, or being made), so that the queues between the
// API, the schedulers and the volume services stay bounded and a burst waits at its clients
// rather than in the services. The count is the database's, so it holds across API processes.
#ifndef CINDER_VOLUME_CREATE_ADMISSION_H_
#define CINDER_VOLUME_CREATE_ADMISSION_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "cinder/env.h"
#include "cinder/status.h"
#include "db/store.h"

namespace cinder {

class CreateAdmission {
 public:
  // `limit` 0: no limit. `store` and `env` must outlive it.
  CreateAdmission(Store* store, Env* env, int64_t limit);
  // OK (and counts the create in), or ResourceExhausted (413 overLimit) with a Retry-After.
  Status Admit();

 private:
  Store* store_;
  Env* env_;
  const int64_t limit_;
  std::mutex mu_;  // guards the fields below
  std::optional<std::chrono::steady_clock::time_point> counted_at_;
  int64_t counted_ = 0;   // volumes creating when last counted
  int64_t admitted_ = 0;  // creates admitted here since
  std::optional<std::chrono::steady_clock::time_point> warned_at_;
};

}  // namespace cinder

#endif  // CINDER_VOLUME_CREATE_ADMISSION_H_

#include "volume/create_admission.h"

#include <string>

#include "common/log.h"

namespace cinder {

namespace {

// The count is read again at most this often while creates are admitted (a burst of creates
// reads it once per period, not once per create)...
constexpr auto kRecount = std::chrono::milliseconds(50);
// ...and before refusing one, unless it was read this recently.
constexpr auto kRecountBeforeRefusing = std::chrono::milliseconds(5);
constexpr int kRetryAfterSeconds = 1;
constexpr auto kWarnEvery = std::chrono::seconds(10);

}  // namespace

CreateAdmission::CreateAdmission(Store* store, Env* env, int64_t limit)
    : store_(store), env_(env ? env : Env::Default()), limit_(limit) {}

Status CreateAdmission::Admit() {
  if (limit_ <= 0) return Status::OK();
  std::lock_guard<std::mutex> l(mu_);
  const auto now = env_->NowMonotonic();
  auto recount = [&](std::chrono::milliseconds older_than) {
    if (counted_at_ && now - *counted_at_ < older_than) return;
    auto n = store_->CountVolumesInStatus("creating");
    if (!n.ok()) return;  // the create itself then meets the database's state and says so
    counted_ = *n;
    admitted_ = 0;
    counted_at_ = now;
  };
  recount(kRecount);
  if (counted_ + admitted_ >= limit_) recount(kRecountBeforeRefusing);
  const int64_t pending = counted_ + admitted_;
  if (pending < limit_) {
    ++admitted_;
    return Status::OK();
  }
  if (!warned_at_ || now - *warned_at_ >= kWarnEvery) {
    warned_at_ = now;
    CINDER_LOG(kWarning, "cinder-api") << "refusing new volumes: " << pending
                                       << " are being created (osapi_max_pending_creates = " << limit_ << ")";
  }
  return ResourceExhausted("The volume services are busy: " + std::to_string(pending) +
                           " volumes are being created, the most this deployment accepts at once. Retry after " +
                           std::to_string(kRetryAfterSeconds) + " second.")
      .WithRetryAfter(kRetryAfterSeconds);
}

}  // namespace cinder

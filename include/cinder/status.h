// Status and Result<T>: how every libcinder call reports failure.
//
// A small canonical code set; one table (cinder/api) maps each code to Cinder's HTTP
// status and error body, so callers never rebuild an error by hand.
#ifndef CINDER_STATUS_H_
#define CINDER_STATUS_H_

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace cinder {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // bad input: 400 badRequest
  kNotFound,            // 404 itemNotFound
  kAlreadyExists,       // 409 conflict
  kFailedPrecondition,  // the resource's state forbids it: 400 badRequest (Cinder's Invalid*)
  kAborted,             // lost a race (compare-and-swap failed): 409 conflict
  kPermissionDenied,    // 403 forbidden
  kUnauthenticated,     // 401 unauthorized
  kResourceExhausted,   // quota or size limit: 413 overLimit
  kUnimplemented,       // 501 notImplemented
  kDeadlineExceeded,    // 504 gatewayTimeout
  kUnavailable,         // 503 serviceUnavailable
  kInternal,            // 500 computeFault
};

// Returns the code's name, e.g. "NotFound".
const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: Volume X could not be found."
  std::string ToString() const;
  // How many seconds a client should wait before it tries again (HTTP's Retry-After), for a
  // kResourceExhausted or kUnavailable status; 0: at once (Cinder's over-quota faults).
  int retry_after() const { return retry_after_; }
  Status&& WithRetryAfter(int seconds) && {
    retry_after_ = seconds;
    return std::move(*this);
  }
  // A kInternal status whose message was written for the user (Cinder's "Unable to create
  // attachment for volume."): the API answers it, where other internal messages stay in the log.
  bool for_user() const { return for_user_; }
  Status&& ForUser() && {
    for_user_ = true;
    return std::move(*this);
  }

 private:
  Code code_ = Code::kOk;
  int retry_after_ = 0;
  bool for_user_ = false;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {Code::kFailedPrecondition, std::move(m)}; }
inline Status Aborted(std::string m) { return {Code::kAborted, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {Code::kUnimplemented, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace cinder

// Returns early from the enclosing function with the Status if it is not OK.
#define CINDER_RETURN_IF_ERROR(expr) \
  do {                               \
    ::cinder::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

#define CINDER_CONCAT_INNER_(a, b) a##b
#define CINDER_CONCAT_(a, b) CINDER_CONCAT_INNER_(a, b)
// Declares `lhs` from a Result, or returns its Status.
#define CINDER_ASSIGN_OR_RETURN(lhs, expr)                                                    \
  auto CINDER_CONCAT_(_res_, __LINE__) = (expr);                                              \
  if (!CINDER_CONCAT_(_res_, __LINE__).ok()) return CINDER_CONCAT_(_res_, __LINE__).status(); \
  lhs = std::move(CINDER_CONCAT_(_res_, __LINE__)).value()

#endif  // CINDER_STATUS_H_

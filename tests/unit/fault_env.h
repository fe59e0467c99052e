// FaultInjectionEnv: an Env over another one (the real one by default) that fails chosen file
// calls, as RocksDB's FaultInjectionTestFS: the second write from now with ENOSPC, the next
// truncate with EIO, every rename... For the tests of what a failed create, extend or copy
// leaves behind.
#ifndef CINDER_TESTS_UNIT_FAULT_ENV_H_
#define CINDER_TESTS_UNIT_FAULT_ENV_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "cinder/env.h"

namespace cinder::testing {

class FaultInjectionEnv : public EnvWrapper {
 public:
  enum class Op {
    kCreate,  // OpenFile(kCreate), NewTempFile
    kOpen,    // OpenFile(kRead or kReadWrite)
    kRead,
    kWrite,
    kTruncate,
    kSync,
    kClose,
    kClone,      // File::CloneFrom
    kCopyRange,  // File::CopyRangeFrom
    kRename,
    kRemove,
  };

  explicit FaultInjectionEnv(Env* base = Env::Default()) : EnvWrapper(base) {}

  // The `nth` call of `op` from now on (1: the next one) fails with the system error `err`
  // (ENOSPC, EIO, ...); with `sticky`, every later one too. A failed write writes the first
  // half of its bytes, as a disk that fills up part way.
  void FailNth(Op op, int nth, int err, bool sticky = false) {
    std::lock_guard<std::mutex> l(mu_);
    rules_[op] = Rule{nth, err, sticky};
  }

  // Reflinks and copy_file_range answer Unimplemented, so that copies read and write (and a
  // failed write can be injected into them).
  void DisableKernelCopies() {
    std::lock_guard<std::mutex> l(mu_);
    kernel_copies_ = false;
  }

  // No more failures.
  void Clear() {
    std::lock_guard<std::mutex> l(mu_);
    rules_.clear();
  }

  // Calls of `op` failed so far.
  int Failures(Op op) {
    std::lock_guard<std::mutex> l(mu_);
    return failures_[op];
  }

  // OK, or the failure this call of `op` was chosen for.
  Status Check(Op op) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = rules_.find(op);
    if (it == rules_.end()) return Status::OK();
    Rule& r = it->second;
    if (--r.countdown > 0) return Status::OK();
    const int err = r.err;
    if (!r.sticky) rules_.erase(it);
    ++failures_[op];
    return IoError(err);
  }

  bool KernelCopies() {
    std::lock_guard<std::mutex> l(mu_);
    return kernel_copies_;
  }

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    CINDER_RETURN_IF_ERROR(Check(mode == OpenMode::kCreate ? Op::kCreate : Op::kOpen));
    return Wrap(EnvWrapper::OpenFile(path, mode));
  }
  Result<std::unique_ptr<File>> NewTempFile(const std::string& prefix, std::string* path) override {
    CINDER_RETURN_IF_ERROR(Check(Op::kCreate));
    return Wrap(EnvWrapper::NewTempFile(prefix, path));
  }
  Status RenameFile(const std::string& from, const std::string& to, bool replace) override {
    CINDER_RETURN_IF_ERROR(Check(Op::kRename));
    return EnvWrapper::RenameFile(from, to, replace);
  }
  Status RemoveFile(const std::string& path) override {
    CINDER_RETURN_IF_ERROR(Check(Op::kRemove));
    return EnvWrapper::RemoveFile(path);
  }

 private:
  struct Rule {
    int countdown = 1;
    int err = 0;
    bool sticky = false;
  };

  class FaultFile : public File {
   public:
    FaultFile(FaultInjectionEnv* env, std::unique_ptr<File> target) : env_(env), target_(std::move(target)) {}

    Result<size_t> ReadAt(int64_t offset, char* buf, size_t n) override {
      CINDER_RETURN_IF_ERROR(env_->Check(Op::kRead));
      return target_->ReadAt(offset, buf, n);
    }
    Status WriteAt(int64_t offset, const char* data, size_t n) override {
      Status st = env_->Check(Op::kWrite);
      if (!st.ok()) {
        (void)target_->WriteAt(offset, data, n / 2);
        return st;
      }
      return target_->WriteAt(offset, data, n);
    }
    Status WriteDirectAt(int64_t offset, const char* data, size_t n) override {
      Status st = env_->Check(Op::kWrite);
      if (!st.ok()) {
        (void)target_->WriteAt(offset, data, n / 2);
        return st;
      }
      return target_->WriteDirectAt(offset, data, n);
    }
    Status Truncate(int64_t size) override {
      CINDER_RETURN_IF_ERROR(env_->Check(Op::kTruncate));
      return target_->Truncate(size);
    }
    Result<FileInfo> Stat() override { return target_->Stat(); }
    Result<DataExtent> NextData(int64_t offset) override { return target_->NextData(offset); }
    Status SetMode(uint32_t mode) override { return target_->SetMode(mode); }
    Status Sync() override {
      CINDER_RETURN_IF_ERROR(env_->Check(Op::kSync));
      return target_->Sync();
    }
    Status PunchHole(int64_t offset, int64_t length) override {
      CINDER_RETURN_IF_ERROR(env_->Check(Op::kWrite));
      return target_->PunchHole(offset, length);
    }
    Status Close() override {
      Status st = target_->Close();
      Status injected = env_->Check(Op::kClose);
      return injected.ok() ? st : injected;
    }
    Status CloneFrom(File* src) override {
      if (!env_->KernelCopies()) return File::CloneFrom(src);
      CINDER_RETURN_IF_ERROR(env_->Check(Op::kClone));
      return target_->CloneFrom(Unwrap(src));
    }
    Result<int64_t> CopyRangeFrom(File* src, int64_t offset, int64_t length) override {
      if (!env_->KernelCopies()) return File::CopyRangeFrom(src, offset, length);
      CINDER_RETURN_IF_ERROR(env_->Check(Op::kCopyRange));
      return target_->CopyRangeFrom(Unwrap(src), offset, length);
    }

   private:
    static File* Unwrap(File* f) {
      auto* ff = dynamic_cast<FaultFile*>(f);
      return ff ? ff->target_.get() : f;
    }

    FaultInjectionEnv* env_;
    std::unique_ptr<File> target_;
  };

  Result<std::unique_ptr<File>> Wrap(Result<std::unique_ptr<File>> f) {
    if (!f.ok()) return f.status();
    return std::unique_ptr<File>(new FaultFile(this, std::move(f).value()));
  }

  std::mutex mu_;
  std::map<Op, Rule> rules_;    // guarded by mu_
  std::map<Op, int> failures_;  // guarded by mu_
  bool kernel_copies_ = true;   // guarded by mu_
};

}  // namespace cinder::testing

#endif  // CINDER_TESTS_UNIT_FAULT_ENV_H_

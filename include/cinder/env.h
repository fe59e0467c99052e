// Env: what libcinder asks of the machine that tests want to control, as LevelDB's Env: the
// clocks (and waiting on them), and the file system calls the volume drivers (and the copies
// between backends) make.
// Options::env names the Env a service uses (nullptr: Env::Default()); the volume service hands
// it to each driver (DriverContext::env). A FakeClock lets a test advance time, so heartbeats,
// down services and sweeps are tested without sleeping; an EnvWrapper over another Env lets a
// test fail chosen file calls (a write with ENOSPC, ...).
#ifndef CINDER_ENV_H_
#define CINDER_ENV_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cinder/status.h"

namespace cinder {

// What Stat says of a file.
struct FileInfo {
  int64_t size = 0;             // apparent size in bytes (a block device: where it ends)
  int64_t allocated_bytes = 0;  // what it occupies on disk (a sparse file: its data only)
  bool is_regular = false;
  bool is_directory = false;
  uint32_t mode = 0;  // permission bits (07777)
};

// Data in a sparse file: `length` bytes from `offset`, followed by a hole or the end.
struct DataExtent {
  int64_t offset = 0;
  int64_t length = 0;  // 0: no data at or after the offset asked for
};

// A file system's size (statvfs).
struct FsSpace {
  int64_t total_bytes = 0;
  int64_t available_bytes = 0;  // to an unprivileged user
};

// The file calls below fail with NotFound (no such file or directory), AlreadyExists (a new
// file's name is taken), ResourceExhausted (no space left, quota), Unimplemented (this file
// system cannot), else Internal. The message is the system's (strerror): the caller says which
// file, and what it was doing.
Status IoError(int errnum);

// An open file. Its calls take offsets (no shared position): they may be made from several
// threads at once.
class File {
 public:
  virtual ~File() = default;  // closes the file; an error then is lost (Close() reports it)
  // Reads up to `n` bytes at `offset` into `buf`; returns how many (fewer only at the end of
  // the file, 0 at or beyond it).
  virtual Result<size_t> ReadAt(int64_t offset, char* buf, size_t n) = 0;
  // Writes all `n` bytes of `data` at `offset`.
  virtual Status WriteAt(int64_t offset, const char* data, size_t n) = 0;
  // Makes the file `size` bytes long; where it grows, it grows by a hole.
  virtual Status Truncate(int64_t size) = 0;
  virtual Result<FileInfo> Stat() = 0;
  // The first data at or after `offset`. A file system that keeps no holes (a device) answers
  // everything up to the end.
  virtual Result<DataExtent> NextData(int64_t offset) = 0;
  // Sets the permission bits (07777).
  virtual Status SetMode(uint32_t mode) = 0;
  // Puts what the file holds on stable storage (fsync).
  virtual Status Sync() = 0;
  // Closes the file (some file systems report a failed write only here); later calls fail.
  virtual Status Close() = 0;
  // Makes this file share all of `src`'s blocks (a reflink). Unimplemented when the file
  // system, or this pair of files, cannot (the default).
  virtual Status CloneFrom(File* src);
  // Copies bytes [offset, offset + length) of `src` to the same offsets here in the kernel
  // (which may share blocks); returns how many it copied, which may be fewer (0 at src's end).
  // Unimplemented when it cannot (the default): read and write instead.
  virtual Result<int64_t> CopyRangeFrom(File* src, int64_t offset, int64_t length);
  // Makes [offset, offset + length) read as zeros by freeing its blocks (the file keeps its
  // size). Unimplemented when the file system cannot (the default): write zeros instead.
  virtual Status PunchHole(int64_t offset, int64_t length);
  // Writes all `n` bytes of `data` at `offset` past the page cache (O_DIRECT), when the file
  // system allows it and `data`, `offset` and `n` are multiples of kDirectAlignment; otherwise
  // as WriteAt (the default). For large writes that will not be read back soon (a restore):
  // they go to the disk at its speed without filling the cache. Sync() still makes them durable.
  virtual Status WriteDirectAt(int64_t offset, const char* data, size_t n);
  static constexpr size_t kDirectAlignment = 4096;
};

// An Env is safe for concurrent use.
class Env {
 public:
  virtual ~Env() = default;
  // The real clocks and the real (POSIX) file system. Never destroyed.
  static Env* Default();

  // Wall-clock time: timestamps written to the database, and how old the ones read are.
  virtual std::chrono::system_clock::time_point Now() = 0;
  // Monotonic time, for intervals within a process.
  virtual std::chrono::steady_clock::time_point NowMonotonic() = 0;
  // What a periodic task sleeps in: waits on `cv` (`lock` holds its mutex, and is released
  // meanwhile) until `stop()` is true, or NowMonotonic() reaches `deadline`; returns stop().
  // Whoever makes stop() true notifies `cv`. The real clock sleeps until the deadline; a
  // FakeClock wakes the waiter when it is advanced. An Env with clocks of its own overrides it
  // with them.
  virtual bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         std::chrono::steady_clock::time_point deadline, const std::function<bool()>& stop) = 0;

  enum class OpenMode {
    kRead,       // an existing file, to read
    kReadWrite,  // an existing file, to read and write
    kCreate,     // a new file (AlreadyExists when the name is taken), mode 0600, to read and write
  };
  virtual Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) = 0;
  // A new file (mode 0600) named `prefix` and six characters no other file's name has; the
  // name goes to *path.
  virtual Result<std::unique_ptr<File>> NewTempFile(const std::string& prefix, std::string* path) = 0;
  // Of the file `path` names (following symbolic links).
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Renames `from` to `to` in one step. With `replace`, an existing `to` is replaced (a reader
  // sees the old file or the new one); without, AlreadyExists when `to` exists.
  virtual Status RenameFile(const std::string& from, const std::string& to, bool replace) = 0;
  // Creates the directory `dir` and its missing parents; OK when it exists.
  virtual Status CreateDirs(const std::string& dir) = 0;
  // The names in the directory `dir`, without "." and "..".
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  // Puts the names in `dir` on stable storage (a rename or a new file survives a crash).
  virtual Status SyncDir(const std::string& dir) = 0;
  // The size of the file system that holds `path`.
  virtual Result<FsSpace> GetSpace(const std::string& path) = 0;
};

// An Env that passes every call to another one: derive from it and override what a test
// changes (LevelDB's EnvWrapper).
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  std::chrono::system_clock::time_point Now() override { return target_->Now(); }
  std::chrono::steady_clock::time_point NowMonotonic() override { return target_->NowMonotonic(); }
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 std::chrono::steady_clock::time_point deadline, const std::function<bool()>& stop) override {
    return target_->WaitUntil(cv, lock, deadline, stop);
  }
  Result<std::unique_ptr<File>> OpenFile(const std::string& path, OpenMode mode) override {
    return target_->OpenFile(path, mode);
  }
  Result<std::unique_ptr<File>> NewTempFile(const std::string& prefix, std::string* path) override {
    return target_->NewTempFile(prefix, path);
  }
  Result<FileInfo> Stat(const std::string& path) override { return target_->Stat(path); }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Status RenameFile(const std::string& from, const std::string& to, bool replace) override {
    return target_->RenameFile(from, to, replace);
  }
  Status CreateDirs(const std::string& dir) override { return target_->CreateDirs(dir); }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override { return target_->GetChildren(dir); }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }
  Result<FsSpace> GetSpace(const std::string& path) override { return target_->GetSpace(path); }

 private:
  Env* target_;
};

// Clocks that start at the real time and move only by Advance; the file system is `base`'s.
// Advance wakes the periodic tasks waiting in WaitUntil, so a test that advances the clock
// sees those that came due run at once, without sleeping.
class FakeClock : public EnvWrapper {
 public:
  explicit FakeClock(Env* base = Env::Default());
  std::chrono::system_clock::time_point Now() override;
  std::chrono::steady_clock::time_point NowMonotonic() override;
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 std::chrono::steady_clock::time_point deadline, const std::function<bool()>& stop) override;
  // Moves both clocks on by `by`, and wakes every waiter to look at them. Must not be called
  // with the mutex of a waiter's condition variable held.
  void Advance(std::chrono::milliseconds by);

 private:
  struct Waiter {
    std::mutex* mu;
    std::condition_variable* cv;
  };

  std::mutex mu_;
  std::chrono::system_clock::time_point now_;        // guarded by mu_
  std::chrono::steady_clock::time_point monotonic_;  // guarded by mu_
  std::mutex waiters_mu_;                            // taken before a waiter's mutex
  std::vector<Waiter*> waiters_;                     // guarded by waiters_mu_
};

}  // namespace cinder

#endif  // CINDER_ENV_H_

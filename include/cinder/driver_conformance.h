// The driver conformance suite: the cases every VolumeDriver must pass, for a driver's own tests.
//
//   auto report = cinder::RunDriverConformance([&] { return MyDriver::Open(dir); });
//   if (!report.ok()) { std::cerr << report.ToString(); return 1; }
//
// Each case opens a fresh driver through `open`, works on volumes and snapshots of its own (new
// UUIDs), and deletes them again, so it may run against a backend that holds other volumes.
// Where the driver's LocalPath gives a file or a block device, the cases also write and read
// bytes through it: a snapshot keeps its bytes when its volume is written afterwards, copies
// hold their source's bytes, extend keeps them, revert brings them back. The snapshot and copy
// cases are skipped (not failed) for a driver that answers Unimplemented, as the optional calls
// of VolumeDriver allow. A driver call that throws fails its case. The built-in file driver runs
// through the same suite in the project's tests.
#ifndef CINDER_DRIVER_CONFORMANCE_H_
#define CINDER_DRIVER_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cinder/status.h"
#include "cinder/volume_driver.h"

namespace cinder {

struct ConformanceCase {
  enum class Outcome { kPassed, kFailed, kSkipped };
  std::string name;
  Outcome outcome = Outcome::kPassed;
  std::vector<std::string> failures;  // what did not hold, each with the call and its answer
  std::string skip_reason;
};

struct ConformanceReport {
  std::vector<ConformanceCase> cases;
  // No case failed.
  bool ok() const;
  int passed() const;
  int failed() const;
  int skipped() const;
  // A line per case ("PASS create and delete"), the failures under it, and the totals.
  std::string ToString() const;
};

struct ConformanceOptions {
  // Write and read bytes through LocalPath where it is a file or a block device.
  bool check_data = true;
  // Threads of the concurrency case, each on volumes of its own.
  int threads = 4;
};

using DriverOpener = std::function<Result<std::unique_ptr<VolumeDriver>>()>;

// Runs every case against drivers made by `open` (called once per case).
ConformanceReport RunDriverConformance(const DriverOpener& open, const ConformanceOptions& options = {});

}  // namespace cinder

#endif  // CINDER_DRIVER_CONFORMANCE_H_

// Running libcinder's services: the embedded all-in-one service and cinder-manage.
#ifndef CINDER_SERVICE_H_
#define CINDER_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "cinder/options.h"
#include "cinder/status.h"

namespace cinder {

class VolumeManager;
class BackupManager;

// The API server and the volume service in one process, over the in-process path.
class EmbeddedService {
 public:
  // Opens the manager and starts the REST API on options.osapi_volume_listen:port.
  static Result<std::unique_ptr<EmbeddedService>> Start(const Options& options);
  virtual ~EmbeddedService() = default;
  // The TCP port the API listens on (the chosen one when the option was 0).
  virtual int port() const = 0;
  // "http://127.0.0.1:8776"
  virtual std::string endpoint() const = 0;
  virtual VolumeManager& volumes() = 0;
  // The backup API, served by the backup service running in this process (backups under
  // Options::BackupPosixPath()); SetProgressCallback on it reports that service's progress.
  virtual BackupManager& backups() = 0;
  // This process's metrics in Prometheus' text format, as GET /metrics answers them
  // (docs/metrics.md): for an embedding program that exposes them its own way.
  virtual std::string MetricsText() const = 0;
  // Stops accepting requests, finishes work in flight. Idempotent.
  virtual void Stop() = 0;
};

// The API side of a distributed deployment in this process: what cinder-api opens (the
// database that options name, its schema current, and a ZeroMQ transport that finds the
// schedulers, volume and backup hosts in its services table, secured as transport_security
// says), without the REST server. Calls go to the deployment's services, as the API's do.
class ServiceClient {
 public:
  static Result<std::unique_ptr<ServiceClient>> Connect(const Options& options);
  virtual ~ServiceClient() = default;
  virtual VolumeManager& volumes() = 0;
  virtual BackupManager& backups() = 0;
  // Stops the transport (requests in flight finish). Idempotent.
  virtual void Stop() = 0;
};

// Sends libcinder's log lines where `options` say, as the daemons do from cinder.conf: debug
// (also Debug lines), log_file (under log_dir when relative), log_dir (<log_dir>/<binary>.log
// when there is no log_file), use_stderr. Process-wide, and may be called again; until it is,
// Info and above go to stderr. InvalidArgument when the file cannot be opened.
Status ConfigureLogging(const Options& options, const std::string& binary);

// Schema migrations of the database named by options.
Status DbSync(const Options& options);
// The schema version of the database (0 before the first sync).
Result<int> DbVersion(const Options& options);
// Removes rows soft-deleted more than `days` days ago; returns how many.
Result<int64_t> DbPurge(const Options& options, int days);

// Run the services until SIGTERM or SIGINT (blocked in the calling thread before anything
// starts), then stop them in order. Embedded: API, scheduler and volume service in process.
// The others are one service each, sharing the database of options and reaching each other
// over ZeroMQ (endpoints in the services table; my_ip and rpc_port say where to bind).
Status RunEmbeddedService(const Options& options);
Status RunApiService(const Options& options);
Status RunSchedulerService(const Options& options);
Status RunVolumeService(const Options& options);
Status RunBackupService(const Options& options);

// What the daemons' main() call. Each parses its command line (--config-file PATH ...),
// runs, and returns the process exit code.
int CinderAllMain(const std::vector<std::string>& args);
int CinderApiMain(const std::vector<std::string>& args);
int CinderSchedulerMain(const std::vector<std::string>& args);
int CinderVolumeMain(const std::vector<std::string>& args);
int CinderBackupMain(const std::vector<std::string>& args);
int CinderManageMain(const std::vector<std::string>& args);

}  // namespace cinder

#endif  // CINDER_SERVICE_H_

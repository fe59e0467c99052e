// Options: everything a libcinder service reads from cinder.conf, with defaults in place.
#ifndef CINDER_OPTIONS_H_
#define CINDER_OPTIONS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cinder/status.h"

namespace cinder {

// One [backend] section named in enabled_backends.
struct BackendOptions {
  std::string name;  // the section name
  std::string volume_driver = "file";
  std::string volume_backend_name;  // default: the section name
  // What the scheduler sees of the backend's pools (Cinder's options of the same names).
  std::string max_over_subscription_ratio;                // "" = [DEFAULT]'s; a number >= 1 or "auto"
  int reserved_percentage = 0;                            // 0-100
  std::string filter_function;                            // DriverFilter expression ("" = none)
  std::string goodness_function;                          // GoodnessWeigher expression ("" = none)
  std::string backend_availability_zone;                  // "" = [DEFAULT] storage_availability_zone
  std::map<std::string, std::string> extra_capabilities;  // reported with every pool
  // How the backend's volumes are exported to attach them (Cinder's target options).
  // target_helper: "tgtadm" (iSCSI through a running tgtd) or "fake" (no export: attachments
  // answer driver_volume_type "local" with the file's path, usable on this host only).
  std::string target_helper = "tgtadm";
  std::string target_ip_address;  // the portal's address; "" = [DEFAULT] my_ip
  int target_port = 3260;
  std::string target_prefix = "iqn.2010-10.org.openstack:";
  std::string target_protocol = "iscsi";
  bool use_chap_auth = true;            // per-volume random CHAP credentials
  std::string iscsi_iotype = "fileio";  // fileio, blockio (direct I/O) or auto
  bool iscsi_write_cache = true;
  std::string iscsi_target_flags;  // tgt's bsoflags: sync, direct, sync:direct
  std::string volumes_dir;         // the targets' persist files; "" = <state_path>/targets
  std::string tgt_ipc_socket;      // tgtd's control socket prefix (TGT_IPC_SOCKET); "" = tgt's default
  // Driver-specific options of the section (e.g. file_volume_directory), validated by the driver.
  std::map<std::string, std::string> driver_options;
};

class Env;

struct Options {
  // The clocks the services read (cinder/env.h); nullptr: Env::Default(). Not owned.
  Env* env = nullptr;
  // [DEFAULT]
  std::string osapi_volume_listen = "127.0.0.1";
  int osapi_volume_listen_port = 8776;   // 0 picks a free port
  std::string auth_strategy = "noauth";  // only noauth for now
  std::string state_path = "/var/lib/cinder";
  std::string host;  // default: this machine's host name
  std::string storage_availability_zone = "nova";
  int64_t osapi_max_limit = 1000;
  int64_t osapi_max_request_body_size = 114688;
  // Volumes of the deployment being created at once (waiting for a scheduler or a volume host,
  // or being made); past it a create is refused with 413 and a Retry-After. 0: no limit.
  int64_t osapi_max_pending_creates = 1000;
  int osapi_volume_workers = 8;  // threads answering API requests (connections wait without one)
  // The API's HTTP connections (Cinder's WSGI server options where Cinder has one).
  int osapi_max_connections = 4096;     // open connections; past it a new one gets 503 and is closed
  int client_socket_timeout = 900;      // seconds an idle connection, or a stalled read or write, lasts; 0: forever
  int osapi_request_read_timeout = 60;  // seconds to read a whole request once it began; 0: no limit
  bool wsgi_keep_alive = true;          // false: every response closes its connection
  int max_header_line = 16384;          // bytes in one header line; longer: 400
  int volume_workers = 4;               // threads running driver work
  std::string my_ip = "127.0.0.1";      // where this host's RPC sockets bind and are reached
  int rpc_port = 0;                     // the port of this process's RPC socket; 0: a free one
  // How the distributed services' RPC is secured (cinder-all's in-process transport needs
  // nothing): "curve", ZeroMQ CURVE with the deployment's key pair (encrypted, and only
  // holders of the key are served or answered); "none", plain TCP that serves whoever reaches
  // my_ip, for a single trusted host (keep my_ip on loopback then).
  std::string transport_security = "curve";
  std::string transport_key_file;  // the key pair for "curve"; default: <state_path>/transport.key
  int report_interval = 10;        // seconds between service heartbeats
  int service_down_time = 60;      // a service unheard for this long is down
  // Logging (oslo.log's option names).
  std::string log_file;    // a file to log to, under log_dir when relative
  std::string log_dir;     // without log_file: <log_dir>/<daemon>.log
  bool use_stderr = true;  // also to stderr (always, when there is no file)
  // Scheduling (Cinder's option names and defaults).
  std::vector<std::string> scheduler_default_filters = {"AvailabilityZoneFilter", "CapacityFilter",
                                                        "CapabilitiesFilter"};
  std::vector<std::string> scheduler_default_weighers = {"CapacityWeigher"};
  bool scheduler_stochastic_weights = false;  // scheduler_weight_handler = ...StochasticHostWeightHandler
  int scheduler_max_attempts = 3;
  double capacity_weight_multiplier = 1.0;
  double allocated_capacity_weight_multiplier = -1.0;
  double volume_number_multiplier = -1.0;
  std::string max_over_subscription_ratio = "20.0";  // a number >= 1, or "auto"
  std::string default_volume_type = "__DEFAULT__";   // for volumes that name no type
  int64_t message_ttl = 2592000;                     // seconds a user message is kept at least
  int message_reap_interval = 86400;                 // seconds between removals of expired messages
  // Quotas (Cinder's option names and defaults; -1 is unlimited). The quota class "default"
  // in the database overrides these when use_default_quota_class.
  int64_t quota_volumes = 10;
  int64_t quota_snapshots = 10;
  int64_t quota_gigabytes = 1000;
  int64_t quota_backups = 10;
  int64_t quota_backup_gigabytes = 1000;
  int64_t quota_groups = 10;
  int64_t per_volume_size_limit = -1;
  bool use_default_quota_class = true;
  int64_t reservation_expire = 86400;  // seconds until a reservation is rolled back
  bool no_snapshot_gb_quota = false;   // snapshots do not count against gigabytes
  bool debug = false;                  // also debug lines (each API request, ...)
  // [database]
  std::string database_connection;  // default: sqlite:///<state_path>/cinder.sqlite
  // One entry per name in enabled_backends, in order. Default: one "file" backend.
  std::vector<BackendOptions> backends;
  // Where these options came from (the config file's path), for error messages.
  std::string origin = "defaults";

  // The database URL in effect (database_connection or the default).
  std::string DatabaseUrl() const;
  // The transport key file in effect (transport_key_file or the default).
  std::string TransportKeyFile() const;
};

// Options with the embedded defaults: state under `state_path`, one file backend.
Options DefaultOptions(const std::string& state_path);

// Parses an ini file in Cinder's format, read as oslo.config reads it (only a line that starts
// with `#` or `;` is a comment). A bad value, or a line that is not ini, is InvalidArgument
// naming the file, the section and the option. Unknown sections, and unknown options in
// [DEFAULT] and [database], are ignored as oslo.config ignores them, with a warning each: into
// `warnings` when given (a daemon logs them once its log is set up), else logged at once.
// (A backend section's other options go to its driver, which refuses those it does not know
// when it opens.)
Result<Options> LoadConfigFile(const std::string& path, std::vector<std::string>* warnings = nullptr);
// The same from text; `origin` names it in messages. What is ignored is described in
// `*warnings` (one line each, naming `origin`, the section and the option) when given.
Result<Options> ParseConfig(const std::string& text, const std::string& origin,
                            std::vector<std::string>* warnings = nullptr);

}  // namespace cinder

#endif  // CINDER_OPTIONS_H_

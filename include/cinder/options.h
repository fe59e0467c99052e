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

// [ldap]: the LDAP identity backend (Keystone's option names and defaults).
struct LdapOptions {
  std::string url = "ldap://localhost";  // a comma-separated list is tried in order
  std::string user;                      // the query bind's DN; "" binds anonymously
  std::string password;                  // the query bind's password (never logged)
  std::string suffix = "cn=example,cn=com";
  std::string query_scope = "one";  // "one" or "sub"
  int page_size = 0;                // 0: no paged results
  std::string user_tree_dn;         // "" = ou=Users,<suffix>
  std::string user_filter;          // an extra LDAP filter users must match
  std::string user_objectclass = "inetOrgPerson";
  std::string user_id_attribute = "cn";
  std::string user_name_attribute = "sn";
  std::string user_description_attribute = "description";
  std::string user_mail_attribute = "mail";
  std::string user_pass_attribute = "userPassword";
  std::string user_enabled_attribute = "enabled";
  bool user_enabled_invert = false;
  int64_t user_enabled_mask = 0;
  std::string user_enabled_default = "True";
  std::string group_tree_dn;  // "" = ou=UserGroups,<suffix>
  std::string group_filter;
  std::string group_objectclass = "groupOfNames";
  std::string group_id_attribute = "cn";
  std::string group_name_attribute = "ou";
  std::string group_member_attribute = "member";
  bool group_members_are_ids = false;
  std::string group_desc_attribute = "description";
  bool use_tls = false;  // StartTLS
  std::string tls_cacertfile;
  std::string tls_cacertdir;
  std::string tls_req_cert = "demand";  // demand, allow or never
  int connection_timeout = -1;          // seconds; -1: the library's default
  int pool_size = 10;                   // connections kept for queries
};

// [keystone_authtoken]: validate tokens against an external Keystone instead of the built-in
// identity (keystonemiddleware's option names).
struct KeystoneAuthtokenOptions {
  std::string www_authenticate_uri;    // what a 401 tells clients to authenticate with
  std::string auth_url;                // Keystone's URL for the service user (…/v3 or its root)
  std::string auth_type = "password";  // the service user's (the one plugin supported)
  std::string username;                // the service user whose token validates others'
  std::string password;
  std::string project_name = "service";
  std::string user_domain_name = "Default";
  std::string project_domain_name = "Default";
  int token_cache_time = 300;     // seconds a validated token is trusted without asking again
  int http_connect_timeout = 10;  // seconds
  int http_request_max_retries = 3;
};

// The Auth Manager's options: the built-in identity service (Keystone's sections [token],
// [identity], [security_compliance], [resource], [ldap]), the policy ([oslo_policy]) and the
// external Keystone ([keystone_authtoken]).
struct AuthOptions {
  // [token]
  int64_t token_expiration = 3600;        // seconds a token lives
  int64_t allow_expired_window = 172800;  // seconds after expiry a service may still validate it
  int64_t token_cache_time = 60;          // seconds an API process trusts a validation (revocations: 1 s)
  // [identity]
  std::string identity_driver = "sql";  // [identity] driver: "sql" or "ldap"
  std::string default_domain_id = "default";
  std::string password_hash_algorithm = "bcrypt";  // bcrypt or pbkdf2_sha512 (Keystone's names)
  int password_hash_rounds = 12;                   // bcrypt's cost; pbkdf2: iterations
  int max_password_length = 4096;
  // [security_compliance]
  int lockout_failure_attempts = 0;  // failed logins before a lockout; 0: never (Keystone's default)
  int lockout_duration = 1800;       // seconds a locked-out user waits
  // [resource]
  std::string admin_project_name;  // with admin_project_domain_name: sets is_admin_project
  std::string admin_project_domain_name;
  // [oslo_policy]
  std::string policy_file = "policy.yaml";  // relative: next to the configuration file
  bool enforce_new_defaults = true;         // false: a rule also passes by its deprecated default
  // [identity] region of the catalog's endpoints (Keystone bootstrap's --bootstrap-region-id)
  std::string region_name = "RegionOne";
  // [identity] listen_port: 0 = the identity API answers only under /identity on the API's port;
  // otherwise also on its own listener at this port (its root and /v3, as Keystone's 5000), on
  // osapi_volume_listen's address.
  int identity_listen_port = 0;
  // Set by the daemons on the options of that listener (not a configuration option).
  bool identity_listener = false;
  LdapOptions ldap;
  KeystoneAuthtokenOptions keystone_authtoken;
};

// The backup service's options: [DEFAULT] backup_* (Cinder's names and meanings; ours are
// marked). Read by cinder-backup; the API reads driver and use_same_host.
struct BackupOptions {
  // backup_driver: only the posix driver exists. Accepted spellings:
  // cinder.backup.drivers.posix.PosixBackupDriver, cinder.backup.drivers.posix, posix; kept
  // as the class path, which is what a backup's `service` records (and export records carry).
  std::string driver = "cinder.backup.drivers.posix.PosixBackupDriver";
  std::string posix_path;          // backup_posix_path; "" = <state_path>/backup (Options::BackupPosixPath)
  std::string container;           // backup_container: used only when the driver names none (never for posix)
  int64_t file_size = 1999994880;  // backup_file_size: the largest object, bytes
  int64_t sha_block_size = 32768;  // backup_sha_block_size_bytes
  // backup_compression_algorithm, lower-cased as configured (that name is recorded in each
  // object): zlib, gzip, bz2, bzip2, zstd, none, off, no. Cinder's default is zlib.
  std::string compression_algorithm = "zstd";
  bool enable_progress_timer = true;        // backup_enable_progress_timer
  int timer_interval = 120;                 // backup_timer_interval, seconds between progress notices
  int native_threads_pool_size = 60;        // backup_native_threads_pool_size
  int max_operations = 15;                  // backup_max_operations: concurrent backups+restores; 0 = no limit
  bool use_same_host = false;               // backup_use_same_host: prefer the volume's host's backup service
  bool use_temp_snapshot = false;           // backup_use_temp_snapshot
  std::string name_template = "backup-%s";  // backup_name_template
  // Ours.
  int workers = 0;                        // backup_workers: hash/compress threads; 0 = the machine's cores
  int64_t object_size = 4 * 1024 * 1024;  // backup_object_size: bytes per object we write (<= file_size)
  int zstd_level = 1;                     // backup_zstd_level
  int zlib_level = 6;                     // backup_zlib_level
  int stale_seconds = 600;                // backup_stale_seconds: a creating/restoring row of a down host
  bool verify_on_restore = true;          // backup_verify_on_restore: md5 + sha256 checks while restoring
};

// [metrics]: the Prometheus endpoint (docs/metrics.md).
struct MetricsOptions {
  bool enabled = true;       // enabled: /metrics on the API's port (cinder-api, cinder-all)
  std::string listen;        // listen = HOST:PORT: cinder-scheduler's, cinder-volume's and
                             // cinder-backup's own /metrics listener; "" = none (port 0: a free one)
  int refresh_interval = 5;  // refresh_interval: seconds between the API's counts from the database
};

class Env;

struct Options {
  // The clocks the services read (cinder/env.h); nullptr: Env::Default(). Not owned.
  Env* env = nullptr;
  // [DEFAULT]
  std::string osapi_volume_listen = "127.0.0.1";
  int osapi_volume_listen_port = 8776;  // 0 picks a free port
  // "noauth": X-Auth-Token user:project, trusted, always admin (Cinder's noauth, for one trusted
  // user); "keystone": tokens from the built-in identity service (or an external Keystone when
  // [keystone_authtoken] auth_url is set), Cinder's policy.
  std::string auth_strategy = "noauth";
  // The API's URL as clients reach it (the catalog's volume endpoints, the versions document's
  // links); "" = http://<osapi_volume_listen>:<port> (my_ip when listening on every address).
  std::string public_endpoint;
  // Cinder's glance_api_servers (the first is the catalog's image service). Unset: the catalog
  // names <public_endpoint>/image, where this server answers as an image service holding no
  // image, so that clients that open an image client for every volume command (openstack
  // volume create) work; a volume from an image needs a real Glance.
  std::string glance_api_servers;
  std::string state_path = "/var/lib/cinder";
  std::string host;  // default: this machine's host name
  std::string storage_availability_zone = "nova";
  // Cinder's `cluster`: this volume service's backends join the clusters NAME@backend (3.7);
  // "" none.
  std::string cluster;
  int64_t osapi_max_limit = 1000;
  // Cinder's resource_query_filters_file: a JSON file naming, per resource, the list filters
  // non-admins may use from 3.31 (GET /resource_filters shows it). "": the built-in copy of
  // Cinder's etc/cinder/resource_filters.json.
  std::string resource_query_filters_file;
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
  std::string default_group_type;                    // GET group_types/default; none when empty
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
  // [dashboard] enabled: the web dashboard at /dashboard/ on the API's port (docs/dashboard.md).
  bool dashboard_enabled = true;
  // [database]
  std::string database_connection;  // default: sqlite:///<state_path>/cinder.sqlite
  // One entry per name in enabled_backends, in order. Default: one "file" backend.
  std::vector<BackendOptions> backends;
  AuthOptions auth;
  BackupOptions backup;
  MetricsOptions metrics;
  // Where these options came from (the config file's path), for error messages.
  std::string origin = "defaults";

  // The database URL in effect (database_connection or the default).
  std::string DatabaseUrl() const;
  // The transport key file in effect (transport_key_file or the default).
  std::string TransportKeyFile() const;
  // Where the posix backup driver keeps its backups (backup.posix_path or <state_path>/backup).
  std::string BackupPosixPath() const;
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

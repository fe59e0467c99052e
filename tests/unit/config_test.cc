#include <doctest/doctest.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cinder/options.h"
#include "cinder/volume_driver.h"
#include "common/log.h"
#include "test_util.h"

namespace cinder {

TEST_CASE("a Cinder-style cinder.conf is read with Cinder's names") {
  auto o = ParseConfig(R"(
# comment
[DEFAULT]
osapi_volume_listen = 0.0.0.0
osapi_volume_listen_port = 9876
auth_strategy = noauth
state_path = /srv/cinder
storage_availability_zone = az1
osapi_max_limit = 50
osapi_max_request_body_size = 2048
enabled_backends = fast, slow
message_ttl = 3600
message_reap_interval = 60
default_volume_type = gold
scheduler_default_filters = CapacityFilter, JsonFilter
scheduler_weight_handler = cinder.scheduler.weights.stochastic.StochasticHostWeightHandler
max_over_subscription_ratio = auto
debug = True

[database]
connection = postgresql://cinder:secret@db.example:5433/cinder

[fast]
volume_driver = file
volume_backend_name = FAST
file_volume_directory = /srv/fast

[slow]
volume_driver = file
)",
                       "cinder.conf");
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  CHECK(o->osapi_volume_listen == "0.0.0.0");
  CHECK(o->osapi_volume_listen_port == 9876);
  CHECK(o->state_path == "/srv/cinder");
  CHECK(o->storage_availability_zone == "az1");
  CHECK(o->osapi_max_limit == 50);
  CHECK(o->osapi_max_request_body_size == 2048);
  CHECK(o->message_ttl == 3600);
  CHECK(o->message_reap_interval == 60);
  CHECK(o->default_volume_type == "gold");
  CHECK(o->scheduler_default_filters == std::vector<std::string>{"CapacityFilter", "JsonFilter"});
  CHECK(o->scheduler_stochastic_weights);
  CHECK(o->max_over_subscription_ratio == "auto");
  CHECK(o->debug);
  CHECK(o->DatabaseUrl() == "postgresql://cinder:secret@db.example:5433/cinder");
  REQUIRE(o->backends.size() == 2);
  CHECK(o->backends[0].name == "fast");
  CHECK(o->backends[0].volume_backend_name == "FAST");
  CHECK(o->backends[0].driver_options.at("file_volume_directory") == "/srv/fast");
  CHECK(o->backends[1].name == "slow");
  CHECK(o->backends[1].volume_backend_name == "slow");  // defaults to the section name
}

TEST_CASE("defaults are Cinder's: port 8776, zone nova, limit 1000, one file backend") {
  auto o = ParseConfig("[DEFAULT]\nstate_path = /tmp/x\n", "c.conf");
  REQUIRE(o.ok());
  CHECK(o->osapi_volume_listen_port == 8776);
  CHECK(o->storage_availability_zone == "nova");
  CHECK(o->osapi_max_limit == 1000);
  CHECK(o->osapi_max_request_body_size == 114688);
  CHECK(o->auth_strategy == "noauth");
  CHECK(o->DatabaseUrl() == "sqlite:////tmp/x/cinder.sqlite");
  REQUIRE(o->backends.size() == 1);
  CHECK(o->backends[0].volume_driver == "file");
}

TEST_CASE("the HTTP front end's options: Cinder's names and defaults, and their ranges") {
  auto d = ParseConfig("[DEFAULT]\nstate_path = /tmp/x\n", "c.conf");
  REQUIRE(d.ok());
  CHECK(d->client_socket_timeout == 900);
  CHECK(d->wsgi_keep_alive);
  CHECK(d->max_header_line == 16384);
  CHECK(d->osapi_max_connections == 4096);
  CHECK(d->osapi_request_read_timeout == 60);
  auto o = ParseConfig(
      "[DEFAULT]\nclient_socket_timeout = 0\nwsgi_keep_alive = false\nmax_header_line = 32768\n"
      "osapi_max_connections = 100\nosapi_request_read_timeout = 5\n",
      "c.conf");
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  CHECK(o->client_socket_timeout == 0);
  CHECK_FALSE(o->wsgi_keep_alive);
  CHECK(o->max_header_line == 32768);
  CHECK(o->osapi_max_connections == 100);
  CHECK(o->osapi_request_read_timeout == 5);
  auto bad = ParseConfig("[DEFAULT]\nosapi_max_connections = 0\n", "c.conf");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("osapi_max_connections") != std::string::npos);
}

TEST_CASE("config: osapi_max_pending_creates bounds the creates in progress; 0 lifts the bound") {
  auto d = ParseConfig("[DEFAULT]\n", "c.conf");
  REQUIRE(d.ok());
  CHECK(d->osapi_max_pending_creates == 1000);
  auto o = ParseConfig("[DEFAULT]\nosapi_max_pending_creates = 0\n", "c.conf");
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  CHECK(o->osapi_max_pending_creates == 0);
  auto bad = ParseConfig("[DEFAULT]\nosapi_max_pending_creates = -1\n", "c.conf");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("osapi_max_pending_creates") != std::string::npos);
}

TEST_CASE("config: [metrics] enabled, listen and refresh_interval (docs/metrics.md)") {
  auto d = ParseConfig("[DEFAULT]\n", "c.conf");
  REQUIRE(d.ok());
  CHECK(d->metrics.enabled);
  CHECK(d->metrics.listen.empty());
  CHECK(d->metrics.refresh_interval == 5);
  auto o = ParseConfig("[metrics]\nenabled = false\nlisten = [::1]:9101\nrefresh_interval = 2\n", "c.conf");
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  CHECK_FALSE(o->metrics.enabled);
  CHECK(o->metrics.listen == "[::1]:9101");
  CHECK(o->metrics.refresh_interval == 2);
  for (const char* bad_listen : {"9101", ":9101", "host:", "host:70000", "host:port"}) {
    auto bad = ParseConfig(std::string("[metrics]\nlisten = ") + bad_listen + "\n", "c.conf");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find("expected HOST:PORT") != std::string::npos);
  }
  CHECK_FALSE(ParseConfig("[metrics]\nrefresh_interval = 0\n", "c.conf").ok());
}

TEST_CASE("a # inside a value is part of it, as in oslo.config: only a line starting with # or ; is a comment") {
  auto o = ParseConfig(R"([DEFAULT]
# a comment
; another
default_volume_type = gold#1
storage_availability_zone = az # one
enabled_backends = b
[database]
connection = postgresql://cinder:ab#cd@db.example/cinder
[b]
file_volume_directory = /srv/a#b;c
)",
                       "c.conf");
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  CHECK(o->default_volume_type == "gold#1");
  CHECK(o->storage_availability_zone == "az # one");
  CHECK(o->DatabaseUrl() == "postgresql://cinder:ab#cd@db.example/cinder");
  REQUIRE(o->backends.size() == 1);
  CHECK(o->backends[0].driver_options.at("file_volume_directory") == "/srv/a#b;c");
}

TEST_CASE("oslo.config's ini rules: key: value, quotes, continuation lines, the last value wins, groups without case") {
  auto o = ParseConfig(R"([DEFAULT]
host: node1
storage_availability_zone = "az 1"
default_volume_type = 'silver'
osapi_max_limit = 10
enabled_backends = a, a
scheduler_default_filters = CapacityFilter,
  JsonFilter
osapi_max_limit = 20

[Database]
connection = sqlite:////tmp/x.db
[fast]
volume_backend_name = quick
goodness_function = 50
	+ 10
[DEFAULT]
osapi_max_limit = 30
enabled_backends = Fast
)",
                       "c.conf");
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  CHECK(o->host == "node1");
  CHECK(o->storage_availability_zone == "az 1");
  CHECK(o->default_volume_type == "silver");
  CHECK(o->osapi_max_limit == 30);
  CHECK(o->scheduler_default_filters == std::vector<std::string>{"CapacityFilter", "JsonFilter"});
  CHECK(o->DatabaseUrl() == "sqlite:////tmp/x.db");
  REQUIRE(o->backends.size() == 1);
  CHECK(o->backends[0].name == "Fast");
  CHECK(o->backends[0].volume_backend_name == "quick");
  CHECK(o->backends[0].goodness_function == "50\n+ 10");
}

TEST_CASE("lines that are not ini are refused with the file and the line") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"[DEFAULT\n", "my.conf: line 1: invalid section (must end with ]): '[DEFAULT'"},
      {"[]\n", "my.conf: line 1: empty section name: '[]'"},
      {"[DEFAULT]\nosapi_max_limit\n", "my.conf: line 2: no '=' or ':' in the assignment: 'osapi_max_limit'"},
      {"[DEFAULT]\n = 3\n", "my.conf: line 2: unexpected continuation line: ' = 3'"},
      {"[DEFAULT]\n= 3\n", "my.conf: line 2: empty key: '= 3'"},
      {"[DEFAULT]\ndebug = true\n\n  debug = false\n",
       "my.conf: line 4: unexpected continuation line: '  debug = false'"},
      {"[DEFAULT]\nhost = \"\n", "my.conf: [DEFAULT] host: must not be empty"},  // quotes removed
      // An indented line continues the value above it, even one that starts with #.
      {"[DEFAULT]\ndebug = true\n  # more\n",
       "my.conf: [DEFAULT] debug: invalid value 'true\n# more' (expected true or false)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto o = ParseConfig(c.text, "my.conf");
    REQUIRE_FALSE(o.ok());
    CHECK(o.status().code() == Code::kInvalidArgument);
    CHECK(o.status().message() == c.error);
  }
}

TEST_CASE("an operator's cinder.conf starts: unknown sections and options are ignored, each warned of once") {
  std::vector<std::string> warnings;
  auto o = ParseConfig(R"([DEFAULT]
transport_url = rabbit://openstack:secret@controller
my_ip = 10.0.0.11
auth_strategy = noauth
enabled_backends = file
glance_api_servers = http://controller:9292
transport_url = rabbit://openstack:other@controller
[database]
connection = sqlite:////var/lib/cinder/cinder.sqlite
max_retries = -1
[keystone_authtoken]
www_authenticate_uri = http://controller:5000
auth_url = http://controller:5000
memcached_servers = controller:11211
auth_type = password
password = ab#cd
[oslo_messaging_rabbit]
rabbit_ha_queues = true
[lvm]
volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver
volume_group = cinder-volumes
target_protocol = iscsi
target_helper = lioadm
iscsi_ip_address = 10.0.0.11
[oslo_concurrency]
lock_path = /var/lib/cinder/tmp
[keystone_authtoken]
region_name = RegionOne
[file]
volume_driver = file
)",
                       "cinder.conf", &warnings);
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  CHECK(o->my_ip == "10.0.0.11");
  REQUIRE(o->backends.size() == 1);  // [lvm] is not in enabled_backends: not a backend
  CHECK(o->backends[0].name == "file");
  CHECK(o->backends[0].driver_options.empty());
  const char* kSection =
      "]: unknown section (not one of libcinder's, nor a backend named in enabled_backends), ignored";
  CHECK(warnings == std::vector<std::string>{
                        std::string("cinder.conf: [oslo_messaging_rabbit") + kSection,
                        std::string("cinder.conf: [lvm") + kSection,
                        std::string("cinder.conf: [oslo_concurrency") + kSection,
                        "cinder.conf: [DEFAULT] transport_url: unknown option, ignored",
                        "cinder.conf: [database] max_retries: unknown option, ignored",
                        "cinder.conf: [keystone_authtoken] memcached_servers: unknown option, ignored",
                        "cinder.conf: [keystone_authtoken] region_name: unknown option, ignored",
                    });
  // [keystone_authtoken] is read (an external Keystone validates the tokens), "#" and all.
  CHECK(o->auth.keystone_authtoken.auth_url == "http://controller:5000");
  CHECK(o->auth.keystone_authtoken.password == "ab#cd");
  CHECK(o->glance_api_servers == "http://controller:9292");
}

TEST_CASE("an unknown option is ignored with a warning naming the option it most likely misspells") {
  struct Case {
    const char* text;
    const char* warning;  // "" for none
  };
  const char* kSection = "unknown section (not one of libcinder's, nor a backend named in enabled_backends), ignored";
  const Case cases[] = {
      {"[DEFAULT]\nosapi_volume_listen_prot = 1\n",
       "my.conf: [DEFAULT] osapi_volume_listen_prot: unknown option, ignored (did you mean osapi_volume_listen_port?)"},
      {"[DEFAULT]\nquota_volume = 5\n",
       "my.conf: [DEFAULT] quota_volume: unknown option, ignored (did you mean quota_volumes?)"},
      {"[database]\nconection = sqlite:///x\n",
       "my.conf: [database] conection: unknown option, ignored (did you mean connection?)"},
      {"[database]\nidle_timeout = 3\n", "my.conf: [database] idle_timeout: unknown option, ignored"},
      {"[lvm]\nvolume_driver = file\n", "my.conf: [lvm]: "},
      {"[oslo_policy]\npolicy_fil = p.yaml\n",
       "my.conf: [oslo_policy] policy_fil: unknown option, ignored (did you mean policy_file?)"},
      {"[oslo_messaging_notifications]\n", "my.conf: [oslo_messaging_notifications]: "},
      // DEFAULT is the one group name oslo.config matches with its case.
      {"[default]\ndebug = true\n", "my.conf: [default]: "},
      {"[DEFAULT]\nenabled_backends = b\n[B]\nvolume_driver = file\n", ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    std::vector<std::string> warnings;
    auto o = ParseConfig(c.text, "my.conf", &warnings);
    REQUIRE_MESSAGE(o.ok(), o.status().ToString());
    std::string expected = c.warning;
    if (!expected.empty() && expected.back() == ' ') expected += kSection;
    CHECK(warnings == (expected.empty() ? std::vector<std::string>{} : std::vector<std::string>{expected}));
  }
  // Ignored means ignored: the value of an unknown option is not checked either.
  auto o = ParseConfig("[DEFAULT]\nosapi_volume_listen_prot = http\n", "my.conf");
  REQUIRE(o.ok());
  CHECK(o->osapi_volume_listen_port == 8776);
}

TEST_CASE("a config file's warnings are logged, one line each") {
  testing::TempDir dir;
  std::string path = dir.path() + "/cinder.conf";
  std::ofstream(path) << "[DEFAULT]\ntransport_url = rabbit://x\n[keystone_authtoken]\nauth_url = http://k\n";
  log::LogOptions lo;
  lo.log_file = dir.path() + "/cinder.log";
  lo.use_stderr = false;
  REQUIRE(log::Configure(lo).ok());
  auto o = LoadConfigFile(path);
  REQUIRE(log::Configure(log::LogOptions()).ok());  // back to stderr
  REQUIRE(o.ok());
  std::ifstream in(lo.log_file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line.substr(line.find(" WARNING ")));
  CHECK(lines ==
        std::vector<std::string>{" WARNING cinder [-] " + path + ": [DEFAULT] transport_url: unknown option, ignored"});
}

TEST_CASE("bad configuration names the file, the section and the option") {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"[DEFAULT]\nosapi_volume_listen_port = http\n",
       "my.conf: [DEFAULT] osapi_volume_listen_port: invalid value 'http' (expected an integer from 0 to 65535)"},
      {"[DEFAULT]\nosapi_volume_listen_port = 70000\n",
       "my.conf: [DEFAULT] osapi_volume_listen_port: invalid value '70000' (expected an integer from 0 to 65535)"},
      {"[DEFAULT]\nauth_strategy = ldap\n",
       "my.conf: [DEFAULT] auth_strategy: invalid value 'ldap' (expected keystone or noauth)"},
      {"[identity]\ndriver = kerberos\n",
       "my.conf: [identity] driver: invalid value 'kerberos' (expected one of sql, ldap)"},
      {"[token]\nexpiration = 0\n",
       "my.conf: [token] expiration: invalid value '0' (expected an integer from 1 to 315360000)"},
      {"[ldap]\nquery_scope = base\n", "my.conf: [ldap] query_scope: invalid value 'base' (expected one of one, sub)"},
      {"[DEFAULT]\ndebug = maybe\n", "my.conf: [DEFAULT] debug: invalid value 'maybe' (expected true or false)"},
      {"[database]\nconnection = mysql://x\n",
       "my.conf: [database] connection: invalid value 'mysql://x' (expected sqlite:///PATH or "
       "postgresql://USER:PASS@HOST:PORT/DB)"},
      {"[DEFAULT]\nenabled_backends = a,a\n", "my.conf: [DEFAULT] enabled_backends: backend 'a' is listed twice"},
      {"[DEFAULT]\nenabled_backends = ,\n",
       "my.conf: [DEFAULT] enabled_backends: must name at least one backend section"},
      {"orphan = 1\n", "my.conf: option 'orphan' is outside any [section]"},
      {"[DEFAULT]\nmax_over_subscription_ratio = 0.5\n",
       "my.conf: [DEFAULT] max_over_subscription_ratio: invalid value '0.5' (expected a number of at least 1, or "
       "auto)"},
      {"[DEFAULT]\nscheduler_weight_handler = random\n",
       "my.conf: [DEFAULT] scheduler_weight_handler: invalid value 'random' (expected "
       "cinder.scheduler.weights.OrderedHostWeightHandler or "
       "cinder.scheduler.weights.stochastic.StochasticHostWeightHandler)"},
      {"[DEFAULT]\nenabled_backends = b\n[b]\nextra_capabilities = {bad\n",
       "my.conf: [b] extra_capabilities: invalid value '{bad' (expected a JSON object, e.g. {\"tier\": \"gold\"})"},
      {"[DEFAULT]\nenabled_backends = b\n[b]\nreserved_percentage = 101\n",
       "my.conf: [b] reserved_percentage: invalid value '101' (expected an integer from 0 to 100)"},
      {"[DEFAULT]\nmessage_ttl = 0\n",
       "my.conf: [DEFAULT] message_ttl: invalid value '0' (expected an integer from 1 to 315360000)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto o = ParseConfig(c.text, "my.conf");
    REQUIRE_FALSE(o.ok());
    CHECK(o.status().code() == Code::kInvalidArgument);
    CHECK(o.status().message() == c.error);
  }
}

TEST_CASE("quota options are read with Cinder's names, defaults and checks") {
  auto d = ParseConfig("[DEFAULT]\nstate_path = /tmp/x\n", "c.conf");
  REQUIRE(d.ok());
  CHECK(d->quota_volumes == 10);
  CHECK(d->quota_snapshots == 10);
  CHECK(d->quota_gigabytes == 1000);
  CHECK(d->quota_backups == 10);
  CHECK(d->quota_backup_gigabytes == 1000);
  CHECK(d->quota_groups == 10);
  CHECK(d->per_volume_size_limit == -1);
  CHECK(d->use_default_quota_class);
  CHECK(d->reservation_expire == 86400);
  CHECK_FALSE(d->no_snapshot_gb_quota);

  auto o = ParseConfig(R"([DEFAULT]
quota_volumes = 3
quota_snapshots = -1
quota_gigabytes = 50
quota_backups = 0
quota_backup_gigabytes = 2147483647
quota_groups = 7
per_volume_size_limit = 20
use_default_quota_class = false
reservation_expire = 60
no_snapshot_gb_quota = true
)",
                       "c.conf");
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  CHECK(o->quota_volumes == 3);
  CHECK(o->quota_snapshots == -1);
  CHECK(o->quota_gigabytes == 50);
  CHECK(o->quota_backups == 0);
  CHECK(o->quota_backup_gigabytes == 2147483647);
  CHECK(o->quota_groups == 7);
  CHECK(o->per_volume_size_limit == 20);
  CHECK_FALSE(o->use_default_quota_class);
  CHECK(o->reservation_expire == 60);
  CHECK(o->no_snapshot_gb_quota);

  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"[DEFAULT]\nquota_volumes = -2\n",
       "my.conf: [DEFAULT] quota_volumes: invalid value '-2' (expected an integer from -1 to 2147483647)"},
      {"[DEFAULT]\nquota_gigabytes = lots\n",
       "my.conf: [DEFAULT] quota_gigabytes: invalid value 'lots' (expected an integer from -1 to 2147483647)"},
      {"[DEFAULT]\nper_volume_size_limit = 2147483648\n",
       "my.conf: [DEFAULT] per_volume_size_limit: invalid value '2147483648' (expected an integer from -1 to "
       "2147483647)"},
      {"[DEFAULT]\nreservation_expire = 0\n",
       "my.conf: [DEFAULT] reservation_expire: invalid value '0' (expected an integer from 1 to 315360000)"},
      {"[DEFAULT]\nuse_default_quota_class = sometimes\n",
       "my.conf: [DEFAULT] use_default_quota_class: invalid value 'sometimes' (expected true or false)"},
      {"[DEFAULT]\nno_snapshot_gb_quota = 2\n",
       "my.conf: [DEFAULT] no_snapshot_gb_quota: invalid value '2' (expected true or false)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto r = ParseConfig(c.text, "my.conf");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message() == c.error);
  }
}

TEST_CASE("the transport is secured with CURVE unless the operator says none; the key file defaults to state_path") {
  auto d = ParseConfig("[DEFAULT]\nstate_path = /srv/cinder\n", "my.conf");
  REQUIRE(d.ok());
  CHECK(d->transport_security == "curve");
  CHECK(d->TransportKeyFile() == "/srv/cinder/transport.key");
  CHECK(d->my_ip == "127.0.0.1");  // and RPC binds to loopback unless my_ip says otherwise
  auto o =
      ParseConfig("[DEFAULT]\ntransport_security = None\ntransport_key_file = /etc/cinder/transport.key\n", "my.conf");
  REQUIRE(o.ok());
  CHECK(o->transport_security == "none");
  CHECK(o->TransportKeyFile() == "/etc/cinder/transport.key");
  CHECK(ParseConfig("[DEFAULT]\ntransport_security = tls\n", "my.conf").status().message() ==
        "my.conf: [DEFAULT] transport_security: invalid value 'tls' (expected curve or none)");
}

TEST_CASE("a missing config file is an error naming it") {
  auto o = LoadConfigFile("/nonexistent/cinder.conf");
  REQUIRE_FALSE(o.ok());
  CHECK(o.status().message() == "/nonexistent/cinder.conf: cannot read the configuration file");
}

TEST_CASE("backend sections are checked against their driver") {
  auto o = ParseConfig("[DEFAULT]\nenabled_backends = b1\n[b1]\nvolume_driver = file\nfile_dir = /x\n", "c.conf");
  REQUIRE(o.ok());
  auto d = OpenDriver(DriverRegistry::Builtin(), DriverContext{o->backends[0], "/tmp"});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message() ==
        "[b1] file_dir: unknown option for volume driver 'file' (accepted: volume_driver, "
        "volume_backend_name, max_over_subscription_ratio, reserved_percentage, filter_function, "
        "goodness_function, backend_availability_zone, extra_capabilities, volume_driver_module, "
        "file_volume_directory, file_capacity_gb, file_reflink)");

  o->backends[0].driver_options.clear();
  o->backends[0].volume_driver = "lvm";
  d = OpenDriver(DriverRegistry::Builtin(), DriverContext{o->backends[0], "/tmp"});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message() == "[b1] volume_driver: unknown driver 'lvm' (available: file)");
}

}  // namespace cinder

namespace cinder {

TEST_CASE("backup options: Cinder's names and defaults, ours beside them") {
  auto d = ParseConfig("[DEFAULT]\nstate_path = /srv/c\n", "d");
  REQUIRE(d.ok());
  CHECK(d->backup.driver == "cinder.backup.drivers.posix.PosixBackupDriver");
  CHECK(d->BackupPosixPath() == "/srv/c/backup");
  CHECK(d->backup.compression_algorithm == "zstd");
  CHECK(d->backup.file_size == 1999994880);
  CHECK(d->backup.sha_block_size == 32768);
  CHECK(d->backup.max_operations == 15);
  CHECK(d->backup.object_size == 4 * 1024 * 1024);
  CHECK(d->backup.zstd_level == 1);
  CHECK(d->backup.zlib_level == 6);
  CHECK(d->backup.stale_seconds == 600);
  CHECK(d->backup.verify_on_restore);
  CHECK_FALSE(d->backup.use_same_host);
  CHECK(DefaultOptions("/x").BackupPosixPath() == "/x/backup");

  auto o = ParseConfig(R"([DEFAULT]
backup_driver = cinder.backup.drivers.posix
backup_posix_path = /srv/backups
backup_container = cont
backup_file_size = 65536
backup_sha_block_size_bytes = 4096
backup_compression_algorithm = BZIP2
backup_enable_progress_timer = false
backup_timer_interval = 30
backup_native_threads_pool_size = 8
backup_max_operations = 0
backup_use_same_host = true
backup_workers = 3
backup_object_size = 1048576
backup_zstd_level = 5
backup_zlib_level = 9
backup_stale_seconds = 120
backup_verify_on_restore = no
)",
                       "t");
  REQUIRE_MESSAGE(o.ok(), o.status().ToString());
  CHECK(o->backup.driver == "cinder.backup.drivers.posix.PosixBackupDriver");
  CHECK(o->BackupPosixPath() == "/srv/backups");
  CHECK(o->backup.container == "cont");
  CHECK(o->backup.file_size == 65536);
  CHECK(o->backup.sha_block_size == 4096);
  CHECK(o->backup.compression_algorithm == "bzip2");
  CHECK_FALSE(o->backup.enable_progress_timer);
  CHECK(o->backup.timer_interval == 30);
  CHECK(o->backup.native_threads_pool_size == 8);
  CHECK(o->backup.max_operations == 0);
  CHECK(o->backup.use_same_host);
  CHECK(o->backup.workers == 3);
  CHECK(o->backup.object_size == 1048576);
  CHECK(o->backup.zstd_level == 5);
  CHECK(o->backup.zlib_level == 9);
  CHECK(o->backup.stale_seconds == 120);
  CHECK_FALSE(o->backup.verify_on_restore);
  for (const char* alias : {"posix", "cinder.backup.drivers.posix.PosixBackupDriver"}) {
    CHECK(ParseConfig(std::string("[DEFAULT]\nbackup_driver = ") + alias + "\n", "t").ok());
  }
  for (const char* algo : {"zlib", "gzip", "bz2", "zstd", "none", "off", "no"}) {
    auto a = ParseConfig(std::string("[DEFAULT]\nbackup_compression_algorithm = ") + algo + "\n", "t");
    REQUIRE(a.ok());
    CHECK(a->backup.compression_algorithm == algo);
  }
  auto swift = ParseConfig("[DEFAULT]\nbackup_driver = cinder.backup.drivers.swift.SwiftBackupDriver\n", "t.conf");
  CHECK(swift.status().code() == Code::kInvalidArgument);
  CHECK(swift.status().message().find("backup_driver") != std::string::npos);
  CHECK(ParseConfig("[DEFAULT]\nbackup_compression_algorithm = lz4\n", "t").status().code() == Code::kInvalidArgument);
  CHECK(ParseConfig("[DEFAULT]\nbackup_zlib_level = 10\n", "t").status().code() == Code::kInvalidArgument);
}

}  // namespace cinder

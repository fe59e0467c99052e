#include "db/store.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>

#include "common/log.h"
#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

struct Migration {
  int version;
  std::function<void(soci::session&, bool pg)> apply;
};

std::string Serial(bool pg) { return pg ? "SERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"; }

const char kTimestamps[] =
    "created_at VARCHAR(32) NOT NULL, updated_at VARCHAR(32), deleted_at VARCHAR(32), "
    "deleted INTEGER NOT NULL DEFAULT 0";

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       [](soci::session& s, bool pg) {
         Exec(s, std::string("CREATE TABLE volume_types (id VARCHAR(36) PRIMARY KEY, ") +
                     "name VARCHAR(255) NOT NULL, description VARCHAR(255), "
                     "is_public INTEGER NOT NULL DEFAULT 1, " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX volume_types_name ON volume_types (name) WHERE deleted = 0");
         Exec(s, "CREATE TABLE volume_type_extra_specs (id " + Serial(pg) +
                     ", volume_type_id VARCHAR(36) NOT NULL REFERENCES volume_types (id), "
                     "key VARCHAR(255) NOT NULL, value VARCHAR(255), " +
                     kTimestamps + ")");
         Exec(s, std::string("CREATE TABLE volumes (id VARCHAR(36) PRIMARY KEY, ") +
                     "user_id VARCHAR(255), project_id VARCHAR(255), host VARCHAR(255), "
                     "size INTEGER NOT NULL, availability_zone VARCHAR(255), "
                     "status VARCHAR(255) NOT NULL, attach_status VARCHAR(255) NOT NULL, "
                     "migration_status VARCHAR(255), previous_status VARCHAR(255), "
                     "display_name VARCHAR(255), display_description VARCHAR(255), "
                     "volume_type_id VARCHAR(36), snapshot_id VARCHAR(36), "
                     "source_volid VARCHAR(36), provider_location VARCHAR(255), "
                     "bootable INTEGER NOT NULL DEFAULT 0, multiattach INTEGER NOT NULL DEFAULT 0, " +
                     kTimestamps + ")");
         // The default list order (created_at desc, id desc) within a project, without a sort.
         Exec(s, "CREATE INDEX volumes_project ON volumes (project_id, deleted, created_at, id)");
         Exec(s, "CREATE INDEX volumes_host_status ON volumes (host, status)");
         Exec(s, "CREATE TABLE volume_metadata (id " + Serial(pg) +
                     ", volume_id VARCHAR(36) NOT NULL REFERENCES volumes (id), "
                     "key VARCHAR(255) NOT NULL, value VARCHAR(255), " +
                     kTimestamps + ")");
         Exec(s,
              "CREATE UNIQUE INDEX volume_metadata_key ON volume_metadata (volume_id, key) "
              "WHERE deleted = 0");
         Exec(s, "CREATE TABLE services (id " + Serial(pg) +
                     ", host VARCHAR(255) NOT NULL, \"binary\" VARCHAR(255) NOT NULL, "
                     "topic VARCHAR(255), availability_zone VARCHAR(255), "
                     "disabled INTEGER NOT NULL DEFAULT 0, disabled_reason VARCHAR(255), "
                     "report_count INTEGER NOT NULL DEFAULT 0, " +
                     kTimestamps + ")");
         Query q;
         q.sql = "INSERT INTO volume_types (id, name, description, is_public, created_at) VALUES (" + q.P(NewUuid()) +
                 ", " + q.P(Store::kDefaultVolumeType) + ", " + q.P("Default Volume Type") + ", 1, " + q.P(NowIso()) +
                 ")";
         Exec(s, q);
       }},
      {2,
       [](soci::session& s, bool) {
         // What a service needs to be found and judged alive without a broker.
         Exec(s, "ALTER TABLE services ADD COLUMN endpoint VARCHAR(255)");
         Exec(s, "ALTER TABLE services ADD COLUMN rpc_current_version INTEGER NOT NULL DEFAULT 0");
         Exec(s,
              "CREATE UNIQUE INDEX services_host_binary ON services (host, \"binary\") "
              "WHERE deleted = 0");
       }},
      {3,
       [](soci::session& s, bool pg) {
         // User messages (API 3.3), as Cinder's messages table.
         Exec(s, std::string("CREATE TABLE messages (id VARCHAR(36) PRIMARY KEY, ") +
                     "project_id VARCHAR(255) NOT NULL, request_id VARCHAR(255), "
                     "resource_type VARCHAR(255), resource_uuid VARCHAR(36), "
                     "event_id VARCHAR(255) NOT NULL, message_level VARCHAR(255) NOT NULL, "
                     "action_id VARCHAR(10), detail_id VARCHAR(10), "
                     "expires_at VARCHAR(32) NOT NULL, " +
                     kTimestamps + ")");
         Exec(s, "CREATE INDEX messages_project ON messages (project_id, deleted, created_at, id)");
         Exec(s, "CREATE INDEX messages_expires ON messages (expires_at)");
         // One live value per extra-spec key, so that concurrent writers upsert.
         Exec(s,
              "CREATE UNIQUE INDEX volume_type_extra_specs_key ON volume_type_extra_specs "
              "(volume_type_id, key) WHERE deleted = 0");
         Exec(s, "ALTER TABLE volume_types ADD COLUMN qos_specs_id VARCHAR(36)");
         // QoS specs and their keys.
         Exec(s, std::string("CREATE TABLE qos_specs (id VARCHAR(36) PRIMARY KEY, name VARCHAR(255) NOT NULL, ") +
                     "consumer VARCHAR(255) NOT NULL, " + kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX qos_specs_name ON qos_specs (name) WHERE deleted = 0");
         Exec(s, "CREATE TABLE qos_specs_keys (id " + Serial(pg) +
                     ", qos_specs_id VARCHAR(36) NOT NULL REFERENCES qos_specs (id), "
                     "key VARCHAR(255) NOT NULL, value VARCHAR(255), " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX qos_specs_keys_key ON qos_specs_keys (qos_specs_id, key) WHERE deleted = 0");
         // Volume transfers: the auth key is kept as salt + HMAC-SHA1, as Cinder keeps it.
         Exec(s, std::string("CREATE TABLE transfers (id VARCHAR(36) PRIMARY KEY, ") +
                     "volume_id VARCHAR(36) NOT NULL REFERENCES volumes (id), display_name VARCHAR(255), "
                     "salt VARCHAR(255) NOT NULL, crypt_hash VARCHAR(255) NOT NULL, "
                     "no_snapshots INTEGER NOT NULL DEFAULT 0, source_project_id VARCHAR(255), "
                     "destination_project_id VARCHAR(255), accepted INTEGER NOT NULL DEFAULT 0, " +
                     kTimestamps + ")");
         Exec(s, "CREATE INDEX transfers_volume ON transfers (volume_id, deleted)");
         // A project's own default type (the default-types API, 3.62).
         Exec(s,
              "CREATE TABLE default_volume_types (project_id VARCHAR(255) PRIMARY KEY, "
              "volume_type_id VARCHAR(36) NOT NULL REFERENCES volume_types (id), "
              "created_at VARCHAR(32) NOT NULL)");
         // Which projects may use a private type (os-volume-type-access).
         Exec(s, "CREATE TABLE volume_type_projects (id " + Serial(pg) +
                     ", volume_type_id VARCHAR(36) NOT NULL REFERENCES volume_types (id), "
                     "project_id VARCHAR(255) NOT NULL, " +
                     kTimestamps + ")");
         Exec(s,
              "CREATE UNIQUE INDEX volume_type_projects_key ON volume_type_projects "
              "(volume_type_id, project_id) WHERE deleted = 0");
         // What each pool last reported; claims lock its row (generation).
         Exec(s,
              "CREATE TABLE pools (host VARCHAR(255) PRIMARY KEY, backend_host VARCHAR(255) NOT NULL, "
              "capabilities TEXT NOT NULL, allocated_at_report DOUBLE PRECISION NOT NULL DEFAULT 0, "
              "generation INTEGER NOT NULL DEFAULT 0, reported_at VARCHAR(32) NOT NULL)");
       }},
      {4,
       [](soci::session& s, bool pg) {
         // Snapshots and their metadata.
         Exec(s, std::string("CREATE TABLE snapshots (id VARCHAR(36) PRIMARY KEY, ") +
                     "volume_id VARCHAR(36) NOT NULL REFERENCES volumes (id), user_id VARCHAR(255), "
                     "project_id VARCHAR(255), status VARCHAR(255) NOT NULL, progress VARCHAR(255), "
                     "volume_size INTEGER NOT NULL, display_name VARCHAR(255), display_description VARCHAR(255), "
                     "volume_type_id VARCHAR(36), use_quota INTEGER NOT NULL DEFAULT 1, " +
                     kTimestamps + ")");
         Exec(s, "CREATE INDEX snapshots_volume ON snapshots (volume_id, deleted)");
         Exec(s, "CREATE INDEX snapshots_project ON snapshots (project_id, deleted)");
         Exec(s, "CREATE TABLE snapshot_metadata (id " + Serial(pg) +
                     ", snapshot_id VARCHAR(36) NOT NULL REFERENCES snapshots (id), "
                     "key VARCHAR(255) NOT NULL, value VARCHAR(255), " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX snapshot_metadata_key ON snapshot_metadata (snapshot_id, key) WHERE deleted = 0");
         // Quotas: projects' limits, classes' limits (the class "default"), usage and
         // reservations, as Cinder's tables.
         Exec(s, "CREATE TABLE quotas (id " + Serial(pg) +
                     ", project_id VARCHAR(255) NOT NULL, resource VARCHAR(255) NOT NULL, "
                     "hard_limit INTEGER, " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX quotas_key ON quotas (project_id, resource) WHERE deleted = 0");
         Exec(s, "CREATE TABLE quota_classes (id " + Serial(pg) +
                     ", class_name VARCHAR(255) NOT NULL, resource VARCHAR(255) NOT NULL, "
                     "hard_limit INTEGER, " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX quota_classes_key ON quota_classes (class_name, resource) WHERE deleted = 0");
         Exec(s, "CREATE TABLE quota_usages (id " + Serial(pg) +
                     ", project_id VARCHAR(255) NOT NULL, resource VARCHAR(255) NOT NULL, "
                     "in_use INTEGER NOT NULL DEFAULT 0, reserved INTEGER NOT NULL DEFAULT 0, " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX quota_usages_key ON quota_usages (project_id, resource) WHERE deleted = 0");
         Exec(s, std::string("CREATE TABLE reservations (id VARCHAR(36) PRIMARY KEY, ") +
                     "usage_id INTEGER NOT NULL REFERENCES quota_usages (id), project_id VARCHAR(255) NOT NULL, "
                     "resource VARCHAR(255) NOT NULL, delta INTEGER NOT NULL, expire VARCHAR(32) NOT NULL, " +
                     kTimestamps + ")");
         Exec(s, "CREATE INDEX reservations_expire ON reservations (deleted, expire)");
         // What the volumes of an earlier schema already use.
         const std::string usage =
             "INSERT INTO quota_usages (project_id, resource, in_use, reserved, created_at) SELECT ";
         const std::string live =
             " FROM volumes v WHERE v.deleted = 0 AND v.project_id IS NOT NULL GROUP BY v.project_id";
         const std::string typed =
             " FROM volumes v JOIN volume_types t ON t.id = v.volume_type_id "
             "WHERE v.deleted = 0 AND v.project_id IS NOT NULL GROUP BY v.project_id, t.name";
         Exec(s, usage + "v.project_id, 'volumes', COUNT(*), 0, MIN(v.created_at)" + live);
         Exec(s, usage + "v.project_id, 'gigabytes', SUM(v.size), 0, MIN(v.created_at)" + live);
         Exec(s, usage + "v.project_id, 'volumes_' || t.name, COUNT(*), 0, MIN(v.created_at)" + typed);
         Exec(s, usage + "v.project_id, 'gigabytes_' || t.name, SUM(v.size), 0, MIN(v.created_at)" + typed);
       }},
      {5,
       [](soci::session& s, bool pg) {
         // What each pool holds, kept by triggers on volumes: a claim and a capacity report
         // read one row per pool instead of summing every volume placed there. A volume counts
         // on its host while live (deleted = 0, host set); "settled" ones are not creating.
         Exec(s,
              "CREATE TABLE pool_usage (host VARCHAR(255) PRIMARY KEY, "
              "volumes INTEGER NOT NULL DEFAULT 0, gigabytes BIGINT NOT NULL DEFAULT 0, "
              "settled_volumes INTEGER NOT NULL DEFAULT 0, settled_gigabytes BIGINT NOT NULL DEFAULT 0)");
         Exec(s,
              "INSERT INTO pool_usage (host, volumes, gigabytes, settled_volumes, settled_gigabytes) "
              "SELECT host, COUNT(*), SUM(size), SUM(CASE WHEN status <> 'creating' THEN 1 ELSE 0 END), "
              "SUM(CASE WHEN status <> 'creating' THEN size ELSE 0 END) FROM volumes "
              "WHERE deleted = 0 AND host IS NOT NULL AND host <> '' GROUP BY host");
         // The sweeps look for volumes in transient statuses (creating, deleting, ...), a few
         // among all: found by status rather than by reading every volume.
         Exec(s, "CREATE INDEX volumes_status ON volumes (status, host) WHERE deleted = 0");
         // The sums a row adds (r = NEW or OLD), and when it counts.
         auto counts = [](const std::string& r) {
           return "(" + r + ".deleted = 0 AND " + r + ".host IS NOT NULL AND " + r + ".host <> '')";
         };
         auto settled = [](const std::string& r, const std::string& value) {
           return "CASE WHEN " + r + ".status <> 'creating' THEN " + value + " ELSE 0 END";
         };
         // What an update must change for the sums to move.
         const std::string relevant =
             std::string(pg ? "OLD.host IS DISTINCT FROM NEW.host" : "OLD.host IS NOT NEW.host") +
             " OR OLD.size <> NEW.size OR OLD.deleted <> NEW.deleted OR "
             "(OLD.status = 'creating') <> (NEW.status = 'creating')";
         if (pg) {
           const std::string sub =
               "UPDATE pool_usage SET volumes = volumes - 1, gigabytes = gigabytes - OLD.size, "
               "settled_volumes = settled_volumes - " +
               settled("OLD", "1") + ", settled_gigabytes = settled_gigabytes - " + settled("OLD", "OLD.size") +
               " WHERE host = OLD.host;";
           const std::string add =
               "INSERT INTO pool_usage AS u (host, volumes, gigabytes, settled_volumes, settled_gigabytes) VALUES "
               "(NEW.host, 1, NEW.size, " +
               settled("NEW", "1") + ", " + settled("NEW", "NEW.size") +
               ") ON CONFLICT (host) DO UPDATE SET volumes = u.volumes + 1, gigabytes = u.gigabytes + NEW.size, "
               "settled_volumes = u.settled_volumes + " +
               settled("NEW", "1") + ", settled_gigabytes = u.settled_gigabytes + " + settled("NEW", "NEW.size") + ";";
           Exec(s,
                "CREATE FUNCTION volumes_pool_usage() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN "
                "IF TG_OP <> 'INSERT' AND " +
                    counts("OLD") + " THEN " + sub +
                    " END IF; "
                    "IF TG_OP <> 'DELETE' AND " +
                    counts("NEW") + " THEN " + add +
                    " END IF; "
                    "RETURN NULL; END $body$");
           Exec(s, "CREATE TRIGGER volumes_pool_usage_insert AFTER INSERT ON volumes FOR EACH ROW WHEN " +
                       counts("NEW") + " EXECUTE FUNCTION volumes_pool_usage()");
           Exec(s, "CREATE TRIGGER volumes_pool_usage_delete AFTER DELETE ON volumes FOR EACH ROW WHEN " +
                       counts("OLD") + " EXECUTE FUNCTION volumes_pool_usage()");
           Exec(s, "CREATE TRIGGER volumes_pool_usage_update AFTER UPDATE ON volumes FOR EACH ROW WHEN (" + relevant +
                       ") EXECUTE FUNCTION volumes_pool_usage()");
         } else {
           auto sub = [&](const std::string& r) {
             return "UPDATE pool_usage SET volumes = volumes - 1, gigabytes = gigabytes - " + r +
                    ".size, settled_volumes = settled_volumes - " + settled(r, "1") +
                    ", settled_gigabytes = settled_gigabytes - " + settled(r, r + ".size") + " WHERE host = " + r +
                    ".host AND " + counts(r) + ";";
           };
           auto add = [&](const std::string& r) {
             return "INSERT OR IGNORE INTO pool_usage (host) SELECT " + r + ".host WHERE " + counts(r) +
                    "; UPDATE pool_usage SET volumes = volumes + 1, gigabytes = gigabytes + " + r +
                    ".size, settled_volumes = settled_volumes + " + settled(r, "1") +
                    ", settled_gigabytes = settled_gigabytes + " + settled(r, r + ".size") + " WHERE host = " + r +
                    ".host AND " + counts(r) + ";";
           };
           Exec(s, "CREATE TRIGGER volumes_pool_usage_insert AFTER INSERT ON volumes WHEN " + counts("NEW") +
                       " BEGIN " + add("NEW") + " END");
           Exec(s, "CREATE TRIGGER volumes_pool_usage_delete AFTER DELETE ON volumes WHEN " + counts("OLD") +
                       " BEGIN " + sub("OLD") + " END");
           Exec(s, "CREATE TRIGGER volumes_pool_usage_update AFTER UPDATE ON volumes WHEN " + relevant + " BEGIN " +
                       sub("OLD") + " " + add("NEW") + " END");
         }
       }},
  };
  return kMigrations;
}

// Column list of a volume read, joined with its type (alias v, t); the last column is 1 when
// the volume has metadata rows, so that the metadata query runs only for volumes that have some.
const char kVolumeColumns[] =
    "v.id, v.display_name, v.display_description, v.size, v.status, v.attach_status, "
    "v.migration_status, v.availability_zone, v.host, v.project_id, v.user_id, "
    "v.volume_type_id, t.name, v.snapshot_id, v.source_volid, v.bootable, v.multiattach, "
    "v.created_at, v.updated_at, "
    "CASE WHEN EXISTS (SELECT 1 FROM volume_metadata mc WHERE mc.volume_id = v.id AND mc.deleted = 0) THEN 1 "
    "ELSE 0 END";
const char kVolumeFrom[] = " FROM volumes v LEFT JOIN volume_types t ON t.id = v.volume_type_id";

// Volumes read by a SELECT of kVolumeColumns, and whether each has metadata rows.
struct VolumeRows {
  std::vector<Volume> volumes;
  std::vector<bool> has_metadata;
};

// Runs a SELECT of kVolumeColumns on PostgreSQL and reads each row straight from libpq's result.
VolumeRows FetchVolumesPg(soci::session& s, const Query& q) {
  pg::Rows rows = pg::Run(s, q);
  VolumeRows out;
  const int n = rows.size();
  out.volumes.reserve(n);
  out.has_metadata.reserve(n);
  for (int r = 0; r < n; ++r) {
    auto text = [&](int c, const char* dflt = "") {
      return rows.IsNull(r, c) ? std::string(dflt) : std::string(rows.Text(r, c));
    };
    Volume& v = out.volumes.emplace_back();
    v.id = text(0);
    v.has_name = !rows.IsNull(r, 1);
    v.name = text(1);
    v.has_description = !rows.IsNull(r, 2);
    v.description = text(2);
    v.size = rows.Int(r, 3);
    v.status = text(4);
    v.attach_status = text(5, "detached");
    v.migration_status = rows.Optional(r, 6);
    v.availability_zone = text(7);
    v.host = text(8);
    v.project_id = text(9);
    v.user_id = text(10);
    v.volume_type_id = text(11);
    v.volume_type_name = text(12);
    v.snapshot_id = rows.Optional(r, 13);
    v.source_volid = rows.Optional(r, 14);
    v.bootable = rows.Int(r, 15) != 0;
    v.multiattach = rows.Int(r, 16) != 0;
    v.created_at = text(17);
    v.updated_at = rows.Optional(r, 18);
    out.has_metadata.push_back(rows.Int(r, 19) > 0);
  }
  return out;
}

VolumeRows FetchVolumesSqlite(db::SqliteStatements& cache, soci::session& s, const Query& q) {
  VolumeRows out;
  cache.Select(s, q, [&out](sq::sqlite3_stmt* st) {
    Volume& v = out.volumes.emplace_back();
    auto text = [st](int i) { return SqText(st, i); };
    v.id = text(0).value_or("");
    auto name = text(1);
    v.has_name = name.has_value();
    v.name = name.value_or("");
    auto desc = text(2);
    v.has_description = desc.has_value();
    v.description = desc.value_or("");
    v.size = sq::sqlite3_column_int64(st, 3);
    v.status = text(4).value_or("");
    v.attach_status = text(5).value_or("detached");
    v.migration_status = text(6);
    v.availability_zone = text(7).value_or("");
    v.host = text(8).value_or("");
    v.project_id = text(9).value_or("");
    v.user_id = text(10).value_or("");
    v.volume_type_id = text(11).value_or("");
    v.volume_type_name = text(12).value_or("");
    v.snapshot_id = text(13);
    v.source_volid = text(14);
    v.bootable = sq::sqlite3_column_int64(st, 15) != 0;
    v.multiattach = sq::sqlite3_column_int64(st, 16) != 0;
    v.created_at = text(17).value_or("");
    v.updated_at = text(18);
    out.has_metadata.push_back(sq::sqlite3_column_int64(st, 19) > 0);
  });
  return out;
}

// API sort key -> SQL expression (NULLs read as '' so that paging can compare them).
const std::map<std::string, std::string>& SortColumns() {
  static const std::map<std::string, std::string> kCols = {
      {"id", "v.id"},
      {"name", "COALESCE(v.display_name, '')"},
      {"display_name", "COALESCE(v.display_name, '')"},
      {"description", "COALESCE(v.display_description, '')"},
      {"size", "v.size"},
      {"status", "v.status"},
      {"created_at", "v.created_at"},
      {"updated_at", "COALESCE(v.updated_at, '')"},
      {"availability_zone", "COALESCE(v.availability_zone, '')"},
      {"project_id", "COALESCE(v.project_id, '')"},
      {"user_id", "COALESCE(v.user_id, '')"},
      {"host", "COALESCE(v.host, '')"},
      {"bootable", "v.bootable"},
      {"volume_type_id", "COALESCE(v.volume_type_id, '')"},
      {"attach_status", "v.attach_status"},
  };
  return kCols;
}

}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::vector<Volume> Store::Impl::FetchVolumes(soci::session& s, const Query& q) {
  VolumeRows rows = pg ? FetchVolumesPg(s, q) : FetchVolumesSqlite(sqlite_statements, s, q);
  std::vector<Volume*> with_metadata;
  for (size_t i = 0; i < rows.volumes.size(); ++i) {
    if (rows.has_metadata[i]) with_metadata.push_back(&rows.volumes[i]);
  }
  AttachMetadata(s, with_metadata);
  return std::move(rows.volumes);
}
Store::~Store() = default;

namespace {

// Undoes URL percent-encoding (%40 -> @), as SQLAlchemy does for the parts of a URL.
std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string PgConnString(const std::string& url) {
  // postgresql[+driver]://user:pass@host:port/db?host=/dir&...
  std::string rest = url.substr(url.find("://") + 3);
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string userinfo, hostport, db;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    db = rest.substr(slash + 1);
    hostport = rest.substr(0, slash);
  } else {
    hostport = rest;
  }
  auto quote = [](const std::string& encoded) {
    std::string v = PercentDecode(encoded);
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string cs;
  if (!userinfo.empty()) {
    auto colon = userinfo.find(':');
    cs += "user=" + quote(userinfo.substr(0, colon)) + " ";
    if (colon != std::string::npos) cs += "password=" + quote(userinfo.substr(colon + 1)) + " ";
  }
  if (!hostport.empty()) {
    auto colon = hostport.rfind(':');
    cs += "host=" + quote(hostport.substr(0, colon)) + " ";
    if (colon != std::string::npos) cs += "port=" + quote(hostport.substr(colon + 1)) + " ";
  }
  if (!db.empty()) cs += "dbname=" + quote(db) + " ";
  for (const auto& kv : Split(query, '&')) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string key = kv.substr(0, eq);
    if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
      continue;  // not a libpq parameter name
    }
    cs += key + "=" + quote(kv.substr(eq + 1)) + " ";
  }
  return cs;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& url) {
  auto impl = std::make_unique<Impl>();
  try {
    if (url.rfind("sqlite://", 0) == 0) {
      std::string path = url.substr(std::string("sqlite://").size());
      if (path.empty() || path == "/" || path == "/:memory:") {
        path = ":memory:";
      } else {
        path = path.substr(1);  // sqlite:///rel -> rel, sqlite:////abs -> /abs
      }
      impl->pool_size = path == ":memory:" ? 1 : 4;
      impl->pool = std::make_unique<soci::connection_pool>(impl->pool_size);
      for (std::size_t i = 0; i < impl->pool_size; ++i) {
        soci::session& s = impl->pool->at(i);
        s.open(soci::sqlite3, "db=\"" + path + "\" timeout=30");
        soci::row r;
        s << "PRAGMA journal_mode=WAL", soci::into(r);
        Exec(s, "PRAGMA synchronous=NORMAL");
        Exec(s, "PRAGMA foreign_keys=ON");
      }
    } else if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgresql+", 0) == 0) {
      impl->pg = true;
      impl->pool_size = 4;
      impl->pool = std::make_unique<soci::connection_pool>(impl->pool_size);
      std::string cs = PgConnString(url);
      for (std::size_t i = 0; i < impl->pool_size; ++i) {
        soci::session& s = impl->pool->at(i);
        // By name: SOCI loads its PostgreSQL backend (and libpq with its TLS and Kerberos
        // stacks) only when a PostgreSQL database is used.
        s.open("postgresql", cs);
        PgSessionSettings(s);
      }
    } else {
      return InvalidArgument("unsupported database URL '" + log::RedactUrl(url) +
                             "' (expected sqlite:///PATH or postgresql://USER:PASS@HOST:PORT/DB)");
    }
  } catch (const std::exception& e) {
    // The URL may carry a password, and libpq's message may quote it: neither reaches a log.
    std::string why = e.what();
    const std::string redacted = log::RedactUrl(url);
    const size_t pw = redacted.find("***");
    if (pw != std::string::npos) {
      const std::string password = url.substr(pw, url.size() - redacted.size() + 3);
      for (size_t at; !password.empty() && (at = why.find(password)) != std::string::npos;) {
        why.replace(at, password.size(), "***");
      }
    }
    return Unavailable("cannot open database '" + log::RedactUrl(url) + "': " + why);
  }
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Result<int> Store::SchemaVersion() {
  return impl_->Run<int>([&](soci::session& s) -> Result<int> {
    Query exists;
    if (impl_->pg) {
      exists.sql =
          "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'migrate_version'"
          " AND table_schema = current_schema()";
    } else {
      exists.sql = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'migrate_version'";
    }
    if (ToInt(Select(s, exists).at(0)[0]) == 0) return 0;
    auto rows = Select(s, Query{"SELECT MAX(version) FROM migrate_version", {}});
    return rows.empty() ? 0 : static_cast<int>(ToInt(rows[0][0]));
  });
}

Status Store::Migrate() {
  return impl_->Tx([&](soci::session& s) -> Status {
    Exec(s, "CREATE TABLE IF NOT EXISTS migrate_version (version INTEGER NOT NULL)");
    if (impl_->pg) Exec(s, "LOCK TABLE migrate_version IN EXCLUSIVE MODE");
    auto rows = Select(s, Query{"SELECT MAX(version) FROM migrate_version", {}});
    int current = rows.empty() ? 0 : static_cast<int>(ToInt(rows[0][0]));
    for (const auto& m : Migrations()) {
      if (m.version <= current) continue;
      m.apply(s, impl_->pg);
      Exec(s, "DELETE FROM migrate_version");
      Query q;
      q.sql = "INSERT INTO migrate_version (version) VALUES (" + q.P(std::to_string(m.version)) + ")";
      Exec(s, q);
    }
    return Status::OK();
  });
}

Status Store::CheckSchema() {
  CINDER_ASSIGN_OR_RETURN(int v, SchemaVersion());
  if (v != kLatestVersion) {
    return FailedPrecondition("the database schema is at version " + std::to_string(v) +
                              ", this libcinder needs version " + std::to_string(kLatestVersion) +
                              ": run 'cinder-manage --config-file CONF db sync'");
  }
  return Status::OK();
}

Status Store::InsertVolume(const Volume& v, const QuotaCharge* charge, QuotaReservation* over) {
  return impl_->Tx([&](soci::session& s) -> Status {
    // A snapshot or volume it is made from must still be usable; touching its row serialises
    // this with a delete of it (which locks the row before it looks for volumes made from it).
    if (v.snapshot_id) {
      Query t;
      t.sql = "UPDATE snapshots SET updated_at = updated_at WHERE deleted = 0 AND status = 'available' AND id = " +
              t.P(*v.snapshot_id);
      if (Exec(s, t) == 0) {
        return FailedPrecondition("Invalid snapshot: Originating snapshot status must be one of 'available' values");
      }
    }
    if (v.source_volid) {
      Query t;
      t.sql =
          "UPDATE volumes SET updated_at = updated_at WHERE deleted = 0 AND status IN ('available', 'in-use') "
          "AND id = " +
          t.P(*v.source_volid);
      if (Exec(s, t) == 0) {
        return FailedPrecondition(
            "Invalid volume: Originating source volume status must be one of 'available, in-use' values");
      }
    }
    Query q;
    auto opt = [&q](const std::optional<std::string>& x) { return x ? q.P(*x) : "NULL"; };
    q.sql =
        "INSERT INTO volumes (id, user_id, project_id, host, size, availability_zone, status, "
        "attach_status, display_name, display_description, volume_type_id, snapshot_id, "
        "source_volid, bootable, multiattach, created_at) VALUES (" +
        q.P(v.id) + ", " + q.P(v.user_id) + ", " + q.P(v.project_id) + ", " + q.P(v.host) + ", " +
        q.P(std::to_string(v.size)) + ", " + q.P(v.availability_zone) + ", " + q.P(v.status) + ", " +
        q.P(v.attach_status) + ", " + opt(v.has_name ? std::optional<std::string>(v.name) : std::nullopt) + ", " +
        opt(v.has_description ? std::optional<std::string>(v.description) : std::nullopt) + ", " +
        opt(v.volume_type_id.empty() ? std::nullopt : std::optional<std::string>(v.volume_type_id)) + ", " +
        opt(v.snapshot_id) + ", " + opt(v.source_volid) + ", " + (v.bootable ? "1" : "0") + ", " +
        (v.multiattach ? "1" : "0") + ", " + q.P(v.created_at) + ")";
    Exec(s, q);
    for (const auto& [k, val] : v.metadata) {
      Query m;
      m.sql = "INSERT INTO volume_metadata (volume_id, key, value, created_at) VALUES (" + m.P(v.id) + ", " + m.P(k) +
              ", " + m.P(val) + ", " + m.P(v.created_at) + ")";
      Exec(s, m);
    }
    if (charge) CINDER_RETURN_IF_ERROR(ChargeQuota(s, impl_->pg, *charge, over));
    return Status::OK();
  });
}

void Store::Impl::AttachMetadata(soci::session& s, const std::vector<Volume*>& vols) {
  if (vols.empty()) return;
  std::map<std::string_view, Volume*> by_id;
  for (Volume* v : vols) by_id[v->id] = v;
  Query q;
  q.sql = "SELECT volume_id, key, value FROM volume_metadata WHERE deleted = 0 AND volume_id IN (";
  if (pg) {
    // The ids come from the volumes just read; quoted literals keep the statement simple.
    for (size_t i = 0; i < vols.size(); ++i) {
      q.sql += i ? ",'" : "'";
      for (char c : vols[i]->id) q.sql += c == '\'' ? std::string("''") : std::string(1, c);
      q.sql += "'";
    }
    q.sql += ")";
    for (const auto& r : Select(s, q)) {
      auto it = by_id.find(r[0].value_or(""));
      if (it != by_id.end()) it->second->metadata[r[1].value_or("")] = r[2].value_or("");
    }
    return;
  }
  // SQLite: positional parameters, so the statement is prepared once per page size.
  for (size_t i = 0; i < vols.size(); ++i) {
    q.sql += i ? ",?" : "?";
    q.params.push_back(vols[i]->id);
  }
  q.sql += ")";
  sqlite_statements.Select(s, q, [&by_id](sq::sqlite3_stmt* st) {
    auto id = SqText(st, 0).value_or("");
    auto it = by_id.find(id);
    if (it != by_id.end()) it->second->metadata[SqText(st, 1).value_or("")] = SqText(st, 2).value_or("");
  });
}

namespace {

void AddScope(Query* q, const ProjectScope& scope) {
  if (scope) q->sql += " AND v.project_id = " + q->P(*scope);
}

}  // namespace

Result<Volume> Store::GetVolume(const std::string& id, const ProjectScope& scope) {
  return impl_->Run<Volume>([&](soci::session& s) -> Result<Volume> {
    Query q;
    q.sql = std::string("SELECT ") + kVolumeColumns + kVolumeFrom + " WHERE v.deleted = 0 AND v.id = " + q.P(id);
    AddScope(&q, scope);
    std::vector<Volume> vols = impl_->FetchVolumes(s, q);
    if (vols.empty()) return NotFound("Volume " + id + " could not be found.");
    return vols[0];
  });
}

Result<VolumeList> Store::ListVolumes(const VolumeListQuery& lq, const ProjectScope& scope, int64_t max_limit) {
  // API keys to SQL expressions; created_at and id follow as tie-breakers.
  CINDER_ASSIGN_OR_RETURN(SqlSort sort, ResolveSort(lq.sort, SortColumns(), {"created_at", "id"}));
  int64_t limit = lq.limit < 0 ? max_limit : std::min(lq.limit, max_limit);

  return impl_->Run<VolumeList>([&](soci::session& s) -> Result<VolumeList> {
    Query q;
    q.sql = std::string("SELECT ") + kVolumeColumns + kVolumeFrom + " WHERE v.deleted = 0";
    AddScope(&q, scope);
    if (lq.name) q.sql += " AND v.display_name = " + q.P(*lq.name);
    if (lq.status) q.sql += " AND v.status = " + q.P(*lq.status);
    if (lq.availability_zone) q.sql += " AND v.availability_zone = " + q.P(*lq.availability_zone);
    for (const auto& [k, val] : lq.metadata) {
      q.sql +=
          " AND EXISTS (SELECT 1 FROM volume_metadata m WHERE m.volume_id = v.id AND "
          "m.deleted = 0 AND m.key = " +
          q.P(k) + " AND m.value = " + q.P(val) + ")";
    }
    VolumeList out;
    if (lq.with_count) {
      Query c = q;
      c.sql = "SELECT COUNT(*)" + c.sql.substr(c.sql.find(" FROM volumes v"));
      out.count = ToInt(Select(s, c).at(0)[0]);
    }
    if (lq.marker) {
      Query m;
      m.sql = "SELECT ";
      for (size_t i = 0; i < sort.size(); ++i) m.sql += (i ? ", " : "") + sort[i].first;
      m.sql += std::string(kVolumeFrom) + " WHERE v.deleted = 0 AND v.id = " + m.P(*lq.marker);
      AddScope(&m, scope);
      auto rows = Select(s, m);
      if (rows.empty()) return NotFound("Volume " + *lq.marker + " could not be found.");
      q.sql += " AND " + SeekAfter(&q, sort, rows[0]);
    }
    q.sql += OrderBy(sort);
    q.sql += " LIMIT " + std::to_string(limit + 1);
    out.volumes = impl_->FetchVolumes(s, q);
    if (static_cast<int64_t>(out.volumes.size()) > limit) {
      out.volumes.pop_back();
      out.more = true;
    }
    return out;
  });
}

Result<bool> Store::CasVolumeStatus(const std::string& id, const std::vector<std::string>& expected,
                                    const std::string& new_status, const std::vector<FieldUpdate>& fields,
                                    const std::optional<std::string>& expected_host) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE volumes SET status = " + q.P(new_status) + ", updated_at = " + q.P(NowIso());
    for (const auto& [col, val] : fields) q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0";
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    if (expected_host) q.sql += " AND host = " + q.P(*expected_host);
    return Exec(s, q) > 0;
  });
}

Result<bool> Store::UpdateVolume(const std::string& id, const std::vector<FieldUpdate>& fields,
                                 const std::optional<Metadata>& metadata) {
  bool found = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE volumes SET updated_at = " + q.P(NowIso());
    for (const auto& [col, val] : fields) q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0";
    found = Exec(s, q) > 0;
    if (found && metadata) WriteMetadata(s, "volume_metadata", "volume_id", id, *metadata, /*replace=*/true);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return found;
}

Result<bool> Store::CasVolumeStatusCommit(const std::string& id, const std::vector<std::string>& expected,
                                          const std::string& new_status, const std::vector<FieldUpdate>& fields,
                                          const std::vector<std::string>& reservations,
                                          const std::vector<std::pair<std::string, std::string>>& conditions) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "UPDATE volumes SET status = " + q.P(new_status) + ", updated_at = " + q.P(NowIso());
    for (const auto& [col, val] : fields) q.sql += ", " + col + " = " + (val ? q.P(*val) : "NULL");
    q.sql += " WHERE id = " + q.P(id) + " AND deleted = 0";
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    for (const auto& [col, val] : conditions) q.sql += " AND " + col + " = " + q.P(val);
    changed = Exec(s, q) > 0;
    if (changed) CommitReservationRows(s, impl_->pg, reservations);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::RestorePreviousStatus(const std::string& id, const std::string& from,
                                          const std::optional<std::string>& expected_host) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql =
        "UPDATE volumes SET status = COALESCE(previous_status, 'available'), previous_status = NULL, "
        "updated_at = " +
        q.P(NowIso()) + " WHERE deleted = 0 AND id = " + q.P(id) + " AND status = " + q.P(from);
    if (expected_host) q.sql += " AND host = " + q.P(*expected_host);
    return Exec(s, q) > 0;
  });
}

Result<bool> Store::StartVolumeDelete(const std::string& id, const std::vector<std::string>& expected, bool cascade,
                                      bool any_snapshot_status, bool other_projects_snapshots) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    // The volume's row first: a snapshot or clone of it being recorded (which touches this row
    // in its transaction) has committed or waits; the checks below, statements of their own,
    // then see it.
    if (!LockRow(s, impl_->pg, "volumes", id)) return Status::OK();
    if (cascade && impl_->pg) {
      // And its snapshots' rows: a volume being made from one of them touches that row, not
      // this one.
      Query l;
      l.sql = "SELECT id FROM snapshots WHERE deleted = 0 AND volume_id = " + l.P(id) + " ORDER BY id FOR UPDATE";
      Select(s, l);
    }
    auto none = [&s](const std::string& sql, const std::string& vid) {
      Query q;
      q.sql = sql;
      const std::string p = q.P(vid);
      for (auto pos = q.sql.find("$V"); pos != std::string::npos; pos = q.sql.find("$V")) q.sql.replace(pos, 2, p);
      return ToInt(Select(s, q).at(0)[0]) == 0;
    };
    // Not while a clone of it, or a volume from one of its snapshots, is being made.
    if (!none("SELECT COUNT(*) FROM volumes WHERE source_volid = $V AND deleted = 0 AND status = 'creating'", id) ||
        !none("SELECT COUNT(*) FROM snapshots sn JOIN volumes cv ON cv.snapshot_id = sn.id WHERE sn.volume_id = $V "
              "AND sn.deleted = 0 AND cv.deleted = 0 AND cv.status = 'creating'",
              id)) {
      return Status::OK();
    }
    if (!cascade && !none("SELECT COUNT(*) FROM snapshots WHERE volume_id = $V AND deleted = 0", id)) {
      return Status::OK();
    }
    // Cinder's volume_has_undeletable_snapshots_filter, and (for a non-admin) snapshots that
    // another project owns after a transfer without them.
    if (cascade && !any_snapshot_status &&
        !none("SELECT COUNT(*) FROM snapshots WHERE volume_id = $V AND deleted = 0 AND status NOT IN "
              "('available', 'error')",
              id)) {
      return Status::OK();
    }
    if (cascade && !other_projects_snapshots &&
        !none("SELECT COUNT(*) FROM snapshots sn JOIN volumes v ON v.id = sn.volume_id WHERE sn.volume_id = $V AND "
              "sn.deleted = 0 AND sn.project_id <> v.project_id",
              id)) {
      return Status::OK();
    }
    const std::string now = NowIso();
    Query q;
    q.sql = "UPDATE volumes SET status = 'deleting', updated_at = " + q.P(now) + " WHERE id = " + q.P(id) +
            " AND deleted = 0";
    if (!expected.empty()) q.sql += " AND status IN " + q.In(expected);
    changed = Exec(s, q) > 0;
    if (changed && cascade) {
      Query c;
      c.sql = "UPDATE snapshots SET status = 'deleting', updated_at = " + c.P(now) +
              " WHERE deleted = 0 AND volume_id = " + c.P(id);
      Exec(s, c);
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::SoftDeleteVolume(const std::string& id, const std::string& expected) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    std::string now = NowIso();
    Query r;
    r.sql =
        "SELECT v.project_id, v.size, v.volume_type_id FROM volumes v "
        "WHERE v.id = " +
        r.P(id) + " AND v.deleted = 0 AND v.status = " + r.P(expected);
    auto rows = Select(s, r);
    if (rows.empty()) {
      changed = false;
      return Status::OK();
    }
    Query q;
    q.sql = "UPDATE volumes SET deleted = 1, status = 'deleted', deleted_at = " + q.P(now) +
            ", updated_at = " + q.P(now) + " WHERE id = " + q.P(id) + " AND deleted = 0 AND status = " + q.P(expected);
    changed = Exec(s, q) > 0;
    if (changed) {
      Query m;
      m.sql = "UPDATE volume_metadata SET deleted = 1, deleted_at = " + m.P(now) + " WHERE volume_id = " + m.P(id) +
              " AND deleted = 0";
      Exec(s, m);
      AddQuotaInUse(s, impl_->pg, rows[0][0].value_or(""),
                    VolumeQuotaDeltas(LockedTypeName(s, impl_->pg, rows[0][2].value_or("")), ToInt(rows[0][1]), -1));
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<std::vector<Volume>> Store::VolumesInStatus(const std::string& host_prefix,
                                                   const std::vector<std::string>& statuses) {
  return impl_->Run<std::vector<Volume>>([&](soci::session& s) -> Result<std::vector<Volume>> {
    Query q;
    // By the status index (the statuses sought are transient ones, a few volumes among all):
    // SQLite is told, as statistics from ANALYZE may count the statuses' rows as equal.
    std::string from = kVolumeFrom;
    if (!impl_->pg) from.replace(from.find(" v ") + 2, 0, " INDEXED BY volumes_status");
    q.sql = std::string("SELECT ") + kVolumeColumns + from + " WHERE v.deleted = 0 AND v.status IN " + q.In(statuses) +
            " AND substr(v.host, 1, " + std::to_string(host_prefix.size()) + ") = " + q.P(host_prefix);
    return impl_->FetchVolumes(s, q);
  });
}

Result<Store::VolumeSummary> Store::SummarizeVolumes(const ProjectScope& scope) {
  return impl_->Run<VolumeSummary>([&](soci::session& s) -> Result<VolumeSummary> {
    VolumeSummary out;
    Query q;
    q.sql = "SELECT COUNT(*), COALESCE(SUM(v.size), 0) FROM volumes v WHERE v.deleted = 0";
    AddScope(&q, scope);
    auto rows = Select(s, q);
    out.count = ToInt(rows.at(0)[0]);
    out.size = ToInt(rows.at(0)[1]);
    Query m;
    m.sql =
        "SELECT DISTINCT m.key, m.value FROM volume_metadata m JOIN volumes v ON v.id = m.volume_id "
        "WHERE m.deleted = 0 AND v.deleted = 0";
    AddScope(&m, scope);
    m.sql += " ORDER BY m.key, m.value";
    for (const auto& r : Select(s, m)) out.metadata[r[0].value_or("")].push_back(r[1].value_or(""));
    return out;
  });
}

Result<Metadata> Store::GetVolumeMetadata(const std::string& id) {
  return impl_->Run<Metadata>([&](soci::session& s) -> Result<Metadata> {
    Query q;
    q.sql = "SELECT key, value FROM volume_metadata WHERE deleted = 0 AND volume_id = " + q.P(id);
    Metadata out;
    for (const auto& r : Select(s, q)) out[r[0].value_or("")] = r[1].value_or("");
    return out;
  });
}

Status Store::SetVolumeMetadata(const std::string& id, const Metadata& metadata, bool replace) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query live;
    live.sql = "SELECT 1 FROM volumes WHERE deleted = 0 AND id = " + live.P(id);
    if (Select(s, live).empty()) return NotFound("Volume " + id + " could not be found.");
    WriteMetadata(s, "volume_metadata", "volume_id", id, metadata, replace);
    return Status::OK();
  });
}

Result<bool> Store::DeleteVolumeMetadataKey(const std::string& id, const std::string& key) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    std::string now = NowIso();
    q.sql = "UPDATE volume_metadata SET deleted = 1, deleted_at = " + q.P(now) +
            " WHERE deleted = 0 AND volume_id = " + q.P(id) + " AND key = " + q.P(key);
    return Exec(s, q) > 0;
  });
}

Status Store::RegisterService(const ServiceInfo& svc) {
  return impl_->Tx([&](soci::session& s) -> Status {
    std::string now = NowIso();
    Query u;
    u.sql = "UPDATE services SET topic = " + u.P(svc.topic) + ", availability_zone = " + u.P(svc.availability_zone) +
            ", endpoint = " + u.P(svc.endpoint) + ", rpc_current_version = " + u.P(std::to_string(svc.rpc_version)) +
            ", updated_at = " + u.P(now) +
            ", report_count = report_count + 1 WHERE deleted = 0 AND host = " + u.P(svc.host) +
            " AND \"binary\" = " + u.P(svc.binary);
    if (Exec(s, u) == 0) {
      Query i;
      i.sql =
          "INSERT INTO services (host, \"binary\", topic, availability_zone, endpoint, "
          "rpc_current_version, created_at, updated_at) VALUES (" +
          i.P(svc.host) + ", " + i.P(svc.binary) + ", " + i.P(svc.topic) + ", " + i.P(svc.availability_zone) + ", " +
          i.P(svc.endpoint) + ", " + i.P(std::to_string(svc.rpc_version)) + ", " + i.P(now) + ", " + i.P(now) + ")";
      Exec(s, i);
    }
    return Status::OK();
  });
}

Result<bool> Store::Heartbeat(const std::string& host, const std::string& binary, const std::string& at) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE services SET updated_at = " + q.P(at.empty() ? NowIso() : at) +
            ", report_count = report_count + 1 WHERE deleted = 0 AND host = " + q.P(host) +
            " AND \"binary\" = " + q.P(binary);
    return Exec(s, q) > 0;
  });
}

Result<std::vector<ServiceInfo>> Store::ListServices(const std::optional<std::string>& host,
                                                     const std::optional<std::string>& binary) {
  return impl_->Run<std::vector<ServiceInfo>>([&](soci::session& s) -> Result<std::vector<ServiceInfo>> {
    Query q;
    q.sql =
        "SELECT host, \"binary\", topic, availability_zone, disabled, disabled_reason, endpoint, "
        "rpc_current_version, created_at, updated_at FROM services WHERE deleted = 0";
    if (host) {
      // As Cinder: the host itself, or a backend or pool of it (host@backend, host#pool).
      std::string n = std::to_string(host->size() + 1);
      q.sql += " AND (host = " + q.P(*host) + " OR substr(host, 1, " + n + ") = " + q.P(*host + "@") +
               " OR substr(host, 1, " + n + ") = " + q.P(*host + "#") + ")";
    }
    if (binary) q.sql += " AND \"binary\" = " + q.P(*binary);
    q.sql += " ORDER BY id";
    std::vector<ServiceInfo> out;
    for (const auto& r : Select(s, q)) {
      ServiceInfo svc;
      svc.host = r[0].value_or("");
      svc.binary = r[1].value_or("");
      svc.topic = r[2].value_or("");
      svc.availability_zone = r[3].value_or("");
      svc.disabled = ToInt(r[4]) != 0;
      svc.disabled_reason = r[5];
      svc.endpoint = r[6].value_or("");
      svc.rpc_version = static_cast<int>(ToInt(r[7]));
      svc.created_at = r[8].value_or("");
      svc.updated_at = r[9];
      out.push_back(std::move(svc));
    }
    return out;
  });
}

Result<bool> Store::SetServiceDisabled(const std::string& host, const std::string& binary, bool disabled,
                                       const std::optional<std::string>& reason) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = std::string("UPDATE services SET disabled = ") + (disabled ? "1" : "0");
    // Enabling keeps the last reason, as Cinder does; disabling records the new one (or none).
    if (disabled) q.sql += ", disabled_reason = " + (reason ? q.P(*reason) : std::string("NULL"));
    q.sql += " WHERE deleted = 0 AND host = " + q.P(host) + " AND \"binary\" = " + q.P(binary);
    return Exec(s, q) > 0;
  });
}

Result<int64_t> Store::Purge(const std::string& before_iso) {
  int64_t removed = 0;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    removed = 0;  // a deadlock retry runs it all again
    auto run = [&](const std::string& sql) {
      Query q;
      q.sql = sql;
      std::string cutoff = q.P(before_iso);
      auto pos = q.sql.find("$CUTOFF");
      while (pos != std::string::npos) {
        q.sql.replace(pos, 7, cutoff);
        pos = q.sql.find("$CUTOFF");
      }
      removed += Exec(s, q);
    };
    // Children first: metadata of purged volumes, then rows deleted on their own.
    run("DELETE FROM transfers WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM transfers WHERE volume_id IN (SELECT id FROM volumes WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM snapshot_metadata WHERE snapshot_id IN (SELECT id FROM snapshots WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM snapshot_metadata WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM snapshots WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM reservations WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM quotas WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM quota_classes WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volume_metadata WHERE volume_id IN (SELECT id FROM volumes WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM volume_metadata WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volumes WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volume_type_extra_specs WHERE volume_type_id IN (SELECT id FROM volume_types "
        "WHERE deleted = 1 AND deleted_at < $CUTOFF)");
    run("DELETE FROM volume_type_extra_specs WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM qos_specs_keys WHERE qos_specs_id IN (SELECT id FROM qos_specs WHERE deleted = 1 "
        "AND deleted_at < $CUTOFF)");
    run("DELETE FROM qos_specs_keys WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM qos_specs WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volume_type_projects WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM volume_type_projects WHERE volume_type_id IN (SELECT id FROM volume_types "
        "WHERE deleted = 1 AND deleted_at < $CUTOFF)");
    run("DELETE FROM volume_types WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM services WHERE deleted = 1 AND deleted_at < $CUTOFF");
    run("DELETE FROM messages WHERE deleted = 1 AND deleted_at < $CUTOFF");
    return Status::OK();
  });
  if (!st.ok()) return st;
  return removed;
}

}  // namespace cinder

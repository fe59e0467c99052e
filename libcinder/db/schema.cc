// The schema: its migrations, in order, and the version checks.
#include "db/store.h"

#include <functional>
#include <string>
#include <vector>

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

// Schema 10 on PostgreSQL. The triggers are deferred constraint triggers: they run as the
// change commits (inside its transaction), so a generation row is locked only while its
// transaction commits, not while it runs (a create's transaction would otherwise hold its
// project's row through its quota checks, and every other change of the project would wait).
void MigrateListGenerationsPg(soci::session& s) {
  // The upsert of a generation row, written out in each function: PL/pgSQL keeps the plans of
  // its statements per connection, and a call of a helper function cost 20 us a change (a
  // LANGUAGE sql one, which plans its INSERT at every call, 40 us).
  auto bump = [](const std::string& project) {
    return "UPDATE list_generations SET generation = generation + 1 WHERE project_id = " + project +
           "; IF NOT FOUND THEN INSERT INTO list_generations (project_id, generation) VALUES (" + project +
           ", 1) ON CONFLICT (project_id) DO UPDATE SET generation = list_generations.generation + 1; END IF; ";
  };
  // A transfer moves a volume between projects: both are bumped, in one order, so that two
  // crossing transfers do not lock each other's generation rows in opposite orders.
  Exec(s,
       "CREATE FUNCTION volumes_list_generation() RETURNS trigger LANGUAGE plpgsql AS $$ "
       "DECLARE a VARCHAR; b VARCHAR; BEGIN "
       "IF TG_OP = 'INSERT' THEN a := COALESCE(NEW.project_id, ''); "
       "ELSIF TG_OP = 'DELETE' THEN a := COALESCE(OLD.project_id, ''); "
       "ELSE a := LEAST(COALESCE(OLD.project_id, ''), COALESCE(NEW.project_id, '')); "
       "b := GREATEST(COALESCE(OLD.project_id, ''), COALESCE(NEW.project_id, '')); "
       "IF a = b THEN b := NULL; END IF; "
       "END IF; " +
           bump("a") + "IF b IS NOT NULL THEN " + bump("b") + "END IF; RETURN NULL; END $$");
  const std::string kDeferred = " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW ";
  Exec(s, "CREATE CONSTRAINT TRIGGER volumes_list_generation AFTER INSERT OR DELETE ON volumes" + kDeferred +
              "EXECUTE FUNCTION volumes_list_generation()");
  // Any column: a touch that changes nothing (UPDATE ... SET updated_at = updated_at, which
  // serialises a clone or snapshot with a delete of its source) bumps nothing.
  Exec(s, "CREATE CONSTRAINT TRIGGER volumes_list_generation_update AFTER UPDATE ON volumes" + kDeferred +
              "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION volumes_list_generation()");
  // A row of a volume bumps the volume's project. The volume's row is share-locked until the
  // change commits: a transfer of the volume (which updates that row) commits before the
  // project is read here, or waits for this change to commit; either way the project bumped is
  // the one whose lists show the change.
  Exec(s,
       "CREATE FUNCTION volume_rows_list_generation() RETURNS trigger LANGUAGE plpgsql AS $$ "
       "DECLARE p VARCHAR; BEGIN "
       "IF TG_OP <> 'INSERT' THEN "
       "SELECT COALESCE(project_id, '') INTO p FROM volumes WHERE id = OLD.volume_id FOR SHARE; "
       "IF FOUND THEN " +
           bump("p") +
           "END IF; "
           "END IF; "
           "IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.volume_id IS DISTINCT FROM OLD.volume_id) THEN "
           "SELECT COALESCE(project_id, '') INTO p FROM volumes WHERE id = NEW.volume_id FOR SHARE; "
           "IF FOUND THEN " +
           bump("p") + "END IF; END IF; RETURN NULL; END $$");
  for (const std::string table : {"volume_metadata", "volume_attachment"}) {
    Exec(s, "CREATE CONSTRAINT TRIGGER " + table + "_list_generation AFTER INSERT OR DELETE ON " + table + kDeferred +
                "EXECUTE FUNCTION volume_rows_list_generation()");
    Exec(s, "CREATE CONSTRAINT TRIGGER " + table + "_list_generation_update AFTER UPDATE ON " + table + kDeferred +
                "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION volume_rows_list_generation()");
  }
  Exec(s, "CREATE FUNCTION volume_types_list_generation() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " + bump("'*'") +
              "RETURN NULL; END $$");
  Exec(s, "CREATE CONSTRAINT TRIGGER volume_types_list_generation AFTER INSERT OR DELETE ON volume_types" + kDeferred +
              "EXECUTE FUNCTION volume_types_list_generation()");
  Exec(s, "CREATE CONSTRAINT TRIGGER volume_types_list_generation_rename AFTER UPDATE OF name ON volume_types" +
              kDeferred + "WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION volume_types_list_generation()");
}

// Schema 10 on SQLite (one writer at a time, so a trigger reads a volume's project as the
// change commits it).
void MigrateListGenerationsSqlite(soci::session& s) {
  const std::string kBump = " ON CONFLICT (project_id) DO UPDATE SET generation = generation + 1;";
  auto bump_project = [&kBump](const std::string& project) {
    return "INSERT INTO list_generations (project_id, generation) VALUES (COALESCE(" + project + ", ''), 1)" + kBump;
  };
  auto bump_volume = [&kBump](const std::string& volume_id, const std::string& also) {
    return "INSERT INTO list_generations (project_id, generation) SELECT COALESCE(project_id, ''), 1 FROM volumes "
           "WHERE id = " +
           volume_id + also + kBump;
  };
  Exec(s, "CREATE TRIGGER volumes_list_generation_insert AFTER INSERT ON volumes BEGIN " +
              bump_project("NEW.project_id") + " END");
  Exec(s, "CREATE TRIGGER volumes_list_generation_delete AFTER DELETE ON volumes BEGIN " +
              bump_project("OLD.project_id") + " END");
  // Every UPDATE, even one that changes nothing (a touch that serialises a clone or a
  // snapshot with a delete of its source): a WHEN naming the columns would have to be made
  // again by every migration that adds one.
  Exec(s, "CREATE TRIGGER volumes_list_generation_update AFTER UPDATE ON volumes BEGIN " +
              bump_project("OLD.project_id") +
              " INSERT INTO list_generations (project_id, generation) SELECT COALESCE(NEW.project_id, ''), 1 "
              "WHERE NEW.project_id IS NOT OLD.project_id" +
              kBump + " END");
  for (const std::string table : {"volume_metadata", "volume_attachment"}) {
    Exec(s, "CREATE TRIGGER " + table + "_list_generation_insert AFTER INSERT ON " + table + " BEGIN " +
                bump_volume("NEW.volume_id", "") + " END");
    Exec(s, "CREATE TRIGGER " + table + "_list_generation_delete AFTER DELETE ON " + table + " BEGIN " +
                bump_volume("OLD.volume_id", "") + " END");
    Exec(s, "CREATE TRIGGER " + table + "_list_generation_update AFTER UPDATE ON " + table + " BEGIN " +
                bump_volume("OLD.volume_id", "") + " " +
                bump_volume("NEW.volume_id", " AND NEW.volume_id IS NOT OLD.volume_id") + " END");
  }
  const std::string bump_all = bump_project("'*'");
  Exec(s, "CREATE TRIGGER volume_types_list_generation_insert AFTER INSERT ON volume_types BEGIN " + bump_all + " END");
  Exec(s, "CREATE TRIGGER volume_types_list_generation_delete AFTER DELETE ON volume_types BEGIN " + bump_all + " END");
  Exec(s,
       "CREATE TRIGGER volume_types_list_generation_rename AFTER UPDATE OF name ON volume_types WHEN OLD.name IS NOT "
       "NEW.name BEGIN " +
           bump_all + " END");
}

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
      {6,
       [](soci::session& s, bool pg) {
         // Quota limits, usage and reservations are 64-bit: a project's gigabytes pass 2^31
         // with three volumes of the largest size. (SQLite's INTEGER is 64-bit already.)
         if (!pg) return;
         Exec(s, "ALTER TABLE quotas ALTER COLUMN hard_limit TYPE BIGINT");
         Exec(s, "ALTER TABLE quota_classes ALTER COLUMN hard_limit TYPE BIGINT");
         Exec(s, "ALTER TABLE quota_usages ALTER COLUMN in_use TYPE BIGINT, ALTER COLUMN reserved TYPE BIGINT");
         Exec(s, "ALTER TABLE reservations ALTER COLUMN delta TYPE BIGINT");
       }},
      {7,
       [](soci::session& s, bool pg) {
         // Lists are ordered by created_at, an ISO 8601 text that sorts the same byte by byte:
         // compared as bytes (collation "C") rather than by the database's locale, which costs
         // a strcoll() per comparison (a third of a 1,000-volume list's time in the database).
         // Its indexes are rebuilt with it. (SQLite compares bytes already.)
         if (!pg) return;
         for (const char* table : {"volumes", "snapshots", "messages", "transfers"}) {
           Exec(s, std::string("ALTER TABLE ") + table + " ALTER COLUMN created_at TYPE VARCHAR(32) COLLATE \"C\"");
         }
       }},
      {8,
       [](soci::session& s, bool) {
         // The volume whose operation in flight (an extend, a retype) holds a reservation, so
         // that whatever ends that operation settles the reservation in the same transaction.
         Exec(s, "ALTER TABLE reservations ADD COLUMN volume_id VARCHAR(36)");
         Exec(s, "CREATE INDEX reservations_volume ON reservations (volume_id) WHERE deleted = 0");
       }},
      {9,
       [](soci::session& s, bool pg) {
         // Attachments (Cinder's volume_attachment), the CHAP credentials of a volume's export
         // (provider_auth; provider_location exists) and the two admin metadata keys Cinder's
         // views show ("readonly", "attached_mode"), kept on the volume's row so that a list
         // reads them without another query.
         Exec(s, std::string("CREATE TABLE volume_attachment (id VARCHAR(36) PRIMARY KEY, ") +
                     "volume_id VARCHAR(36) NOT NULL REFERENCES volumes (id), instance_uuid VARCHAR(36), "
                     "attached_host VARCHAR(255), mountpoint VARCHAR(255), attach_time VARCHAR(32), "
                     "detach_time VARCHAR(32), attach_status VARCHAR(255) NOT NULL, attach_mode VARCHAR(36), "
                     "connection_info TEXT, connector TEXT, " +
                     kTimestamps + ")");
         if (pg) Exec(s, "ALTER TABLE volume_attachment ALTER COLUMN created_at TYPE VARCHAR(32) COLLATE \"C\"");
         Exec(s, "CREATE INDEX volume_attachment_volume ON volume_attachment (volume_id, deleted)");
         Exec(s, "CREATE INDEX volume_attachment_live ON volume_attachment (deleted, created_at, id)");
         Exec(s, "ALTER TABLE volumes ADD COLUMN provider_auth VARCHAR(255)");
         Exec(s, "ALTER TABLE volumes ADD COLUMN admin_readonly VARCHAR(8)");
         Exec(s, "ALTER TABLE volumes ADD COLUMN attached_mode VARCHAR(8)");
       }},
      {10,
       [](soci::session& s, bool pg) {
         // The list generations (db/list_cache.h): every change of a row that a project's
         // volume lists show bumps the project's generation in the change's transaction, so a
         // list cached at a generation is current while the generation is. Triggers do it, so
         // that no write path (nor a later one) can forget it: volumes (its old and its new
         // project), volume_metadata and volume_attachment (their volume's project), and a
         // volume type named, renamed or removed ('*', which every list also reads).
         Exec(s, "CREATE TABLE list_generations (project_id VARCHAR(255) PRIMARY KEY, generation BIGINT NOT NULL)");
         if (pg) {
           MigrateListGenerationsPg(s);
         } else {
           MigrateListGenerationsSqlite(s);
         }
       }},
      {11,
       [](soci::session& s, bool) {
         // The built-in identity service (auth/): Keystone's domains, projects, users, roles,
         // implied roles and role assignments, and tokens, kept only as their SHA-256.
         // identity_revocations holds one counter that every change affecting a token's
         // validity bumps, so that each API process drops its validations within a second.
         Exec(s,
              "CREATE TABLE identity_domains (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL UNIQUE, "
              "description TEXT, enabled INTEGER NOT NULL DEFAULT 1, created_at VARCHAR(32) NOT NULL)");
         Exec(s,
              "CREATE TABLE identity_projects (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, "
              "domain_id VARCHAR(64) NOT NULL, description TEXT, enabled INTEGER NOT NULL DEFAULT 1, tags TEXT, "
              "created_at VARCHAR(32) NOT NULL, UNIQUE (domain_id, name))");
         Exec(s,
              "CREATE TABLE identity_users (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, "
              "domain_id VARCHAR(64) NOT NULL, email VARCHAR(255), description TEXT, default_project_id VARCHAR(64), "
              "enabled INTEGER NOT NULL DEFAULT 1, password_hash VARCHAR(255), password_created_at VARCHAR(32), "
              "failed_auth_count INTEGER NOT NULL DEFAULT 0, failed_auth_at VARCHAR(32), "
              "created_at VARCHAR(32) NOT NULL, UNIQUE (domain_id, name))");
         Exec(s,
              "CREATE TABLE identity_roles (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, "
              "name_key VARCHAR(255) NOT NULL UNIQUE, description TEXT, created_at VARCHAR(32) NOT NULL)");
         Exec(s,
              "CREATE TABLE identity_implied_roles (prior_role_id VARCHAR(64) NOT NULL, implied_role_id VARCHAR(64) "
              "NOT NULL, PRIMARY KEY (prior_role_id, implied_role_id))");
         // actor_type: user or group; target_type: project, domain or system (target_id "all").
         Exec(s,
              "CREATE TABLE identity_assignments (actor_type VARCHAR(8) NOT NULL, actor_id VARCHAR(255) NOT NULL, "
              "target_type VARCHAR(8) NOT NULL, target_id VARCHAR(64) NOT NULL, role_id VARCHAR(64) NOT NULL, "
              "PRIMARY KEY (actor_type, actor_id, target_type, target_id, role_id))");
         Exec(s, "CREATE INDEX identity_assignments_target ON identity_assignments (target_type, target_id)");
         Exec(s, "CREATE INDEX identity_assignments_role ON identity_assignments (role_id)");
         Exec(s,
              "CREATE TABLE identity_tokens (id_hash VARCHAR(64) PRIMARY KEY, user_id VARCHAR(255) NOT NULL, "
              "project_id VARCHAR(64), domain_id VARCHAR(64), system_scope VARCHAR(8), methods VARCHAR(64) NOT NULL, "
              "audit_id VARCHAR(32) NOT NULL, issued_at VARCHAR(32) NOT NULL, expires_at VARCHAR(32) NOT NULL, "
              "revoked INTEGER NOT NULL DEFAULT 0)");
         Exec(s, "CREATE INDEX identity_tokens_user ON identity_tokens (user_id)");
         Exec(s, "CREATE INDEX identity_tokens_project ON identity_tokens (project_id)");
         Exec(s, "CREATE INDEX identity_tokens_expires ON identity_tokens (expires_at)");
         Exec(s, "CREATE TABLE identity_revocations (id INTEGER PRIMARY KEY, generation BIGINT NOT NULL)");
         Exec(s, "INSERT INTO identity_revocations (id, generation) VALUES (1, 0)");
       }},
      {12,
       [](soci::session& s, bool pg) {
         // Backups (Cinder's backups and backup_metadata). No foreign key on volume_id: a
         // backup outlives its volume (and an imported one names a volume that never was here).
         Exec(s, std::string("CREATE TABLE backups (id VARCHAR(36) PRIMARY KEY, ") +
                     "user_id VARCHAR(255), project_id VARCHAR(255), volume_id VARCHAR(36) NOT NULL, "
                     "host VARCHAR(255), availability_zone VARCHAR(255), display_name VARCHAR(255), "
                     "display_description VARCHAR(255), container VARCHAR(255), status VARCHAR(255) NOT NULL, "
                     "fail_reason TEXT, service_metadata VARCHAR(255), service VARCHAR(255), size INTEGER, "
                     "object_count INTEGER, parent_id VARCHAR(36), "
                     "num_dependent_backups INTEGER NOT NULL DEFAULT 0, snapshot_id VARCHAR(36), "
                     "data_timestamp VARCHAR(32), restore_volume_id VARCHAR(36), temp_volume_id VARCHAR(36), "
                     "temp_snapshot_id VARCHAR(36), encryption_key_id VARCHAR(36), "
                     "progress_bytes BIGINT NOT NULL DEFAULT 0, " +
                     kTimestamps + ")");
         if (pg) Exec(s, "ALTER TABLE backups ALTER COLUMN created_at TYPE VARCHAR(32) COLLATE \"C\"");
         Exec(s, "CREATE INDEX backups_project ON backups (project_id, deleted, created_at, id)");
         Exec(s, "CREATE INDEX backups_volume ON backups (volume_id, deleted, status)");
         Exec(s, "CREATE INDEX backups_host_status ON backups (host, status)");
         Exec(s, "CREATE INDEX backups_parent ON backups (parent_id)");
         Exec(s, "CREATE INDEX backups_restore_volume ON backups (restore_volume_id)");
         Exec(s, "CREATE TABLE backup_metadata (id " + Serial(pg) +
                     ", backup_id VARCHAR(36) NOT NULL REFERENCES backups (id), "
                     "key VARCHAR(255) NOT NULL, value VARCHAR(255), " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX backup_metadata_key ON backup_metadata (backup_id, key) WHERE deleted = 0");
       }},
      {13,
       [](soci::session& s, bool pg) {
         // A project's volumes by bootable and age: GET volumes?bootable=..&created_at=gt:..
         // seeks to the bootable ones and reads them in the list's order.
         Exec(s, "CREATE INDEX volumes_project_bootable ON volumes (project_id, deleted, bootable, created_at, id)");
         // updated_at is compared by the time filters (3.60): bytes, as created_at (schema 7).
         if (pg) Exec(s, "ALTER TABLE volumes ALTER COLUMN updated_at TYPE VARCHAR(32) COLLATE \"C\"");
         // Cinder's volume_glance_metadata: a volume's image metadata (volume_image_metadata),
         // shown in its details and filtered by glance_metadata; its rows bump the volume's
         // project's list generation as volume_metadata's do (schema 10).
         Exec(s, "CREATE TABLE volume_glance_metadata (id " + Serial(pg) +
                     ", volume_id VARCHAR(36) REFERENCES volumes (id), snapshot_id VARCHAR(36), "
                     "key VARCHAR(255) NOT NULL, value TEXT, " +
                     kTimestamps + ")");
         Exec(s,
              "CREATE UNIQUE INDEX volume_glance_metadata_key ON volume_glance_metadata (volume_id, key) "
              "WHERE deleted = 0");
         Exec(s,
              "CREATE INDEX volume_glance_metadata_key_value ON volume_glance_metadata (key, value) WHERE deleted = 0");
         if (pg) {
           const std::string kDeferred = " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW ";
           Exec(s,
                "CREATE CONSTRAINT TRIGGER volume_glance_metadata_list_generation AFTER INSERT OR DELETE ON "
                "volume_glance_metadata" +
                    kDeferred + "EXECUTE FUNCTION volume_rows_list_generation()");
           Exec(s,
                "CREATE CONSTRAINT TRIGGER volume_glance_metadata_list_generation_update AFTER UPDATE ON "
                "volume_glance_metadata" +
                    kDeferred + "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION volume_rows_list_generation()");
           return;
         }
         auto bump = [](const std::string& volume_id) {
           return "INSERT INTO list_generations (project_id, generation) SELECT COALESCE(project_id, ''), 1 FROM "
                  "volumes WHERE id = " +
                  volume_id + " ON CONFLICT (project_id) DO UPDATE SET generation = generation + 1;";
         };
         Exec(s,
              "CREATE TRIGGER volume_glance_metadata_list_generation_insert AFTER INSERT ON volume_glance_metadata "
              "BEGIN " +
                  bump("NEW.volume_id") + " END");
         Exec(s,
              "CREATE TRIGGER volume_glance_metadata_list_generation_delete AFTER DELETE ON volume_glance_metadata "
              "BEGIN " +
                  bump("OLD.volume_id") + " END");
         Exec(s,
              "CREATE TRIGGER volume_glance_metadata_list_generation_update AFTER UPDATE ON volume_glance_metadata "
              "BEGIN " +
                  bump("OLD.volume_id") + " " + bump("NEW.volume_id") + " END");
       }},
      {14,
       [](soci::session& s, bool pg) {
         // Generic volume groups (3.11, 3.13): group types and their specs, groups, the volume
         // types each group allows, and a volume's group. As Cinder's initial migration, the
         // group type its consistency groups are migrated to exists from the start.
         Exec(s, std::string("CREATE TABLE group_types (id VARCHAR(36) PRIMARY KEY, ") +
                     "name VARCHAR(255) NOT NULL, description VARCHAR(255), "
                     "is_public INTEGER NOT NULL DEFAULT 1, " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX group_types_name ON group_types (name) WHERE deleted = 0");
         Exec(s, "CREATE TABLE group_type_specs (id " + Serial(pg) +
                     ", group_type_id VARCHAR(36) NOT NULL REFERENCES group_types (id), "
                     "key VARCHAR(255) NOT NULL, value VARCHAR(255), " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX group_type_specs_key ON group_type_specs (group_type_id, key) WHERE deleted = 0");
         Exec(s, std::string("CREATE TABLE groups (id VARCHAR(36) PRIMARY KEY, ") +
                     "user_id VARCHAR(255), project_id VARCHAR(255), host VARCHAR(255), "
                     "availability_zone VARCHAR(255), name VARCHAR(255), description VARCHAR(255), "
                     "group_type_id VARCHAR(36) NOT NULL REFERENCES group_types (id), "
                     "status VARCHAR(255) NOT NULL, " +
                     kTimestamps + ")");
         Exec(s, "CREATE INDEX groups_project ON groups (project_id, deleted, created_at, id)");
         Exec(s, "CREATE INDEX groups_group_type ON groups (group_type_id, deleted)");
         Exec(s, "CREATE TABLE group_volume_type_mapping (id " + Serial(pg) +
                     ", group_id VARCHAR(36) NOT NULL REFERENCES groups (id), "
                     "volume_type_id VARCHAR(36) NOT NULL REFERENCES volume_types (id), " +
                     kTimestamps + ")");
         Exec(s,
              "CREATE UNIQUE INDEX group_volume_type_mapping_key ON group_volume_type_mapping "
              "(group_id, volume_type_id) WHERE deleted = 0");
         Exec(s, "ALTER TABLE volumes ADD COLUMN group_id VARCHAR(36)");
         Exec(s, "CREATE INDEX volumes_group ON volumes (group_id)");
         const std::string now = NowIso();
         const std::string id = NewUuid();
         Query t;
         t.sql = "INSERT INTO group_types (id, name, description, is_public, created_at) VALUES (" + t.P(id) + ", " +
                 t.P("default_cgsnapshot_type") + ", " + t.P("Default group type for migrating cgsnapshot") + ", 1, " +
                 t.P(now) + ")";
         Exec(s, t);
         Query spec;
         spec.sql = "INSERT INTO group_type_specs (group_type_id, key, value, created_at) VALUES (" + spec.P(id) +
                    ", " + spec.P("consistent_group_snapshot_enabled") + ", " + spec.P("<is> True") + ", " +
                    spec.P(now) + ")";
         Exec(s, spec);
       }},
      {15,
       [](soci::session& s, bool) {
         // Cinder's encryption table: a volume type's encryption (/types/{id}/encryption), at
         // most one live row per type.
         Exec(s, std::string("CREATE TABLE encryption (encryption_id VARCHAR(36) PRIMARY KEY, ") +
                     "volume_type_id VARCHAR(36) NOT NULL REFERENCES volume_types (id), "
                     "cipher VARCHAR(255), key_size INTEGER, provider VARCHAR(255), "
                     "control_location VARCHAR(255), " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX encryption_volume_type ON encryption (volume_type_id) WHERE deleted = 0");
       }},
      {16,
       [](soci::session& s, bool) {
         // Group snapshots (3.14), as Cinder's group_snapshots table: a snapshot of each volume
         // of a group (snapshots.group_snapshot_id); a group made from a group snapshot or a
         // source group (groups.group_snapshot_id, groups.source_group_id).
         Exec(s, std::string("CREATE TABLE group_snapshots (id VARCHAR(36) PRIMARY KEY, ") +
                     "group_id VARCHAR(36) NOT NULL REFERENCES groups (id), user_id VARCHAR(255), "
                     "project_id VARCHAR(255), name VARCHAR(255), description VARCHAR(255), "
                     "status VARCHAR(255) NOT NULL, group_type_id VARCHAR(36), " +
                     kTimestamps + ")");
         Exec(s, "CREATE INDEX group_snapshots_project ON group_snapshots (project_id, deleted, created_at, id)");
         Exec(s, "CREATE INDEX group_snapshots_group ON group_snapshots (group_id, deleted)");
         Exec(s, "ALTER TABLE snapshots ADD COLUMN group_snapshot_id VARCHAR(36)");
         Exec(s, "CREATE INDEX snapshots_group_snapshot ON snapshots (group_snapshot_id)");
         Exec(s, "ALTER TABLE groups ADD COLUMN group_snapshot_id VARCHAR(36)");
         Exec(s, "ALTER TABLE groups ADD COLUMN source_group_id VARCHAR(36)");
       }},
      {17,
       [](soci::session& s, bool pg) {
         // Clusters (API 3.7), as Cinder's clusters table: the volume services of one
         // `cluster = NAME` in cinder.conf, per backend (NAME@backend), share a row whose
         // `disabled` is theirs for scheduling. A service names its cluster in cluster_name.
         Exec(s, "ALTER TABLE services ADD COLUMN cluster_name VARCHAR(255)");
         Exec(s, "CREATE TABLE clusters (id " + Serial(pg) +
                     ", name VARCHAR(255) NOT NULL, \"binary\" VARCHAR(255) NOT NULL, "
                     "disabled INTEGER NOT NULL DEFAULT 0, disabled_reason VARCHAR(255), " +
                     kTimestamps + ")");
         Exec(s, "CREATE UNIQUE INDEX clusters_name_binary ON clusters (name, \"binary\") WHERE deleted = 0");
       }},
      {18,
       [](soci::session& s, bool) {
         // A volume's cluster (Cinder's volumes.cluster_name): its volume service's, written
         // with its host (ClusterOfHost) and by a service that joins a cluster.
         Exec(s, "ALTER TABLE volumes ADD COLUMN cluster_name VARCHAR(255)");
         Exec(s,
              "UPDATE volumes SET cluster_name = (SELECT s.cluster_name FROM services s WHERE s.deleted = 0 AND "
              "s.\"binary\" = 'cinder-volume' AND s.cluster_name IS NOT NULL AND (volumes.host = s.host OR "
              "volumes.host LIKE s.host || '#%') LIMIT 1) WHERE deleted = 0");
       }},
      {19,
       [](soci::session& s, bool) {
         // Frozen backends (os-services/freeze): their management plane is read only.
         Exec(s, "ALTER TABLE services ADD COLUMN frozen INTEGER NOT NULL DEFAULT 0");
         Exec(s, "ALTER TABLE clusters ADD COLUMN frozen INTEGER NOT NULL DEFAULT 0");
       }},
  };
  return kMigrations;
}

}  // namespace

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

}  // namespace cinder

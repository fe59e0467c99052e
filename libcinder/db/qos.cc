// The qos_specs and qos_specs_keys tables, and their association with volume types.
#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

bool QosExists(soci::session& s, const std::string& id) {
  Query q;
  q.sql = "SELECT COUNT(*) FROM qos_specs WHERE deleted = 0 AND id = " + q.P(id);
  return ToInt(Select(s, q).at(0)[0]) > 0;
}

Status NoSuchQos(const std::string& id) { return NotFound("No such QoS spec " + id + "."); }

void UpsertKeys(soci::session& s, const std::string& id, const Metadata& specs) {
  const std::string now = NowIso();
  for (const auto& [k, v] : specs) {
    Query u;
    u.sql = "INSERT INTO qos_specs_keys (qos_specs_id, key, value, created_at) VALUES (" + u.P(id) + ", " + u.P(k) +
            ", " + u.P(v) + ", " + u.P(now) +
            ") ON CONFLICT (qos_specs_id, key) WHERE deleted = 0 DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.created_at";
    Exec(s, u);
  }
}

std::vector<QosSpecs> Fetch(soci::session& s, Query q) {
  std::vector<QosSpecs> out;
  for (const auto& r : Select(s, q)) {
    QosSpecs x;
    x.id = r[0].value_or("");
    x.name = r[1].value_or("");
    x.consumer = r[2].value_or("back-end");
    x.created_at = r[3].value_or("");
    out.push_back(std::move(x));
  }
  if (out.empty()) return out;
  Query k;
  std::vector<std::string> ids;
  for (const auto& x : out) ids.push_back(x.id);
  k.sql = "SELECT qos_specs_id, key, value FROM qos_specs_keys WHERE deleted = 0 AND qos_specs_id IN " + k.In(ids);
  std::map<std::string, QosSpecs*> by_id;
  for (auto& x : out) by_id[x.id] = &x;
  for (const auto& r : Select(s, k)) by_id[r[0].value_or("")]->specs[r[1].value_or("")] = r[2].value_or("");
  return out;
}

}  // namespace

Status Store::CreateQosSpecs(const QosSpecs& x) {
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query taken;
    taken.sql = "SELECT COUNT(*) FROM qos_specs WHERE deleted = 0 AND name = " + taken.P(x.name);
    if (ToInt(Select(s, taken).at(0)[0]) > 0) return AlreadyExists("QoS Specs " + x.name + " already exists.");
    Query q;
    q.sql = "INSERT INTO qos_specs (id, name, consumer, created_at) VALUES (" + q.P(x.id) + ", " + q.P(x.name) + ", " +
            q.P(x.consumer) + ", " + q.P(x.created_at.empty() ? NowIso() : x.created_at) + ")";
    Exec(s, q);
    UpsertKeys(s, x.id, x.specs);
    return Status::OK();
  });
  if (!st.ok() && st.message().find("nique") != std::string::npos) {
    return AlreadyExists("QoS Specs " + x.name + " already exists.");  // a concurrent create won
  }
  return st;
}

Result<QosSpecs> Store::GetQosSpecs(const std::string& id) {
  return impl_->Run<QosSpecs>([&](soci::session& s) -> Result<QosSpecs> {
    Query q;
    q.sql = "SELECT id, name, consumer, created_at FROM qos_specs WHERE deleted = 0 AND id = " + q.P(id);
    auto found = Fetch(s, q);
    if (found.empty()) return NoSuchQos(id);
    return found[0];
  });
}

Result<std::vector<QosSpecs>> Store::ListQosSpecs() {
  return impl_->Run<std::vector<QosSpecs>>([&](soci::session& s) -> Result<std::vector<QosSpecs>> {
    return Fetch(s, Query{"SELECT id, name, consumer, created_at FROM qos_specs WHERE deleted = 0 "
                          "ORDER BY created_at DESC, id DESC",
                          {}});
  });
}

Status Store::SetQosSpecsKeys(const std::string& id, const Metadata& specs,
                              const std::optional<std::string>& consumer) {
  return impl_->Tx([&](soci::session& s) -> Status {
    if (!QosExists(s, id)) return NoSuchQos(id);
    if (consumer) {
      Query c;
      c.sql = "UPDATE qos_specs SET consumer = " + c.P(*consumer) + ", updated_at = " + c.P(NowIso()) +
              " WHERE deleted = 0 AND id = " + c.P(id);
      Exec(s, c);
    }
    UpsertKeys(s, id, specs);
    return Status::OK();
  });
}

Status Store::DeleteQosSpecsKeys(const std::string& id, const std::vector<std::string>& keys) {
  return impl_->Tx([&](soci::session& s) -> Status {
    if (!QosExists(s, id)) return NoSuchQos(id);
    // As Cinder: keys are removed in order until the first that is not set.
    for (const auto& key : keys) {
      Query d;
      d.sql = "UPDATE qos_specs_keys SET deleted = 1, deleted_at = " + d.P(NowIso()) +
              " WHERE deleted = 0 AND qos_specs_id = " + d.P(id) + " AND key = " + d.P(key);
      if (Exec(s, d) == 0) {
        Exec(s, "COMMIT");  // keep the keys removed so far, as Cinder does
        Exec(s, "BEGIN");
        return NotFound("QoS spec " + id + " has no spec with key " + key + ".");
      }
    }
    return Status::OK();
  });
}

Status Store::DeleteQosSpecs(const std::string& id, bool force) {
  return impl_->Tx([&](soci::session& s) -> Status {
    if (!QosExists(s, id)) return NoSuchQos(id);
    Query used;
    used.sql = "SELECT COUNT(*) FROM volume_types WHERE deleted = 0 AND qos_specs_id = " + used.P(id);
    if (ToInt(Select(s, used).at(0)[0]) > 0) {
      if (!force) return FailedPrecondition("Qos specs still in use.");
      Query dis;
      dis.sql = "UPDATE volume_types SET qos_specs_id = NULL WHERE qos_specs_id = " + dis.P(id);
      Exec(s, dis);
    }
    const std::string now = NowIso();
    Query k;
    k.sql = "UPDATE qos_specs_keys SET deleted = 1, deleted_at = " + k.P(now) +
            " WHERE deleted = 0 AND qos_specs_id = " + k.P(id);
    Exec(s, k);
    Query q;
    q.sql = "UPDATE qos_specs SET deleted = 1, deleted_at = " + q.P(now) + " WHERE deleted = 0 AND id = " + q.P(id);
    Exec(s, q);
    return Status::OK();
  });
}

Result<std::vector<std::pair<std::string, std::string>>> Store::QosSpecsAssociations(const std::string& id) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  return impl_->Run<Pairs>([&](soci::session& s) -> Result<Pairs> {
    if (!QosExists(s, id)) return NoSuchQos(id);
    Query q;
    q.sql = "SELECT id, name FROM volume_types WHERE deleted = 0 AND qos_specs_id = " + q.P(id) + " ORDER BY name";
    Pairs out;
    for (const auto& r : Select(s, q)) out.emplace_back(r[0].value_or(""), r[1].value_or(""));
    return out;
  });
}

Status Store::AssociateQosSpecs(const std::string& id, const std::string& type_id) {
  return impl_->Tx([&](soci::session& s) -> Status {
    if (!QosExists(s, id)) return NoSuchQos(id);
    Query t;
    t.sql = "SELECT qos_specs_id FROM volume_types WHERE deleted = 0 AND id = " + t.P(type_id);
    auto rows = Select(s, t);
    if (rows.empty()) return NotFound("Volume type " + type_id + " could not be found.");
    if (rows[0][0] && !rows[0][0]->empty()) {
      if (*rows[0][0] == id) return Status::OK();
      return FailedPrecondition("Invalid volume type: Type " + type_id +
                                " is already associated with another qos specs: " + *rows[0][0]);
    }
    Query a;
    a.sql = "UPDATE volume_types SET qos_specs_id = " + a.P(id) + " WHERE deleted = 0 AND id = " + a.P(type_id);
    Exec(s, a);
    return Status::OK();
  });
}

Status Store::DisassociateQosSpecs(const std::string& id, const std::optional<std::string>& type_id) {
  return impl_->Tx([&](soci::session& s) -> Status {
    if (!QosExists(s, id)) return NoSuchQos(id);
    Query q;
    q.sql = "UPDATE volume_types SET qos_specs_id = NULL WHERE qos_specs_id = " + q.P(id);
    if (type_id) {
      Query t;
      t.sql = "SELECT COUNT(*) FROM volume_types WHERE deleted = 0 AND id = " + t.P(*type_id);
      if (ToInt(Select(s, t).at(0)[0]) == 0) return NotFound("Volume type " + *type_id + " could not be found.");
      q.sql += " AND id = " + q.P(*type_id);
    }
    Exec(s, q);
    return Status::OK();
  });
}

}  // namespace cinder

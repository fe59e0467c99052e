// The volume_attachment table and the volume statuses attachments drive (Cinder's
// _attachment_reserve, volume_attached, volume_detached), each change one transaction with the
// volume's row locked.
#include <algorithm>
#include <map>
#include <set>

#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace as = attach_status;

namespace {

const char kAttachmentColumns[] =
    "a.id, a.volume_id, a.instance_uuid, a.attached_host, a.mountpoint, a.attach_time, a.detach_time, "
    "a.attach_status, a.attach_mode, a.connection_info, a.connector, a.created_at";

Attachment ToAttachment(const Row& r) {
  Attachment a;
  a.id = r[0].value_or("");
  a.volume_id = r[1].value_or("");
  a.instance_uuid = r[2];
  a.attached_host = r[3];
  a.mountpoint = r[4];
  a.attach_time = r[5];
  a.detach_time = r[6];
  a.attach_status = r[7].value_or("");
  a.attach_mode = r[8];
  a.connection_info = r[9];
  a.connector = r[10];
  a.created_at = r[11].value_or("");
  return a;
}

std::vector<Attachment> LiveAttachments(soci::session& s, const std::string& volume_id) {
  Query q;
  q.sql = std::string("SELECT ") + kAttachmentColumns +
          " FROM volume_attachment a WHERE a.deleted = 0 AND a.volume_id = " + q.P(volume_id) +
          " ORDER BY a.created_at, a.id";
  std::vector<Attachment> out;
  for (const auto& r : Select(s, q)) out.push_back(ToAttachment(r));
  return out;
}

Status NoSuchAttachment(const std::string& id) {
  return NotFound("Volume attachment could not be found with filter: attachment_id = " + id + ".");
}

// Cinder's volume_detached, after the attachment left: the volume's attach_status is the
// alphabetically first of the remaining rows' (error_* ignored), "detached" without any; its
// status follows (attached -> in-use, detached -> available, else the same word), unless it
// is detached and migrating or uploading.
Status RecomputeVolume(soci::session& s, const std::string& volume_id, const std::string& now) {
  Query v;
  v.sql = "SELECT status, migration_status FROM volumes WHERE deleted = 0 AND id = " + v.P(volume_id);
  auto rows = Select(s, v);
  if (rows.empty()) return Status::OK();
  std::string attach = as::kDetached;
  bool any = false;
  for (const Attachment& a : LiveAttachments(s, volume_id)) {
    if (a.attach_status.rfind("error", 0) == 0) continue;
    if (!any || a.attach_status < attach) attach = a.attach_status;
    any = true;
  }
  std::string status = attach == as::kAttached   ? std::string(volume_status::kInUse)
                       : attach == as::kDetached ? std::string(volume_status::kAvailable)
                                                 : attach;
  const std::string current = rows[0][0].value_or("");
  const auto& migration = rows[0][1];
  bool keep_status = attach == as::kDetached &&
                     ((migration && *migration != "success" && *migration != "error") || current == "uploading");
  Query u;
  u.sql = "UPDATE volumes SET attach_status = " + u.P(attach) + ", updated_at = " + u.P(now);
  if (!keep_status) u.sql += ", status = " + u.P(status);
  if (attach == as::kDetached) u.sql += ", attached_mode = NULL";
  u.sql += " WHERE deleted = 0 AND id = " + u.P(volume_id);
  Exec(s, u);
  return Status::OK();
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " or " : "") + v[i];
  return out;
}

}  // namespace

void Store::Impl::AttachAttachments(soci::session& s, const std::vector<Volume*>& vols) {
  if (vols.empty()) return;
  std::map<std::string, Volume*> by_id;
  Query q;
  std::vector<std::string> ids;
  for (Volume* v : vols) {
    by_id[v->id] = v;
    ids.push_back(v->id);
  }
  q.sql = std::string("SELECT ") + kAttachmentColumns +
          " FROM volume_attachment a WHERE a.deleted = 0 AND a.attach_status = 'attached' AND a.volume_id IN " +
          q.In(ids) + " ORDER BY a.created_at, a.id";
  for (const auto& r : Select(s, q)) {
    Attachment a = ToAttachment(r);
    auto it = by_id.find(a.volume_id);
    if (it != by_id.end()) it->second->attachments.push_back(std::move(a));
  }
}

Result<Attachment> Store::ReserveAttachment(const AttachmentReserve& r) {
  Attachment out;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    if (!LockRow(s, impl_->pg, "volumes", r.volume_id))
      return NotFound("Volume " + r.volume_id + " could not be found.");
    Query v;
    v.sql = "SELECT status, multiattach, project_id FROM volumes WHERE deleted = 0 AND id = " + v.P(r.volume_id);
    auto rows = Select(s, v);
    if (rows.empty() || (r.scope && rows[0][2].value_or("") != *r.scope)) {
      return NotFound("Volume " + r.volume_id + " could not be found.");
    }
    const std::string status = rows[0][0].value_or("");
    const bool multiattach = ToInt(rows[0][1]) != 0;
    std::vector<std::string> allowed = {volume_status::kAvailable, "downloading"};
    if (multiattach) allowed = {volume_status::kAvailable, volume_status::kInUse, "downloading"};
    const std::string now = NowIso();
    if (std::find(allowed.begin(), allowed.end(), status) != allowed.end()) {
      Query u;
      u.sql = "UPDATE volumes SET status = 'reserved', updated_at = " + u.P(now) + " WHERE id = " + u.P(r.volume_id);
      Exec(s, u);
    } else {
      // The same instance may hold a second attachment of an attached volume (a live
      // migration: Cinder's LP 1694530).
      bool same_instance = false;
      if (r.instance_uuid && (status == volume_status::kInUse || status == volume_status::kReserved)) {
        for (const Attachment& a : LiveAttachments(s, r.volume_id)) {
          if (a.instance_uuid == r.instance_uuid) same_instance = true;
        }
      }
      if (!same_instance) {
        return FailedPrecondition("Invalid volume: Volume " + r.volume_id + " status must be " + Joined(allowed) +
                                  " to reserve, but the current status is " + status + ".");
      }
    }
    out.id = NewUuid();
    out.volume_id = r.volume_id;
    out.instance_uuid = r.instance_uuid;
    out.attach_status = as::kReserved;
    out.attach_mode = r.attach_mode;
    out.connector = r.connector;
    out.connection_info = "{}";  // none yet (Cinder stores {})
    out.created_at = now;
    Query i;
    i.sql =
        "INSERT INTO volume_attachment (id, volume_id, instance_uuid, attach_status, attach_mode, connector, "
        "connection_info, created_at) VALUES (" +
        i.P(out.id) + ", " + i.P(out.volume_id) + ", " + i.Opt(out.instance_uuid) + ", 'reserved', " +
        i.Opt(out.attach_mode) + ", " + i.Opt(out.connector) + ", '{}', " + i.P(now) + ")";
    Exec(s, i);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::pair<Attachment, std::string>> Store::GetAttachment(const std::string& id, const ProjectScope& scope) {
  using Out = std::pair<Attachment, std::string>;
  return impl_->Run<Out>([&](soci::session& s) -> Result<Out> {
    Query q;
    q.sql = std::string("SELECT ") + kAttachmentColumns +
            ", v.project_id FROM volume_attachment a JOIN volumes v ON v.id = a.volume_id WHERE a.deleted = 0 AND "
            "v.deleted = 0 AND a.id = " +
            q.P(id);
    if (scope) q.sql += " AND v.project_id = " + q.P(*scope);
    auto rows = Select(s, q);
    if (rows.empty()) return NoSuchAttachment(id);
    return Out{ToAttachment(rows[0]), rows[0][12].value_or("")};
  });
}

Result<std::vector<Attachment>> Store::AttachmentsOfVolume(const std::string& volume_id) {
  return impl_->Run<std::vector<Attachment>>(
      [&](soci::session& s) -> Result<std::vector<Attachment>> { return LiveAttachments(s, volume_id); });
}

Result<std::vector<Attachment>> Store::ListAttachments(const AttachmentListQuery& q, const ProjectScope& scope,
                                                       int64_t max_limit) {
  static const std::map<std::string, std::string> kColumns = {
      {"id", "a.id"},
      {"created_at", "a.created_at"},
      {"updated_at", "COALESCE(a.updated_at, '')"},
      {"volume_id", "a.volume_id"},
      {"instance_uuid", "COALESCE(a.instance_uuid, '')"},
      {"attach_status", "a.attach_status"},
      {"status", "a.attach_status"},
  };
  CINDER_ASSIGN_OR_RETURN(SqlSort sort, ResolveSort(q.sort, kColumns, {"created_at", "id"}));
  return impl_->Run<std::vector<Attachment>>([&](soci::session& s) -> Result<std::vector<Attachment>> {
    Query sql;
    std::string where = " WHERE a.deleted = 0 AND v.deleted = 0";
    if (scope) where += " AND v.project_id = " + sql.P(*scope);
    if (q.project_id) where += " AND v.project_id = " + sql.P(*q.project_id);
    if (q.volume_id) where += " AND a.volume_id = " + sql.P(*q.volume_id);
    if (q.instance_uuid) where += " AND a.instance_uuid = " + sql.P(*q.instance_uuid);
    if (q.attach_status) where += " AND a.attach_status = " + sql.P(*q.attach_status);
    if (q.marker) {
      Query m;
      std::string cols;
      for (size_t i = 0; i < sort.size(); ++i) cols += (i ? ", " : "") + sort[i].first;
      m.sql = "SELECT " + cols +
              " FROM volume_attachment a JOIN volumes v ON v.id = a.volume_id WHERE a.id = " + m.P(*q.marker);
      if (scope) m.sql += " AND v.project_id = " + m.P(*scope);
      auto mrows = Select(s, m);
      if (mrows.empty()) return NotFound("Marker " + *q.marker + " could not be found.");
      where += " AND (" + SeekAfter(&sql, sort, mrows[0]) + ")";
    }
    int64_t limit = q.limit < 0 ? max_limit : std::min(q.limit, max_limit);
    sql.sql = std::string("SELECT ") + kAttachmentColumns +
              " FROM volume_attachment a JOIN volumes v ON v.id = " + "a.volume_id" + where + OrderBy(sort) +
              " LIMIT " + std::to_string(limit) + " OFFSET " + std::to_string(std::max<int64_t>(q.offset, 0));
    std::vector<Attachment> out;
    for (const auto& r : Select(s, sql)) out.push_back(ToAttachment(r));
    return out;
  });
}

Result<bool> Store::SetAttachmentConnector(const std::string& id, const std::optional<std::string>& connector,
                                           bool only_if_reserved) {
  return impl_->Run<bool>([&](soci::session& s) -> Result<bool> {
    Query q;
    q.sql = "UPDATE volume_attachment SET connector = " + q.Opt(connector) + ", updated_at = " + q.P(NowIso()) +
            " WHERE deleted = 0 AND id = " + q.P(id);
    if (only_if_reserved) q.sql += " AND attach_status = 'reserved'";
    return Exec(s, q) > 0;
  });
}

Result<bool> Store::AttachmentConnected(const AttachmentConnection& c) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    if (!LockRow(s, impl_->pg, "volumes", c.volume_id)) return Status::OK();
    const std::string now = NowIso();
    Query a;
    a.sql = "UPDATE volume_attachment SET attach_status = 'attaching', connector = " + a.P(c.connector) +
            ", connection_info = " + a.P(c.connection_info) + ", attached_host = " + a.Opt(c.attached_host) +
            ", mountpoint = " + a.Opt(c.mountpoint) + ", attach_mode = " + a.Opt(c.attach_mode) +
            ", attach_time = " + a.P(now) + ", updated_at = " + a.P(now) +
            " WHERE deleted = 0 AND id = " + a.P(c.attachment_id) + " AND volume_id = " + a.P(c.volume_id);
    if (Exec(s, a) == 0) return Status::OK();
    Query v;
    v.sql = "UPDATE volumes SET status = 'attaching', attach_status = 'attaching', updated_at = " + v.P(now) +
            " WHERE deleted = 0 AND id = " + v.P(c.volume_id);
    Exec(s, v);
    changed = true;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<bool> Store::CompleteAttachment(const std::string& id) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    changed = false;
    Query r;
    r.sql = "SELECT volume_id FROM volume_attachment WHERE deleted = 0 AND id = " + r.P(id);
    auto rows = Select(s, r);
    if (rows.empty()) return Status::OK();
    const std::string volume_id = rows[0][0].value_or("");
    if (!LockRow(s, impl_->pg, "volumes", volume_id)) return Status::OK();
    const std::string now = NowIso();
    Query a;
    a.sql = "UPDATE volume_attachment SET attach_status = 'attached', updated_at = " + a.P(now) +
            " WHERE deleted = 0 AND id = " + a.P(id);
    if (Exec(s, a) == 0) return Status::OK();
    Query v;
    v.sql = "UPDATE volumes SET status = 'in-use', attach_status = 'attached', updated_at = " + v.P(now) +
            " WHERE deleted = 0 AND id = " + v.P(volume_id);
    Exec(s, v);
    changed = true;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<std::vector<Attachment>> Store::DetachAttachment(const std::string& volume_id,
                                                        const std::optional<std::string>& attachment_id,
                                                        const std::vector<std::string>& expected) {
  std::vector<Attachment> remaining;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    remaining.clear();
    if (!LockRow(s, impl_->pg, "volumes", volume_id)) return NotFound("Volume " + volume_id + " could not be found.");
    const std::string now = NowIso();
    if (attachment_id) {
      Query a;
      a.sql = "UPDATE volume_attachment SET deleted = 1, attach_status = 'detached', deleted_at = " + a.P(now) +
              ", detach_time = " + a.P(now) + " WHERE deleted = 0 AND id = " + a.P(*attachment_id) +
              " AND volume_id = " + a.P(volume_id);
      if (!expected.empty()) a.sql += " AND attach_status IN " + a.In(expected);
      if (Exec(s, a) == 0 && !expected.empty()) return Aborted("the attachment changed meanwhile");
    }
    CINDER_RETURN_IF_ERROR(RecomputeVolume(s, volume_id, now));
    remaining = LiveAttachments(s, volume_id);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return remaining;
}

Result<Attachment> Store::LegacyAttach(const LegacyAttachRequest& r) {
  Attachment out;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    if (!LockRow(s, impl_->pg, "volumes", r.volume_id))
      return NotFound("Volume " + r.volume_id + " could not be found.");
    Query v;
    v.sql = "SELECT status, multiattach, attached_mode, admin_readonly, migration_status FROM volumes WHERE id = " +
            v.P(r.volume_id);
    auto rows = Select(s, v);
    const std::string status = rows[0][0].value_or("");
    const bool multiattach = ToInt(rows[0][1]) != 0;
    const auto attached_mode = rows[0][2];
    const auto readonly = rows[0][3];
    const bool migrating = rows[0][4].has_value();
    const std::string now = NowIso();
    if (status == volume_status::kAttaching && attached_mode && *attached_mode != r.mode) {
      return FailedPrecondition("Invalid volume: being attached by different mode");
    }
    for (const Attachment& a : LiveAttachments(s, r.volume_id)) {
      bool same = (r.instance_uuid && a.instance_uuid == r.instance_uuid) ||
                  (!r.instance_uuid && r.host_name && a.attached_host == r.host_name);
      if (!same) continue;
      Query u;
      u.sql = "UPDATE volumes SET status = 'in-use', updated_at = " + u.P(now) + " WHERE id = " + u.P(r.volume_id);
      Exec(s, u);
      out = a;
      return Status::OK();
    }
    if (status == volume_status::kInUse && !multiattach && !migrating) {
      return FailedPrecondition("Invalid volume: volume is already attached and multiple attachments are not enabled");
    }
    if (readonly && *readonly == "True" && r.mode != "ro") {
      return FailedPrecondition("Invalid volume: Invalid attaching mode '" + r.mode + "' for volume " + r.volume_id +
                                ".");
    }
    out.id = NewUuid();
    out.volume_id = r.volume_id;
    out.instance_uuid = r.instance_uuid;
    out.attached_host = r.host_name;
    out.mountpoint = r.mountpoint;
    out.attach_time = now;
    out.attach_status = as::kAttached;
    out.attach_mode = r.mode;
    out.created_at = now;
    Query i;
    i.sql =
        "INSERT INTO volume_attachment (id, volume_id, instance_uuid, attached_host, mountpoint, attach_time, "
        "attach_status, attach_mode, created_at) VALUES (" +
        i.P(out.id) + ", " + i.P(out.volume_id) + ", " + i.Opt(out.instance_uuid) + ", " + i.Opt(out.attached_host) +
        ", " + i.Opt(out.mountpoint) + ", " + i.P(now) + ", 'attached', " + i.P(r.mode) + ", " + i.P(now) + ")";
    Exec(s, i);
    Query u;
    u.sql = "UPDATE volumes SET status = 'in-use', attach_status = 'attached', attached_mode = " + u.P(r.mode) +
            ", admin_readonly = COALESCE(admin_readonly, 'False'), updated_at = " + u.P(now) +
            " WHERE id = " + u.P(r.volume_id);
    Exec(s, u);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return out;
}

Result<Store::VolumeExport> Store::GetVolumeExport(const std::string& volume_id) {
  return impl_->Run<VolumeExport>([&](soci::session& s) -> Result<VolumeExport> {
    Query q;
    q.sql = "SELECT provider_location, provider_auth, admin_readonly FROM volumes WHERE deleted = 0 AND id = " +
            q.P(volume_id);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFound("Volume " + volume_id + " could not be found.");
    VolumeExport e;
    e.provider_location = rows[0][0];
    e.provider_auth = rows[0][1];
    e.readonly = rows[0][2] && *rows[0][2] == "True";
    return e;
  });
}

Status Store::SetVolumeExport(const std::string& volume_id, const std::optional<std::string>& provider_location,
                              const std::optional<std::string>& provider_auth) {
  return impl_
      ->Run<bool>([&](soci::session& s) -> Result<bool> {
        Query q;
        q.sql = "UPDATE volumes SET provider_location = " + q.Opt(provider_location) +
                ", provider_auth = " + q.Opt(provider_auth) + " WHERE deleted = 0 AND id = " + q.P(volume_id);
        return Exec(s, q) > 0;
      })
      .status();
}

Result<std::vector<std::string>> Store::VolumesNeedingExport(const std::string& host_prefix) {
  return impl_->Run<std::vector<std::string>>([&](soci::session& s) -> Result<std::vector<std::string>> {
    Query q;
    q.sql =
        "SELECT DISTINCT v.id FROM volumes v JOIN volume_attachment a ON a.volume_id = v.id AND a.deleted = 0 "
        "WHERE v.deleted = 0 AND v.host LIKE " +
        q.P(host_prefix + "%") +
        " AND (a.attach_status IN ('attaching', 'attached', 'detaching') OR (a.attach_status = 'reserved' AND "
        "a.connector IS NOT NULL)) ORDER BY v.id";
    std::vector<std::string> out;
    for (const auto& r : Select(s, q)) out.push_back(r[0].value_or(""));
    return out;
  });
}

Result<std::vector<Attachment>> Store::InterruptedConnects(const std::string& host_prefix,
                                                           const std::string& older_than) {
  return impl_->Run<std::vector<Attachment>>([&](soci::session& s) -> Result<std::vector<Attachment>> {
    Query q;
    q.sql = std::string("SELECT ") + kAttachmentColumns +
            " FROM volume_attachment a JOIN volumes v ON v.id = a.volume_id WHERE a.deleted = 0 AND v.deleted = 0 "
            "AND a.attach_status = 'reserved' AND a.connector IS NOT NULL AND v.host LIKE " +
            q.P(host_prefix + "%") + " AND COALESCE(a.updated_at, a.created_at) < " + q.P(older_than);
    std::vector<Attachment> out;
    for (const auto& r : Select(s, q)) out.push_back(ToAttachment(r));
    return out;
  });
}

}  // namespace cinder

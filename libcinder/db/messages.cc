// The messages table: user messages (API 3.3).
#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

namespace {

const char kMessageColumns[] =
    "id, project_id, request_id, resource_type, resource_uuid, action_id, detail_id, event_id, "
    "message_level, created_at, expires_at";

Message ToMessage(const Row& r) {
  Message m;
  m.id = r[0].value_or("");
  m.project_id = r[1].value_or("");
  m.request_id = r[2].value_or("");
  m.resource_type = r[3].value_or("");
  m.resource_uuid = r[4];
  m.action_id = r[5].value_or("");
  m.detail_id = r[6].value_or("");
  m.event_id = r[7].value_or("");
  m.message_level = r[8].value_or("");
  m.created_at = r[9].value_or("");
  m.expires_at = r[10].value_or("");
  return m;
}

void AddMessageScope(Query* q, const ProjectScope& scope) {
  if (scope) q->sql += " AND project_id = " + q->P(*scope);
}

// API sort key -> column (NULLs read as '' so that paging can compare them).
const std::map<std::string, std::string>& MessageSortColumns() {
  static const std::map<std::string, std::string> kCols = {
      {"id", "id"},
      {"created_at", "created_at"},
      {"expires_at", "expires_at"},
      {"guaranteed_until", "expires_at"},
      {"event_id", "event_id"},
      {"message_level", "message_level"},
      {"request_id", "COALESCE(request_id, '')"},
      {"resource_type", "COALESCE(resource_type, '')"},
      {"resource_uuid", "COALESCE(resource_uuid, '')"},
      {"project_id", "project_id"},
  };
  return kCols;
}

}  // namespace

Status Store::InsertMessage(const Message& m) {
  return impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = std::string("INSERT INTO messages (") + kMessageColumns + ") VALUES (" + q.P(m.id) + ", " +
            q.P(m.project_id) + ", " + q.P(m.request_id) + ", " + q.P(m.resource_type) + ", " +
            (m.resource_uuid ? q.P(*m.resource_uuid) : "NULL") + ", " + q.P(m.action_id) + ", " + q.P(m.detail_id) +
            ", " + q.P(m.event_id) + ", " + q.P(m.message_level) + ", " + q.P(m.created_at) + ", " + q.P(m.expires_at) +
            ")";
    Exec(s, q);
    return Status::OK();
  });
}

Result<Message> Store::GetMessage(const std::string& id, const ProjectScope& scope) {
  return impl_->Run<Message>([&](soci::session& s) -> Result<Message> {
    Query q;
    q.sql = std::string("SELECT ") + kMessageColumns + " FROM messages WHERE deleted = 0 AND id = " + q.P(id);
    AddMessageScope(&q, scope);
    auto rows = Select(s, q);
    if (rows.empty()) return NotFound("Message " + id + " could not be found.");
    return ToMessage(rows[0]);
  });
}

Result<MessageList> Store::ListMessages(const MessageListQuery& lq, const ProjectScope& scope, int64_t max_limit) {
  CINDER_ASSIGN_OR_RETURN(SqlSort sort, ResolveSort(lq.sort, MessageSortColumns(), {"created_at", "id"}));
  int64_t limit = lq.limit < 0 ? max_limit : std::min(lq.limit, max_limit);
  return impl_->Run<MessageList>([&](soci::session& s) -> Result<MessageList> {
    Query q;
    q.sql = std::string("SELECT ") + kMessageColumns + " FROM messages WHERE deleted = 0";
    AddMessageScope(&q, scope);
    auto eq = [&q](const char* column, const std::optional<std::string>& v) {
      if (v) q.sql += std::string(" AND ") + column + " = " + q.P(*v);
    };
    eq("resource_uuid", lq.resource_uuid);
    eq("resource_type", lq.resource_type);
    eq("event_id", lq.event_id);
    eq("request_id", lq.request_id);
    eq("message_level", lq.message_level);
    if (lq.marker) {
      Query m;
      m.sql = "SELECT ";
      for (size_t i = 0; i < sort.size(); ++i) m.sql += (i ? ", " : "") + sort[i].first;
      m.sql += " FROM messages WHERE deleted = 0 AND id = " + m.P(*lq.marker);
      AddMessageScope(&m, scope);
      auto rows = Select(s, m);
      if (rows.empty()) return NotFound("Message " + *lq.marker + " could not be found.");
      q.sql += " AND " + SeekAfter(&q, sort, rows[0]);
    }
    q.sql += OrderBy(sort) + " LIMIT " + std::to_string(limit + 1);
    if (lq.offset > 0) q.sql += " OFFSET " + std::to_string(lq.offset);
    MessageList out;
    for (const auto& r : Select(s, q)) out.messages.push_back(ToMessage(r));
    if (static_cast<int64_t>(out.messages.size()) > limit) {
      out.messages.pop_back();
      out.more = true;
    }
    return out;
  });
}

Result<bool> Store::DeleteMessage(const std::string& id, const ProjectScope& scope) {
  bool changed = false;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    std::string now = NowIso();
    Query q;
    q.sql = "UPDATE messages SET deleted = 1, deleted_at = " + q.P(now) + ", updated_at = " + q.P(now) +
            " WHERE deleted = 0 AND id = " + q.P(id);
    AddMessageScope(&q, scope);
    changed = Exec(s, q) > 0;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return changed;
}

Result<int64_t> Store::DeleteExpiredMessages(const std::string& now_iso) {
  int64_t removed = 0;
  Status st = impl_->Tx([&](soci::session& s) -> Status {
    Query q;
    q.sql = "DELETE FROM messages WHERE expires_at < " + q.P(now_iso);
    removed = Exec(s, q);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return removed;
}

}  // namespace cinder

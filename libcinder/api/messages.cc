// /v3/{project_id}/messages (3.3): user messages, as cinder/api/v3/messages.py.
#include "api/common.h"
#include "api/filters.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

void WriteMessage(JsonWriter& w, const LinkPrefixes& links, const Message& m) {
  w.BeginObject();
  w.Key("id").String(m.id);
  w.Key("event_id").String(m.event_id);
  w.Key("user_message").String(UserMessageText(m));
  w.Key("message_level").String(m.message_level);
  w.Key("created_at").String(m.created_at);
  w.Key("guaranteed_until").String(m.expires_at);
  w.Key("request_id").String(m.request_id);
  WriteLinks(w, links, m.id);
  if (!m.resource_type.empty()) w.Key("resource_type").String(m.resource_type);
  if (m.resource_uuid && !m.resource_uuid->empty()) w.Key("resource_uuid").String(*m.resource_uuid);
  w.EndObject();
}

// Paging, sorting and filters from 3.5 (earlier versions ignore every parameter, as Cinder).
Result<MessageListQuery> ParseListQuery(const Options& options, const ApiRequest& req, bool* match_nothing) {
  MessageListQuery q;
  if (!req.version.AtLeast(3, 5)) return q;
  PagingParams paging;
  paging.allow_offset = true;
  std::vector<std::string> invalid;
  std::vector<std::string> filters;  // the keys resource_query_filters_file governs (3.31)
  for (const auto& [k, v] : req.query) {
    if (paging.Take(k, v)) continue;
    if (k != "all_tenants") filters.push_back(k);
    if (k == "resource_uuid") {
      q.resource_uuid = v;
    } else if (k == "resource_type") {
      q.resource_type = v;
    } else if (k == "event_id") {
      q.event_id = v;
    } else if (k == "request_id") {
      q.request_id = v;
    } else if (k == "message_level") {
      q.message_level = v;
    } else if (k == "all_tenants") {
      // The client adds it when it looks a message up by name; visibility does not change
      // with it (an admin sees every project's messages anyway), as in Cinder.
    } else {
      invalid.push_back(k);
    }
  }
  CINDER_RETURN_IF_ERROR(paging.Finish());
  // From 3.31 a non-admin may use only the filters resource_query_filters_file enables for
  // "message"; any other filter (an admin's, or anyone's before) is on no column the list
  // knows and matches nothing, as in Cinder's database layer.
  CINDER_RETURN_IF_ERROR(CheckConfiguredFilters(options, req, "message", filters));
  q.limit = paging.limit;
  q.marker = paging.marker;
  q.offset = paging.offset;
  q.sort = paging.sort;
  if (!invalid.empty()) *match_nothing = true;
  return q;
}

ApiResponse List(const Options& options, VolumeManager& volumes, ApiRequest& req) {
  bool match_nothing = false;
  auto q = ParseListQuery(options, req, &match_nothing);
  if (!q.ok()) return FaultFrom(q.status());
  MessageList list;
  if (!match_nothing) {
    auto r = volumes.ListMessages(req.ctx, *q);
    if (!r.ok()) return FaultFrom(r.status());
    list = std::move(r).value();
  }
  JsonWriter w;
  LinkPrefixes links(req, "messages");
  w.BeginObject().Key("messages").BeginArray();
  for (const auto& m : list.messages) WriteMessage(w, links, m);
  w.EndArray();
  int64_t limit = q->limit < 0 ? options.osapi_max_limit : std::min(q->limit, options.osapi_max_limit);
  if (!list.messages.empty()) {
    WriteNextLink(w, req, "messages_links", "messages", limit, static_cast<int64_t>(list.messages.size()),
                  list.messages.back().id);
  }
  w.EndObject();
  return Json(200, w.Take());
}

}  // namespace

ApiResponse HandleMessages(const Options& options, VolumeManager& volumes, ApiRequest& req,
                           const std::vector<std::string>& rest) {
  if (!req.version.AtLeast(3, 3)) return Fault(404, "The resource could not be found.");
  const std::string& m = req.method;
  if (rest.empty()) return m == "GET" ? List(options, volumes, req) : Fault(405, "The method is not allowed.");
  if (rest.size() != 1) return Fault(404, "The resource could not be found.");
  if (m == "GET") {
    auto msg = volumes.GetMessage(req.ctx, rest[0]);
    if (!msg.ok()) return FaultFrom(msg.status());
    JsonWriter w;
    w.BeginObject().Key("message");
    WriteMessage(w, LinkPrefixes(req, "messages"), *msg);
    w.EndObject();
    return Json(200, w.Take());
  }
  if (m == "DELETE") {
    Status st = volumes.DeleteMessage(req.ctx, rest[0]);
    return st.ok() ? Json(204, "") : FaultFrom(st);
  }
  return Fault(405, "The method is not allowed.");
}

}  // namespace cinder::api

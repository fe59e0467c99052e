// JSON libraries side by side on the JSON work libcinder does (issue 10, point 3): the
// hand-written code of common/ (json.h's parser and DOM, json_writer.h's streaming writer)
// against RapidJSON, nlohmann-json, simdjson (parse only) and Poco JSON.
//
//   render   GET /v3/{p}/volumes/detail with 1,000 volumes (api/volumes.cc's view, as admin
//            at 3.70: 32 fields a volume with metadata, links and attachments)
//   create   a volume create body (metadata, scheduler hints) parsed and read into a struct
//   action   a ~200-byte action body (os-initialize_connection) parsed and read
//   rpc      a ~300-byte RPC message (version, method, context, args) parsed or written
//   caps     a capability report of 25 string keys (update_service_capabilities) parsed or
//            written
//
// Every candidate's result is checked against the hand-written code's before anything is
// timed: the same struct for a parse, the same JSON (member order included) for a write.
// Times are this thread's CPU time per operation, median of the reps; the reps interleave
// all cases, so that load from other builds spreads over every candidate alike.
//
//   json_bench [--reps=N] [--ms=M] [--only=TASK/CANDIDATE] [--iters=N] [--conformance]
//
// --only with --iters runs one case a fixed number of times inside RunBatch, for callgrind:
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*RunBatch*'
//       json_bench --only=render/rapidjson --iters=20
// (instructions per op = the run's Ir / 20). --conformance prints how each library treats
// the inputs on which JSON parsers differ (bad UTF-8, repeated keys, big numbers, depth).
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2  // x86-64's baseline: RapidJSON skips whitespace 16 bytes at a time
#endif

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSONString.h>
#include <nlohmann/json.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include "cinder/volume.h"
#include "common/json.h"
#include "common/json_writer.h"
#include "common/util.h"
#if __has_include("rpc/args.h")
#include "rpc/args.h"  // today's RPC arguments, compared while they exist
#define CINDER_BENCH_ARGS 1
#endif

// The name of the json.h parser's rows: run.sh builds with "value" when it takes
// common/json.{h,cc} from the working tree (simdjson read into json::Value).
#ifndef CINDER_BENCH_PARSER
#define CINDER_BENCH_PARSER "hand"
#endif

namespace cinder::bench {
namespace {

using Caps = std::map<std::string, std::string>;
using OrderedJson = nlohmann::ordered_json;  // nlohmann::json would sort the keys
namespace rj = rapidjson;
namespace sj = simdjson;

// RapidJSON flags that keep Cinder's error behaviour: bad UTF-8 is refused, and nesting
// costs heap, not stack (the library has no depth limit of its own).
constexpr unsigned kRjFlags = rj::kParseValidateEncodingFlag | rj::kParseIterativeFlag;

// ---- inputs ----------------------------------------------------------------------------------

constexpr char kHostUrl[] = "http://127.0.0.1:8776";
constexpr char kProject[] = "89afd400b6464bbcb12bc0a4d63e5bd3";

std::string Uuid(uint32_t seed, uint32_t salt) {
  char buf[40];
  const uint64_t tail = uint64_t{seed} * uint64_t{0x9e3779b97f4a} & uint64_t{0xffffffffffff};
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012" PRIx64, seed * 2654435761u ^ salt, (seed >> 3) & 0xffff,
                salt & 0xfff, seed & 0xfff, tail);
  return buf;
}

std::vector<Volume> MakeVolumes(int n) {
  std::vector<Volume> vols(n);
  for (int i = 0; i < n; ++i) {
    Volume& v = vols[i];
    v.id = Uuid(i, 1);
    v.has_name = i % 10 != 0;
    v.name = v.has_name ? "vol-" + std::to_string(i) : "";
    v.has_description = i % 3 != 0;
    v.description = v.has_description ? "Volume " + std::to_string(i) + " of the \"orders\" database\nreplica 2" : "";
    v.size = 1 + i % 100;
    v.status = i % 25 == 0  ? volume_status::kCreating
               : i % 4 == 0 ? volume_status::kInUse
                            : volume_status::kAvailable;
    if (i % 50 == 0) v.migration_status = "success";
    v.availability_zone = "nova";
    v.host = i % 25 == 0 ? "" : "compute-" + std::to_string(i % 8) + "@lvm#lvm";
    v.project_id = kProject;
    v.user_id = "c853ca26e8ea47978a52ee124a013d0e";
    v.volume_type_id = i % 2 ? "5fed9d7c-401d-46e2-8e80-f30c70cb7e1d" : "0f3a2b9c-6d1e-4a7f-9b2c-3d4e5f607182";
    v.volume_type_name = i % 2 ? "__DEFAULT__" : "lvm-thin";
    if (i % 7 == 0) v.snapshot_id = Uuid(i, 2);
    if (i % 11 == 0) v.source_volid = Uuid(i, 3);
    v.bootable = i % 4 == 0;
    if (i % 2 == 0) {
      v.metadata = {{"owner", "team-" + std::to_string(i % 5)}, {"purpose", "database"}, {"env", "production"}};
    }
    v.created_at = "2024-01-02T03:04:05.123456";
    if (i % 5) v.updated_at = "2024-01-03T10:11:12.654321";
  }
  return vols;
}

// What the view needs besides the volumes (api/common.cc's LinkPrefixes and NextLink).
struct ViewContext {
  std::string self = std::string(kHostUrl) + "/v3/" + kProject + "/volumes/";
  std::string bookmark = std::string(kHostUrl) + "/" + kProject + "/volumes/";
  std::string next;  // the next page's href: the page is full (1,000 = osapi_max_limit)
};

const char kCreateBody[] =
    R"({"volume": {"size": 10, "availability_zone": "nova", "source_volid": null, )"
    R"("description": "Database volume for the \"orders\" service", "multiattach": false, )"
    R"("snapshot_id": null, "name": "db-orders-01", "volume_type": "lvm-thin", "metadata": )"
    R"({"owner": "team-a", "purpose": "database", "env": "production", "backup": "daily", )"
    R"("tier": "gold"}, "consistencygroup_id": null}, "OS-SCH-HNT:scheduler_hints": {"same_host": )"
    R"(["a0cf03a5-d921-4877-bb5c-86d26cf818e1", "8c19174f-4220-44f0-824a-cd1eeef10287"], )"
    R"("query": "[\">=\", \"$free_capacity_gb\", 100]"}})";

const char kActionBody[] =
    R"({"os-initialize_connection": {"connector": {"ip": "192.168.1.10", "host": "compute-1", )"
    R"("initiator": "iqn.1993-08.org.debian:01:cafe1234beef", "multipath": false, )"
    R"("platform": "x86_64", "os_type": "linux2"}}})";

// ---- what a parse yields, the same for every candidate ---------------------------------------

struct CreateReq {
  int64_t size = 0;
  std::optional<std::string> name, description, volume_type, availability_zone, snapshot_id, source_volid;
  bool multiattach = false;
  Metadata metadata;
  std::vector<std::string> same_host;
  std::optional<std::string> query;
  int keys = 0;  // members of "volume", as the allowed-keys check walks them
  bool operator==(const CreateReq&) const = default;
};

struct ActionReq {
  std::string action;
  Caps connector;  // its string members
  bool multipath = true;
  bool operator==(const ActionReq&) const = default;
};

struct RpcMessage {
  std::string version, method;
  std::string user_id, project_id, request_id;
  std::vector<std::string> roles;
  bool is_admin = false;
  std::string id;
  int64_t new_size = 0;
  std::string reservations;
  bool operator==(const RpcMessage&) const = default;
};

RpcMessage MakeRpcMessage() {
  RpcMessage m;
  m.version = "3.0";
  m.method = "extend_volume";
  m.user_id = "c853ca26e8ea47978a52ee124a013d0e";
  m.project_id = kProject;
  m.request_id = "req-5f8a3c2e-7b1d-4e9a-b6c0-2d4f8e1a3b5c";
  m.roles = {"member", "reader"};
  m.id = "cb49b381-9012-40cb-b8ee-80c19a4801b5";
  m.new_size = 20;
  m.reservations = "9d2e4f6a-1b3c-4d5e-8f70-a1b2c3d4e5f6";
  return m;
}

Caps MakeCaps() {
  return {
      {"pool_name", "lvm"}, {"total_capacity_gb", "1024.0"}, {"free_capacity_gb", "779.59"},
      {"provisioned_capacity_gb", "312.0"}, {"allocated_capacity_gb", "245"}, {"total_volumes", "118"},
      {"thin_provisioning_support", "True"}, {"thick_provisioning_support", "False"},
      {"reserved_percentage", "0"}, {"max_over_subscription_ratio", "20.0"},
      {"volume_backend_name", "lvm"}, {"vendor_name", "Open Source"}, {"driver_version", "3.0.0"},
      {"storage_protocol", "iSCSI"}, {"QoS_support", "False"}, {"multiattach", "True"},
      {"filter_function", "None"}, {"goodness_function", "None"},
      {"timestamp", "2024-01-02T03:04:05.123456"}, {"location_info", "LVMVolumeDriver:compute-1:cinder-volumes:thin:0"},
      {"backend_state", "up"}, {"sparse_copy_volume", "True"}, {"online_extend_support", "True"},
      {"replication_enabled", "False"}, {"consistent_group_snapshot_enabled", "False"},
  };
}

// Which member of "volume" a key is; the dispatch every candidate shares.
enum class Field { kOther, kSize, kName, kDescription, kType, kZone, kSnapshot, kSource, kMultiattach, kMetadata };
Field CreateField(std::string_view k) {
  if (k == "size") return Field::kSize;
  if (k == "name" || k == "display_name") return Field::kName;
  if (k == "description" || k == "display_description") return Field::kDescription;
  if (k == "volume_type") return Field::kType;
  if (k == "availability_zone") return Field::kZone;
  if (k == "snapshot_id") return Field::kSnapshot;
  if (k == "source_volid") return Field::kSource;
  if (k == "multiattach") return Field::kMultiattach;
  if (k == "metadata") return Field::kMetadata;
  return Field::kOther;
}
std::optional<std::string>* StringSlot(CreateReq* r, Field f) {
  switch (f) {
    case Field::kName: return &r->name;
    case Field::kDescription: return &r->description;
    case Field::kType: return &r->volume_type;
    case Field::kZone: return &r->availability_zone;
    case Field::kSnapshot: return &r->snapshot_id;
    case Field::kSource: return &r->source_volid;
    default: return nullptr;
  }
}
constexpr std::string_view kHintsKey = "OS-SCH-HNT:scheduler_hints";

// ---- hand-written: json_writer.h (the views) and json.h (RPC, hints, capabilities) -----------

// api/volumes.cc's WriteDetail, as admin at 3.70 with the os-vol-* extensions.
void HandDetail(JsonWriter& w, const ViewContext& ctx, const Volume& v) {
  w.BeginObject();
  w.Key("id").String(v.id);
  w.Key("status").String(v.status);
  w.Key("size").Int(v.size);
  w.Key("availability_zone").String(v.availability_zone);
  w.Key("created_at").String(v.created_at);
  w.Key("updated_at").OptString(v.updated_at);
  w.Key("name");
  v.has_name ? w.String(v.name) : w.Null();
  w.Key("description");
  v.has_description ? w.String(v.description) : w.Null();
  w.Key("volume_type");
  v.volume_type_name.empty() ? w.Null() : w.String(v.volume_type_name);
  w.Key("snapshot_id").OptString(v.snapshot_id);
  w.Key("source_volid").OptString(v.source_volid);
  w.Key("metadata").BeginObject();
  for (const auto& [k, val] : v.metadata) w.Key(k).String(val);
  w.EndObject();
  w.Key("links").BeginArray();
  w.BeginObject().Key("rel").String("self").Key("href").String(ctx.self + v.id).EndObject();
  w.BeginObject().Key("rel").String("bookmark").Key("href").String(ctx.bookmark + v.id).EndObject();
  w.EndArray();
  w.Key("user_id").String(v.user_id);
  w.Key("bootable").String(v.bootable ? "true" : "false");
  w.Key("encrypted").Bool(false);
  w.Key("replication_status");
  v.status == volume_status::kCreating ? w.Null() : w.String("disabled");
  w.Key("consistencygroup_id").Null();
  w.Key("multiattach").Bool(v.multiattach);
  w.Key("attachments").BeginArray().EndArray();
  w.Key("migration_status").OptString(v.migration_status);
  w.Key("group_id").Null();
  w.Key("provider_id").Null();
  w.Key("shared_targets").Null();
  w.Key("service_uuid").Null();
  w.Key("cluster_name").Null();
  w.Key("volume_type_id");
  v.volume_type_id.empty() ? w.Null() : w.String(v.volume_type_id);
  w.Key("consumes_quota").Bool(true);
  w.Key("os-vol-tenant-attr:tenant_id").String(v.project_id);
  w.Key("os-vol-host-attr:host");
  v.host.empty() ? w.Null() : w.String(v.host);
  w.Key("os-vol-mig-status-attr:migstat").OptString(v.migration_status);
  w.Key("os-vol-mig-status-attr:name_id").Null();
  w.EndObject();
}

std::string HandRender(const std::vector<Volume>& vols, const ViewContext& ctx) {
  JsonWriter w;
  w.Reserve(256 + vols.size() * 1536);  // as api/volumes.cc's List
  w.BeginObject().Key("volumes").BeginArray();
  for (const auto& v : vols) HandDetail(w, ctx, v);
  w.EndArray();
  w.Key("volumes_links").BeginArray().BeginObject();
  w.Key("rel").String("next").Key("href").String(ctx.next);
  w.EndObject().EndArray();
  w.EndObject();
  return w.Take();
}

json::Value HandOpt(const std::optional<std::string>& s) { return s ? json::Value(*s) : json::Value(); }

std::string HandDomRender(const std::vector<Volume>& vols, const ViewContext& ctx) {
  json::Value list = json::Value::MakeArray();
  for (const auto& v : vols) {
    json::Value o = json::Value::MakeObject();
    o.Set("id", v.id);
    o.Set("status", v.status);
    o.Set("size", v.size);
    o.Set("availability_zone", v.availability_zone);
    o.Set("created_at", v.created_at);
    o.Set("updated_at", HandOpt(v.updated_at));
    o.Set("name", v.has_name ? json::Value(v.name) : json::Value());
    o.Set("description", v.has_description ? json::Value(v.description) : json::Value());
    o.Set("volume_type", v.volume_type_name.empty() ? json::Value() : json::Value(v.volume_type_name));
    o.Set("snapshot_id", HandOpt(v.snapshot_id));
    o.Set("source_volid", HandOpt(v.source_volid));
    json::Value md = json::Value::MakeObject();
    for (const auto& [k, val] : v.metadata) md.Set(k, val);
    o.Set("metadata", std::move(md));
    json::Value links = json::Value::MakeArray();
    json::Value self = json::Value::MakeObject();
    self.Set("rel", "self");
    self.Set("href", ctx.self + v.id);
    json::Value bookmark = json::Value::MakeObject();
    bookmark.Set("rel", "bookmark");
    bookmark.Set("href", ctx.bookmark + v.id);
    links.Append(std::move(self));
    links.Append(std::move(bookmark));
    o.Set("links", std::move(links));
    o.Set("user_id", v.user_id);
    o.Set("bootable", v.bootable ? "true" : "false");
    o.Set("encrypted", false);
    o.Set("replication_status", v.status == volume_status::kCreating ? json::Value() : json::Value("disabled"));
    o.Set("consistencygroup_id", nullptr);
    o.Set("multiattach", v.multiattach);
    o.Set("attachments", json::Value::MakeArray());
    o.Set("migration_status", HandOpt(v.migration_status));
    o.Set("group_id", nullptr);
    o.Set("provider_id", nullptr);
    o.Set("shared_targets", nullptr);
    o.Set("service_uuid", nullptr);
    o.Set("cluster_name", nullptr);
    o.Set("volume_type_id", v.volume_type_id.empty() ? json::Value() : json::Value(v.volume_type_id));
    o.Set("consumes_quota", true);
    o.Set("os-vol-tenant-attr:tenant_id", v.project_id);
    o.Set("os-vol-host-attr:host", v.host.empty() ? json::Value() : json::Value(v.host));
    o.Set("os-vol-mig-status-attr:migstat", HandOpt(v.migration_status));
    o.Set("os-vol-mig-status-attr:name_id", nullptr);
    list.Append(std::move(o));
  }
  json::Value next = json::Value::MakeObject();
  next.Set("rel", "next");
  next.Set("href", ctx.next);
  json::Value links = json::Value::MakeArray();
  links.Append(std::move(next));
  json::Value body = json::Value::MakeObject();
  body.Set("volumes", std::move(list));
  body.Set("volumes_links", std::move(links));
  return json::Serialize(body);
}

// null or a string into *out; false for anything else.
bool HandOptString(const json::Value& v, std::optional<std::string>* out) {
  if (v.is_null()) return out->reset(), true;
  if (!v.is_string()) return false;
  *out = v.as_string();
  return true;
}

bool HandCreate(std::string_view body, CreateReq* r) {
  auto doc = json::Parse(body);
  if (!doc.ok() || !doc->is_object()) return false;
  const json::Value* vol = doc->Find("volume");
  if (!vol || !vol->is_object()) return false;
  for (const auto& [k, v] : vol->as_object()) {
    ++r->keys;
    const Field f = CreateField(k);
    if (auto* slot = StringSlot(r, f)) {
      if (!HandOptString(v, slot)) return false;
    } else if (f == Field::kSize) {
      if (!v.is_int()) return false;
      r->size = v.as_int();
    } else if (f == Field::kMultiattach) {
      if (!v.is_null() && !v.is_bool()) return false;
      r->multiattach = v.as_bool();
    } else if (f == Field::kMetadata) {
      if (!v.is_object()) return false;
      for (const auto& [mk, mv] : v.as_object()) {
        if (!mv.is_string()) return false;
        r->metadata[mk] = mv.as_string();
      }
    }
  }
  if (const json::Value* hints = doc->Find(kHintsKey)) {
    if (!hints->is_object()) return false;
    if (const json::Value* same = hints->Find("same_host")) {
      for (const auto& id : same->as_array()) {
        if (!id.is_string()) return false;
        r->same_host.push_back(id.as_string());
      }
    }
    if (const json::Value* q = hints->Find("query")) {
      if (!HandOptString(*q, &r->query)) return false;
    }
  }
  return true;
}

bool HandAction(std::string_view body, ActionReq* r) {
  auto doc = json::Parse(body);
  if (!doc.ok() || doc->size() != 1 || !doc->is_object()) return false;
  const auto& [action, arg] = doc->as_object()[0];
  r->action = action;
  const json::Value* conn = arg.Find("connector");
  if (!conn || !conn->is_object()) return false;
  for (const auto& [k, v] : conn->as_object()) {
    if (v.is_string()) {
      r->connector[k] = v.as_string();
    } else if (k == "multipath" && v.is_bool()) {
      r->multipath = v.as_bool();
    } else {
      return false;
    }
  }
  return true;
}

bool HandRpcParse(std::string_view text, RpcMessage* m) {
  auto doc = json::Parse(text);
  if (!doc.ok() || !doc->is_object()) return false;
  auto str = [](const json::Value* o, std::string_view key, std::string* out) {
    const json::Value* v = o->Find(key);
    if (!v || !v->is_string()) return false;
    *out = v->as_string();
    return true;
  };
  const json::Value* ctx = doc->Find("context");
  const json::Value* args = doc->Find("args");
  if (!ctx || !args || !str(&*doc, "version", &m->version) || !str(&*doc, "method", &m->method) ||
      !str(ctx, "user_id", &m->user_id) || !str(ctx, "project_id", &m->project_id) ||
      !str(ctx, "request_id", &m->request_id) || !str(args, "id", &m->id) ||
      !str(args, "reservations", &m->reservations)) {
    return false;
  }
  const json::Value* roles = ctx->Find("roles");
  const json::Value* admin = ctx->Find("is_admin");
  const json::Value* size = args->Find("new_size");
  if (!roles || !admin || !admin->is_bool() || !size || !size->is_int()) return false;
  for (const auto& r : roles->as_array()) {
    if (!r.is_string()) return false;
    m->roles.push_back(r.as_string());
  }
  m->is_admin = admin->as_bool();
  m->new_size = size->as_int();
  return true;
}

std::string HandDomRpcWrite(const RpcMessage& m) {
  json::Value ctx = json::Value::MakeObject();
  ctx.Set("user_id", m.user_id);
  ctx.Set("project_id", m.project_id);
  json::Value roles = json::Value::MakeArray();
  for (const auto& r : m.roles) roles.Append(r);
  ctx.Set("roles", std::move(roles));
  ctx.Set("is_admin", m.is_admin);
  ctx.Set("request_id", m.request_id);
  json::Value args = json::Value::MakeObject();
  args.Set("id", m.id);
  args.Set("new_size", m.new_size);
  args.Set("reservations", m.reservations);
  json::Value msg = json::Value::MakeObject();
  msg.Set("version", m.version);
  msg.Set("method", m.method);
  msg.Set("context", std::move(ctx));
  msg.Set("args", std::move(args));
  return json::Serialize(msg);
}

std::string HandRpcWrite(const RpcMessage& m) {
  JsonWriter w;
  w.BeginObject();
  w.Key("version").String(m.version);
  w.Key("method").String(m.method);
  w.Key("context").BeginObject();
  w.Key("user_id").String(m.user_id);
  w.Key("project_id").String(m.project_id);
  w.Key("roles").BeginArray();
  for (const auto& r : m.roles) w.String(r);
  w.EndArray();
  w.Key("is_admin").Bool(m.is_admin);
  w.Key("request_id").String(m.request_id);
  w.EndObject();
  w.Key("args").BeginObject();
  w.Key("id").String(m.id);
  w.Key("new_size").Int(m.new_size);
  w.Key("reservations").String(m.reservations);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

// scheduler_service.cc's DecodeCapabilities, refusing what is not an object of strings.
bool HandCapsParse(std::string_view text, Caps* caps) {
  auto doc = json::Parse(text);
  if (!doc.ok() || !doc->is_object()) return false;
  for (const auto& [k, v] : doc->as_object()) {
    if (!v.is_string()) return false;
    (*caps)[k] = v.as_string();
  }
  return true;
}

// volume_service.cc's ReportCapabilities.
std::string HandDomCapsWrite(const Caps& caps) {
  json::Value o = json::Value::MakeObject();
  for (const auto& [k, v] : caps) o.Set(k, json::Value(v));
  return json::Serialize(o);
}

std::string HandCapsWrite(const Caps& caps) {
  JsonWriter w;
  w.BeginObject();
  for (const auto& [k, v] : caps) w.Key(k).String(v);
  w.EndObject();
  return w.Take();
}

#ifdef CINDER_BENCH_ARGS
// Today's RPC arguments (rpc/args.h, "key=value" lines), the message flattened.
std::string ArgsRpcWrite(const RpcMessage& m) {
  return rpc::Args()
      .Set("version", m.version)
      .Set("method", m.method)
      .Set("ctx.user_id", m.user_id)
      .Set("ctx.project_id", m.project_id)
      .Set("ctx.roles", Join(m.roles, ","))
      .Set("ctx.is_admin", int64_t{m.is_admin})
      .Set("ctx.request_id", m.request_id)
      .Set("id", m.id)
      .Set("new_size", m.new_size)
      .Set("reservations", m.reservations)
      .Encode();
}

bool ArgsRpcParse(std::string_view text, RpcMessage* m) {
  auto args = rpc::Args::Decode(std::string(text));
  if (!args.ok()) return false;
  auto get = [&](const char* key, std::string* out) {
    auto v = args->Str(key);
    if (!v.ok()) return false;
    *out = std::move(*v);
    return true;
  };
  std::string roles;
  auto admin = args->Int("ctx.is_admin");
  auto size = args->Int("new_size");
  if (!get("version", &m->version) || !get("method", &m->method) || !get("ctx.user_id", &m->user_id) ||
      !get("ctx.project_id", &m->project_id) || !get("ctx.roles", &roles) ||
      !get("ctx.request_id", &m->request_id) || !get("id", &m->id) || !get("reservations", &m->reservations) ||
      !admin.ok() || !size.ok()) {
    return false;
  }
  m->roles = Split(roles, ',');
  m->is_admin = *admin != 0;
  m->new_size = *size;
  return true;
}
#endif  // CINDER_BENCH_ARGS

// ---- RapidJSON -------------------------------------------------------------------------------

// RapidJSON's Writer with Python's separators (", " and ": "), the bytes json_writer.h and
// Cinder write; built as the library's own PrettyWriter is.
template <typename OutputStream>
class PyWriter : public rj::Writer<OutputStream> {
 public:
  using Base = rj::Writer<OutputStream>;
  explicit PyWriter(OutputStream& os) : Base(os) {}

  bool Null() { return Prefix(), Base::WriteNull(); }
  bool Bool(bool b) { return Prefix(), Base::WriteBool(b); }
  bool Int64(int64_t i) { return Prefix(), Base::WriteInt64(i); }
  bool String(const char* s, rj::SizeType n, bool = false) { return Prefix(), Base::WriteString(s, n); }
  bool Key(const char* s, rj::SizeType n, bool = false) { return String(s, n); }
  bool StartObject() {
    Prefix();
    new (Base::level_stack_.template Push<typename Base::Level>()) typename Base::Level(false);
    return Base::WriteStartObject();
  }
  bool EndObject(rj::SizeType = 0) {
    Base::level_stack_.template Pop<typename Base::Level>(1);
    return Base::WriteEndObject();
  }
  bool StartArray() {
    Prefix();
    new (Base::level_stack_.template Push<typename Base::Level>()) typename Base::Level(true);
    return Base::WriteStartArray();
  }
  bool EndArray(rj::SizeType = 0) {
    Base::level_stack_.template Pop<typename Base::Level>(1);
    return Base::WriteEndArray();
  }

 private:
  void Prefix() {
    if (Base::level_stack_.Empty()) {
      Base::hasRoot_ = true;
      return;
    }
    auto* level = Base::level_stack_.template Top<typename Base::Level>();
    if (level->valueCount > 0) {
      rj::PutReserve(*Base::os_, 2);
      rj::PutUnsafe(*Base::os_, level->inArray || level->valueCount % 2 == 0 ? ',' : ':');
      rj::PutUnsafe(*Base::os_, ' ');
    }
    ++level->valueCount;
  }
};

template <typename W, size_t N>
void RjKey(W& w, const char (&k)[N]) {
  w.Key(k, N - 1);
}
template <typename W, size_t N>
void RjLit(W& w, const char (&s)[N]) {
  w.String(s, N - 1);
}
template <typename W>
void RjStr(W& w, const std::string& s) {
  w.String(s.data(), static_cast<rj::SizeType>(s.size()));
}
template <typename W>
void RjOpt(W& w, const std::optional<std::string>& s) {
  s ? RjStr(w, *s) : (void)w.Null();
}

template <typename W>
void RjDetail(W& w, const ViewContext& ctx, const Volume& v, std::string& scratch) {
  w.StartObject();
  RjKey(w, "id"), RjStr(w, v.id);
  RjKey(w, "status"), RjStr(w, v.status);
  RjKey(w, "size"), w.Int64(v.size);
  RjKey(w, "availability_zone"), RjStr(w, v.availability_zone);
  RjKey(w, "created_at"), RjStr(w, v.created_at);
  RjKey(w, "updated_at"), RjOpt(w, v.updated_at);
  RjKey(w, "name"), v.has_name ? RjStr(w, v.name) : (void)w.Null();
  RjKey(w, "description"), v.has_description ? RjStr(w, v.description) : (void)w.Null();
  RjKey(w, "volume_type"), v.volume_type_name.empty() ? (void)w.Null() : RjStr(w, v.volume_type_name);
  RjKey(w, "snapshot_id"), RjOpt(w, v.snapshot_id);
  RjKey(w, "source_volid"), RjOpt(w, v.source_volid);
  RjKey(w, "metadata"), w.StartObject();
  for (const auto& [k, val] : v.metadata) {
    w.Key(k.data(), static_cast<rj::SizeType>(k.size()));
    RjStr(w, val);
  }
  w.EndObject();
  RjKey(w, "links"), w.StartArray();
  w.StartObject();
  RjKey(w, "rel"), RjLit(w, "self");
  scratch.assign(ctx.self).append(v.id);
  RjKey(w, "href"), RjStr(w, scratch);
  w.EndObject();
  w.StartObject();
  RjKey(w, "rel"), RjLit(w, "bookmark");
  scratch.assign(ctx.bookmark).append(v.id);
  RjKey(w, "href"), RjStr(w, scratch);
  w.EndObject();
  w.EndArray();
  RjKey(w, "user_id"), RjStr(w, v.user_id);
  RjKey(w, "bootable"), v.bootable ? RjLit(w, "true") : RjLit(w, "false");
  RjKey(w, "encrypted"), w.Bool(false);
  RjKey(w, "replication_status"), v.status == volume_status::kCreating ? (void)w.Null() : RjLit(w, "disabled");
  RjKey(w, "consistencygroup_id"), w.Null();
  RjKey(w, "multiattach"), w.Bool(v.multiattach);
  RjKey(w, "attachments"), w.StartArray(), w.EndArray();
  RjKey(w, "migration_status"), RjOpt(w, v.migration_status);
  RjKey(w, "group_id"), w.Null();
  RjKey(w, "provider_id"), w.Null();
  RjKey(w, "shared_targets"), w.Null();
  RjKey(w, "service_uuid"), w.Null();
  RjKey(w, "cluster_name"), w.Null();
  RjKey(w, "volume_type_id"), v.volume_type_id.empty() ? (void)w.Null() : RjStr(w, v.volume_type_id);
  RjKey(w, "consumes_quota"), w.Bool(true);
  RjKey(w, "os-vol-tenant-attr:tenant_id"), RjStr(w, v.project_id);
  RjKey(w, "os-vol-host-attr:host"), v.host.empty() ? (void)w.Null() : RjStr(w, v.host);
  RjKey(w, "os-vol-mig-status-attr:migstat"), RjOpt(w, v.migration_status);
  RjKey(w, "os-vol-mig-status-attr:name_id"), w.Null();
  w.EndObject();
}

template <template <typename> class W>
std::string RjRender(const std::vector<Volume>& vols, const ViewContext& ctx) {
  rj::StringBuffer buf;
  buf.Reserve(256 + vols.size() * 1536);
  W<rj::StringBuffer> w(buf);
  std::string scratch;
  w.StartObject();
  RjKey(w, "volumes"), w.StartArray();
  for (const auto& v : vols) RjDetail(w, ctx, v, scratch);
  w.EndArray();
  RjKey(w, "volumes_links"), w.StartArray(), w.StartObject();
  RjKey(w, "rel"), RjLit(w, "next");
  RjKey(w, "href"), RjStr(w, ctx.next);
  w.EndObject(), w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}
template <typename OS>
using RjWriter = rj::Writer<OS>;

// True when `s` is well-formed UTF-8 with no NUL byte: what kParseValidateEncodingFlag
// checks (at about twice the cost of the parse), done a word at a time over ASCII. The NUL
// check lets the parse read the text as a C string, RapidJSON's fastest input stream.
bool Utf8WithoutNul(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  constexpr uint64_t kLow = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  while (p < end) {
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (((w - kLow) & ~w & kHigh) == 0 && (w & kHigh) == 0) {  // no zero byte, all ASCII
        p += 8;
        continue;
      }
    }
    const unsigned char c = *p;
    if (c == 0) return false;
    if (c < 0x80) {
      ++p;
      continue;
    }
    // Unicode's table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF.
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < n || p[1] < lo || p[1] > hi) return false;
    for (size_t i = 2; i < n; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    }
    p += n;
  }
  return true;
}

// How RapidJSON reads a body. kLibrary: its own UTF-8 validation (kParseValidateEncodingFlag)
// on the text and length. kPrecheck: Utf8WithoutNul first, then the text as a C string.
enum class RjMode { kLibrary, kPrecheck };

template <RjMode kMode>
bool RjParse(const std::string& text, rj::Document* doc) {
  if constexpr (kMode == RjMode::kLibrary) {
    doc->Parse<kRjFlags>(text.data(), text.size());
  } else {
    if (!Utf8WithoutNul(text)) return false;
    doc->Parse<rj::kParseIterativeFlag>(text.c_str());
  }
  return !doc->HasParseError();
}

std::string RjString(const rj::Value& v) { return std::string(v.GetString(), v.GetStringLength()); }
bool RjOptString(const rj::Value& v, std::optional<std::string>* out) {
  if (v.IsNull()) return out->reset(), true;
  if (!v.IsString()) return false;
  *out = RjString(v);
  return true;
}

template <RjMode kMode>
bool RjCreate(const std::string& body, CreateReq* r) {
  rj::Document doc;
  if (!RjParse<kMode>(body, &doc) || !doc.IsObject()) return false;
  auto vol = doc.FindMember("volume");
  if (vol == doc.MemberEnd() || !vol->value.IsObject()) return false;
  for (const auto& m : vol->value.GetObject()) {
    ++r->keys;
    const Field f = CreateField(std::string_view(m.name.GetString(), m.name.GetStringLength()));
    const rj::Value& v = m.value;
    if (auto* slot = StringSlot(r, f)) {
      if (!RjOptString(v, slot)) return false;
    } else if (f == Field::kSize) {
      if (!v.IsInt64()) return false;
      r->size = v.GetInt64();
    } else if (f == Field::kMultiattach) {
      if (!v.IsNull() && !v.IsBool()) return false;
      r->multiattach = v.IsBool() && v.GetBool();
    } else if (f == Field::kMetadata) {
      if (!v.IsObject()) return false;
      for (const auto& md : v.GetObject()) {
        if (!md.value.IsString()) return false;
        r->metadata[RjString(md.name)] = RjString(md.value);
      }
    }
  }
  auto hints = doc.FindMember(rj::StringRef(kHintsKey.data(), kHintsKey.size()));
  if (hints != doc.MemberEnd()) {
    if (!hints->value.IsObject()) return false;
    auto same = hints->value.FindMember("same_host");
    if (same != hints->value.MemberEnd() && same->value.IsArray()) {
      for (const auto& id : same->value.GetArray()) {
        if (!id.IsString()) return false;
        r->same_host.push_back(RjString(id));
      }
    }
    auto q = hints->value.FindMember("query");
    if (q != hints->value.MemberEnd() && !RjOptString(q->value, &r->query)) return false;
  }
  return true;
}

template <RjMode kMode>
bool RjAction(const std::string& body, ActionReq* r) {
  rj::Document doc;
  if (!RjParse<kMode>(body, &doc) || !doc.IsObject() || doc.MemberCount() != 1) return false;
  const auto& m = *doc.MemberBegin();
  r->action = RjString(m.name);
  if (!m.value.IsObject()) return false;
  auto conn = m.value.FindMember("connector");
  if (conn == m.value.MemberEnd() || !conn->value.IsObject()) return false;
  for (const auto& c : conn->value.GetObject()) {
    const std::string_view k(c.name.GetString(), c.name.GetStringLength());
    if (c.value.IsString()) {
      r->connector[std::string(k)] = RjString(c.value);
    } else if (k == "multipath" && c.value.IsBool()) {
      r->multipath = c.value.GetBool();
    } else {
      return false;
    }
  }
  return true;
}

template <RjMode kMode>
bool RjRpcParse(const std::string& text, RpcMessage* m) {
  rj::Document doc;
  if (!RjParse<kMode>(text, &doc) || !doc.IsObject()) return false;
  auto str = [](const rj::Value& o, const char* key, std::string* out) {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsString()) return false;
    *out = RjString(it->value);
    return true;
  };
  auto ctx = doc.FindMember("context");
  auto args = doc.FindMember("args");
  if (ctx == doc.MemberEnd() || args == doc.MemberEnd() || !ctx->value.IsObject() || !args->value.IsObject()) {
    return false;
  }
  const rj::Value& c = ctx->value;
  const rj::Value& a = args->value;
  if (!str(doc, "version", &m->version) || !str(doc, "method", &m->method) || !str(c, "user_id", &m->user_id) ||
      !str(c, "project_id", &m->project_id) || !str(c, "request_id", &m->request_id) || !str(a, "id", &m->id) ||
      !str(a, "reservations", &m->reservations)) {
    return false;
  }
  auto roles = c.FindMember("roles");
  auto admin = c.FindMember("is_admin");
  auto size = a.FindMember("new_size");
  if (roles == c.MemberEnd() || !roles->value.IsArray() || admin == c.MemberEnd() || !admin->value.IsBool() ||
      size == a.MemberEnd() || !size->value.IsInt64()) {
    return false;
  }
  for (const auto& r : roles->value.GetArray()) {
    if (!r.IsString()) return false;
    m->roles.push_back(RjString(r));
  }
  m->is_admin = admin->value.GetBool();
  m->new_size = size->value.GetInt64();
  return true;
}

std::string RjRpcWrite(const RpcMessage& m) {
  rj::StringBuffer buf;
  rj::Writer<rj::StringBuffer> w(buf);
  w.StartObject();
  RjKey(w, "version"), RjStr(w, m.version);
  RjKey(w, "method"), RjStr(w, m.method);
  RjKey(w, "context"), w.StartObject();
  RjKey(w, "user_id"), RjStr(w, m.user_id);
  RjKey(w, "project_id"), RjStr(w, m.project_id);
  RjKey(w, "roles"), w.StartArray();
  for (const auto& r : m.roles) RjStr(w, r);
  w.EndArray();
  RjKey(w, "is_admin"), w.Bool(m.is_admin);
  RjKey(w, "request_id"), RjStr(w, m.request_id);
  w.EndObject();
  RjKey(w, "args"), w.StartObject();
  RjKey(w, "id"), RjStr(w, m.id);
  RjKey(w, "new_size"), w.Int64(m.new_size);
  RjKey(w, "reservations"), RjStr(w, m.reservations);
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

template <RjMode kMode>
bool RjCapsParse(const std::string& text, Caps* caps) {
  rj::Document doc;
  if (!RjParse<kMode>(text, &doc) || !doc.IsObject()) return false;
  for (const auto& m : doc.GetObject()) {
    if (!m.value.IsString()) return false;
    (*caps)[RjString(m.name)] = RjString(m.value);
  }
  return true;
}

std::string RjCapsWrite(const Caps& caps) {
  rj::StringBuffer buf;
  rj::Writer<rj::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [k, v] : caps) {
    w.Key(k.data(), static_cast<rj::SizeType>(k.size()));
    RjStr(w, v);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// ---- nlohmann-json (ordered_json: members keep the order written) -----------------------------

OrderedJson NlOpt(const std::optional<std::string>& s) { return s ? OrderedJson(*s) : OrderedJson(nullptr); }

std::string NlRender(const std::vector<Volume>& vols, const ViewContext& ctx) {
  OrderedJson list = OrderedJson::array();
  for (const auto& v : vols) {
    OrderedJson o = OrderedJson::object();
    o["id"] = v.id;
    o["status"] = v.status;
    o["size"] = v.size;
    o["availability_zone"] = v.availability_zone;
    o["created_at"] = v.created_at;
    o["updated_at"] = NlOpt(v.updated_at);
    o["name"] = v.has_name ? OrderedJson(v.name) : OrderedJson(nullptr);
    o["description"] = v.has_description ? OrderedJson(v.description) : OrderedJson(nullptr);
    o["volume_type"] = v.volume_type_name.empty() ? OrderedJson(nullptr) : OrderedJson(v.volume_type_name);
    o["snapshot_id"] = NlOpt(v.snapshot_id);
    o["source_volid"] = NlOpt(v.source_volid);
    OrderedJson& md = o["metadata"] = OrderedJson::object();
    for (const auto& [k, val] : v.metadata) md[k] = val;
    o["links"] = OrderedJson::array({{{"rel", "self"}, {"href", ctx.self + v.id}},
                                     {{"rel", "bookmark"}, {"href", ctx.bookmark + v.id}}});
    o["user_id"] = v.user_id;
    o["bootable"] = v.bootable ? "true" : "false";
    o["encrypted"] = false;
    o["replication_status"] = v.status == volume_status::kCreating ? OrderedJson(nullptr) : OrderedJson("disabled");
    o["consistencygroup_id"] = nullptr;
    o["multiattach"] = v.multiattach;
    o["attachments"] = OrderedJson::array();
    o["migration_status"] = NlOpt(v.migration_status);
    o["group_id"] = nullptr;
    o["provider_id"] = nullptr;
    o["shared_targets"] = nullptr;
    o["service_uuid"] = nullptr;
    o["cluster_name"] = nullptr;
    o["volume_type_id"] = v.volume_type_id.empty() ? OrderedJson(nullptr) : OrderedJson(v.volume_type_id);
    o["consumes_quota"] = true;
    o["os-vol-tenant-attr:tenant_id"] = v.project_id;
    o["os-vol-host-attr:host"] = v.host.empty() ? OrderedJson(nullptr) : OrderedJson(v.host);
    o["os-vol-mig-status-attr:migstat"] = NlOpt(v.migration_status);
    o["os-vol-mig-status-attr:name_id"] = nullptr;
    list.push_back(std::move(o));
  }
  OrderedJson body = OrderedJson::object();
  body["volumes"] = std::move(list);
  body["volumes_links"] = OrderedJson::array({{{"rel", "next"}, {"href", ctx.next}}});
  // replace: a byte that is not UTF-8 becomes U+FFFD instead of an exception (type_error.316).
  return body.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

bool NlOptString(const OrderedJson& v, std::optional<std::string>* out) {
  if (v.is_null()) return out->reset(), true;
  if (!v.is_string()) return false;
  *out = v.get_ref<const std::string&>();
  return true;
}

bool NlCreate(std::string_view body, CreateReq* r) {
  // No exceptions: a bad body yields a "discarded" value.
  OrderedJson doc = OrderedJson::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  auto vol = doc.find("volume");
  if (vol == doc.end() || !vol->is_object()) return false;
  for (const auto& [k, v] : vol->items()) {
    ++r->keys;
    const Field f = CreateField(k);
    if (auto* slot = StringSlot(r, f)) {
      if (!NlOptString(v, slot)) return false;
    } else if (f == Field::kSize) {
      if (!v.is_number_integer()) return false;
      r->size = v.get<int64_t>();
    } else if (f == Field::kMultiattach) {
      if (!v.is_null() && !v.is_boolean()) return false;
      r->multiattach = v.is_boolean() && v.get<bool>();
    } else if (f == Field::kMetadata) {
      if (!v.is_object()) return false;
      for (const auto& [mk, mv] : v.items()) {
        if (!mv.is_string()) return false;
        r->metadata[mk] = mv.get_ref<const std::string&>();
      }
    }
  }
  auto hints = doc.find(kHintsKey);
  if (hints != doc.end()) {
    if (!hints->is_object()) return false;
    auto same = hints->find("same_host");
    if (same != hints->end() && same->is_array()) {
      for (const auto& id : *same) {
        if (!id.is_string()) return false;
        r->same_host.push_back(id.get_ref<const std::string&>());
      }
    }
    auto q = hints->find("query");
    if (q != hints->end() && !NlOptString(*q, &r->query)) return false;
  }
  return true;
}

bool NlAction(std::string_view body, ActionReq* r) {
  OrderedJson doc = OrderedJson::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.size() != 1) return false;
  auto it = doc.begin();
  r->action = it.key();
  auto conn = it->find("connector");
  if (!it->is_object() || conn == it->end() || !conn->is_object()) return false;
  for (const auto& [k, v] : conn->items()) {
    if (v.is_string()) {
      r->connector[k] = v.get_ref<const std::string&>();
    } else if (k == "multipath" && v.is_boolean()) {
      r->multipath = v.get<bool>();
    } else {
      return false;
    }
  }
  return true;
}

bool NlRpcParse(std::string_view text, RpcMessage* m) {
  OrderedJson doc = OrderedJson::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  auto str = [](const OrderedJson& o, const char* key, std::string* out) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_string()) return false;
    *out = it->get_ref<const std::string&>();
    return true;
  };
  auto ctx = doc.find("context");
  auto args = doc.find("args");
  if (ctx == doc.end() || args == doc.end() || !ctx->is_object() || !args->is_object()) return false;
  if (!str(doc, "version", &m->version) || !str(doc, "method", &m->method) || !str(*ctx, "user_id", &m->user_id) ||
      !str(*ctx, "project_id", &m->project_id) || !str(*ctx, "request_id", &m->request_id) ||
      !str(*args, "id", &m->id) || !str(*args, "reservations", &m->reservations)) {
    return false;
  }
  auto roles = ctx->find("roles");
  auto admin = ctx->find("is_admin");
  auto size = args->find("new_size");
  if (roles == ctx->end() || !roles->is_array() || admin == ctx->end() || !admin->is_boolean() ||
      size == args->end() || !size->is_number_integer()) {
    return false;
  }
  for (const auto& r : *roles) {
    if (!r.is_string()) return false;
    m->roles.push_back(r.get_ref<const std::string&>());
  }
  m->is_admin = admin->get<bool>();
  m->new_size = size->get<int64_t>();
  return true;
}

std::string NlRpcWrite(const RpcMessage& m) {
  OrderedJson msg = OrderedJson::object();
  msg["version"] = m.version;
  msg["method"] = m.method;
  OrderedJson& ctx = msg["context"] = OrderedJson::object();
  ctx["user_id"] = m.user_id;
  ctx["project_id"] = m.project_id;
  ctx["roles"] = m.roles;
  ctx["is_admin"] = m.is_admin;
  ctx["request_id"] = m.request_id;
  OrderedJson& args = msg["args"] = OrderedJson::object();
  args["id"] = m.id;
  args["new_size"] = m.new_size;
  args["reservations"] = m.reservations;
  return msg.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

bool NlCapsParse(std::string_view text, Caps* caps) {
  OrderedJson doc = OrderedJson::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  for (const auto& [k, v] : doc.items()) {
    if (!v.is_string()) return false;
    (*caps)[k] = v.get_ref<const std::string&>();
  }
  return true;
}

std::string NlCapsWrite(const Caps& caps) {
  OrderedJson o = OrderedJson::object();
  for (const auto& [k, v] : caps) o[k] = v;
  return o.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

// ---- simdjson: DOM (validates the whole text) and On-Demand (validates what it reads) --------

bool SjOptString(sj::dom::element v, std::optional<std::string>* out) {
  if (v.is_null()) return out->reset(), true;
  std::string_view s;
  if (v.get_string().get(s)) return false;
  *out = std::string(s);
  return true;
}

// The parser is reused, as a service would keep one per thread: results point into it.
bool SjDomCreate(sj::dom::parser& p, const std::string& body, CreateReq* r) {
  sj::dom::element doc;
  sj::dom::object root, vol;
  if (p.parse(body).get(doc) || doc.get_object().get(root) || root["volume"].get_object().get(vol)) return false;
  for (auto [k, v] : vol) {
    ++r->keys;
    const Field f = CreateField(k);
    if (auto* slot = StringSlot(r, f)) {
      if (!SjOptString(v, slot)) return false;
    } else if (f == Field::kSize) {
      if (v.get_int64().get(r->size)) return false;
    } else if (f == Field::kMultiattach) {
      if (!v.is_null() && v.get_bool().get(r->multiattach)) return false;
    } else if (f == Field::kMetadata) {
      sj::dom::object md;
      if (v.get_object().get(md)) return false;
      for (auto [mk, mv] : md) {
        std::string_view s;
        if (mv.get_string().get(s)) return false;
        r->metadata[std::string(mk)] = std::string(s);
      }
    }
  }
  sj::dom::element hints;
  if (root[kHintsKey].get(hints) == sj::SUCCESS) {
    sj::dom::object h;
    if (hints.get_object().get(h)) return false;
    sj::dom::array same;
    if (h["same_host"].get_array().get(same) == sj::SUCCESS) {
      for (auto id : same) {
        std::string_view s;
        if (id.get_string().get(s)) return false;
        r->same_host.emplace_back(s);
      }
    }
    sj::dom::element q;
    if (h["query"].get(q) == sj::SUCCESS && !SjOptString(q, &r->query)) return false;
  }
  return true;
}

bool SjDomAction(sj::dom::parser& p, const std::string& body, ActionReq* r) {
  sj::dom::element doc;
  sj::dom::object root, conn;
  if (p.parse(body).get(doc) || doc.get_object().get(root) || root.size() != 1) return false;
  auto [action, arg] = *root.begin();
  r->action = std::string(action);
  if (arg["connector"].get_object().get(conn)) return false;
  for (auto [k, v] : conn) {
    std::string_view s;
    if (v.get_string().get(s) == sj::SUCCESS) {
      r->connector[std::string(k)] = std::string(s);
    } else if (k != "multipath" || v.get_bool().get(r->multipath)) {
      return false;
    }
  }
  return true;
}

bool SjDomRpcParse(sj::dom::parser& p, const std::string& text, RpcMessage* m) {
  sj::dom::element doc;
  sj::dom::object root, ctx, args;
  if (p.parse(text).get(doc) || doc.get_object().get(root) || root["context"].get_object().get(ctx) ||
      root["args"].get_object().get(args)) {
    return false;
  }
  auto str = [](sj::dom::object o, std::string_view key, std::string* out) {
    std::string_view s;
    if (o[key].get_string().get(s)) return false;
    *out = std::string(s);
    return true;
  };
  sj::dom::array roles;
  if (!str(root, "version", &m->version) || !str(root, "method", &m->method) || !str(ctx, "user_id", &m->user_id) ||
      !str(ctx, "project_id", &m->project_id) || !str(ctx, "request_id", &m->request_id) ||
      !str(args, "id", &m->id) || !str(args, "reservations", &m->reservations) ||
      ctx["roles"].get_array().get(roles) || ctx["is_admin"].get_bool().get(m->is_admin) ||
      args["new_size"].get_int64().get(m->new_size)) {
    return false;
  }
  for (auto r : roles) {
    std::string_view s;
    if (r.get_string().get(s)) return false;
    m->roles.emplace_back(s);
  }
  return true;
}

bool SjDomCapsParse(sj::dom::parser& p, const std::string& text, Caps* caps) {
  sj::dom::element doc;
  sj::dom::object root;
  if (p.parse(text).get(doc) || doc.get_object().get(root)) return false;
  for (auto [k, v] : root) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    (*caps)[std::string(k)] = std::string(s);
  }
  return true;
}

// On-Demand reads in document order: each object is walked once, its members dispatched.
// (simdjson 3.0 has no document::at_end(): what follows the root is the parser's to refuse;
// --conformance shows what it lets through.)
using SjValue = sj::ondemand::value;

bool SjOdOptString(SjValue v, std::optional<std::string>* out) {
  sj::ondemand::json_type t;
  if (v.type().get(t)) return false;
  if (t == sj::ondemand::json_type::null) return out->reset(), true;
  std::string_view s;
  if (v.get_string().get(s)) return false;
  *out = std::string(s);
  return true;
}

bool SjOdCreate(sj::ondemand::parser& p, const std::string& body, CreateReq* r) {
  sj::padded_string padded(body);  // the body as the HTTP layer hands it, copied with padding
  sj::ondemand::document doc;
  sj::ondemand::object root;
  if (p.iterate(padded).get(doc) || doc.get_object().get(root)) return false;
  for (auto member : root) {
    std::string_view key;
    SjValue val;
    if (member.unescaped_key().get(key) || member.value().get(val)) return false;
    if (key == "volume") {
      sj::ondemand::object vol;
      if (val.get_object().get(vol)) return false;
      for (auto m : vol) {
        std::string_view k;
        SjValue v;
        if (m.unescaped_key().get(k) || m.value().get(v)) return false;
        ++r->keys;
        const Field f = CreateField(k);
        if (auto* slot = StringSlot(r, f)) {
          if (!SjOdOptString(v, slot)) return false;
        } else if (f == Field::kSize) {
          if (v.get_int64().get(r->size)) return false;
        } else if (f == Field::kMultiattach) {
          sj::ondemand::json_type t;
          if (v.type().get(t) || (t != sj::ondemand::json_type::null && v.get_bool().get(r->multiattach))) {
            return false;
          }
        } else if (f == Field::kMetadata) {
          sj::ondemand::object md;
          if (v.get_object().get(md)) return false;
          for (auto e : md) {
            std::string_view mk, mv;
            if (e.unescaped_key().get(mk) || e.value().get_string().get(mv)) return false;
            r->metadata[std::string(mk)] = std::string(mv);
          }
        }
      }
    } else if (key == kHintsKey) {
      sj::ondemand::object h;
      if (val.get_object().get(h)) return false;
      for (auto m : h) {
        std::string_view k;
        SjValue v;
        if (m.unescaped_key().get(k) || m.value().get(v)) return false;
        if (k == "same_host") {
          sj::ondemand::array same;
          if (v.get_array().get(same)) return false;
          for (auto id : same) {
            std::string_view s;
            if (id.get_string().get(s)) return false;
            r->same_host.emplace_back(s);
          }
        } else if (k == "query") {
          if (!SjOdOptString(v, &r->query)) return false;
        }
      }
    }
  }
  return true;
}

bool SjOdAction(sj::ondemand::parser& p, const std::string& body, ActionReq* r) {
  sj::padded_string padded(body);
  sj::ondemand::document doc;
  sj::ondemand::object root;
  if (p.iterate(padded).get(doc) || doc.get_object().get(root)) return false;
  int actions = 0;
  for (auto member : root) {
    std::string_view key;
    sj::ondemand::object arg;
    if (++actions > 1 || member.unescaped_key().get(key) || member.value().get_object().get(arg)) return false;
    r->action = std::string(key);
    for (auto a : arg) {
      std::string_view k;
      sj::ondemand::object conn;
      if (a.unescaped_key().get(k)) return false;
      if (k != "connector") continue;
      if (a.value().get_object().get(conn)) return false;
      for (auto c : conn) {
        std::string_view ck;
        SjValue v;
        sj::ondemand::json_type t;
        if (c.unescaped_key().get(ck) || c.value().get(v) || v.type().get(t)) return false;
        if (t == sj::ondemand::json_type::string) {
          std::string_view s;
          if (v.get_string().get(s)) return false;
          r->connector[std::string(ck)] = std::string(s);
        } else if (ck != "multipath" || v.get_bool().get(r->multipath)) {
          return false;
        }
      }
    }
  }
  return actions == 1;
}

bool SjOdRpcParse(sj::ondemand::parser& p, const std::string& text, RpcMessage* m) {
  sj::padded_string padded(text);
  sj::ondemand::document doc;
  sj::ondemand::object root;
  if (p.iterate(padded).get(doc) || doc.get_object().get(root)) return false;
  auto str = [](SjValue v, std::string* out) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    *out = std::string(s);
    return true;
  };
  int seen = 0;
  for (auto member : root) {
    std::string_view key;
    SjValue val;
    if (member.unescaped_key().get(key) || member.value().get(val)) return false;
    if (key == "version") {
      if (!str(val, &m->version)) return false;
      seen |= 1;
    } else if (key == "method") {
      if (!str(val, &m->method)) return false;
      seen |= 2;
    } else if (key == "context") {
      sj::ondemand::object ctx;
      if (val.get_object().get(ctx)) return false;
      for (auto c : ctx) {
        std::string_view k;
        SjValue v;
        if (c.unescaped_key().get(k) || c.value().get(v)) return false;
        bool ok = true;
        if (k == "user_id") {
          ok = str(v, &m->user_id), seen |= 4;
        } else if (k == "project_id") {
          ok = str(v, &m->project_id), seen |= 8;
        } else if (k == "request_id") {
          ok = str(v, &m->request_id), seen |= 16;
        } else if (k == "is_admin") {
          ok = !v.get_bool().get(m->is_admin), seen |= 32;
        } else if (k == "roles") {
          sj::ondemand::array roles;
          if (v.get_array().get(roles)) return false;
          for (auto role : roles) {
            std::string_view s;
            if (role.get_string().get(s)) return false;
            m->roles.emplace_back(s);
          }
          seen |= 64;
        }
        if (!ok) return false;
      }
    } else if (key == "args") {
      sj::ondemand::object args;
      if (val.get_object().get(args)) return false;
      for (auto a : args) {
        std::string_view k;
        SjValue v;
        if (a.unescaped_key().get(k) || a.value().get(v)) return false;
        bool ok = true;
        if (k == "id") {
          ok = str(v, &m->id), seen |= 128;
        } else if (k == "new_size") {
          ok = !v.get_int64().get(m->new_size), seen |= 256;
        } else if (k == "reservations") {
          ok = str(v, &m->reservations), seen |= 512;
        }
        if (!ok) return false;
      }
    }
  }
  return seen == 1023;
}

bool SjOdCapsParse(sj::ondemand::parser& p, const std::string& text, Caps* caps) {
  sj::padded_string padded(text);
  sj::ondemand::document doc;
  sj::ondemand::object root;
  if (p.iterate(padded).get(doc) || doc.get_object().get(root)) return false;
  for (auto member : root) {
    std::string_view k, v;
    if (member.unescaped_key().get(k) || member.value().get_string().get(v)) return false;
    (*caps)[std::string(k)] = std::string(v);
  }
  return true;
}

// ---- Poco JSON, as api/common.cc uses it ------------------------------------------------------

using PocoObject = Poco::JSON::Object;
using PocoArray = Poco::JSON::Array;
using Poco::Dynamic::Var;

// api/common.cc's ParseBody: a fresh parser with an order-keeping handler per body.
PocoObject::Ptr PocoParse(std::string_view text) {
  try {
    Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(/*preserveObjectOrder=*/true));
    Var v = parser.parse(std::string(text));
    if (v.type() != typeid(PocoObject::Ptr)) return nullptr;
    return v.extract<PocoObject::Ptr>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

bool PocoOptString(const Var& v, std::optional<std::string>* out) {
  if (v.isEmpty()) return out->reset(), true;
  if (!v.isString()) return false;
  *out = v.extract<std::string>();
  return true;
}

bool PocoCreate(std::string_view body, CreateReq* r) {
  PocoObject::Ptr doc = PocoParse(body);
  if (!doc) return false;
  PocoObject::Ptr vol = doc->getObject("volume");
  if (!vol) return false;
  for (const auto& [k, v] : *vol) {
    ++r->keys;
    const Field f = CreateField(k);
    if (auto* slot = StringSlot(r, f)) {
      if (!PocoOptString(v, slot)) return false;
    } else if (f == Field::kSize) {
      if (!v.isInteger() || v.isBoolean()) return false;
      r->size = v.convert<Poco::Int64>();
    } else if (f == Field::kMultiattach) {
      if (!v.isEmpty() && !v.isBoolean()) return false;
      r->multiattach = !v.isEmpty() && v.convert<bool>();
    } else if (f == Field::kMetadata) {
      if (v.type() != typeid(PocoObject::Ptr)) return false;
      for (const auto& [mk, mv] : *v.extract<PocoObject::Ptr>()) {
        if (!mv.isString()) return false;
        r->metadata[mk] = mv.extract<std::string>();
      }
    }
  }
  if (doc->has(std::string(kHintsKey))) {
    PocoObject::Ptr hints = doc->getObject(std::string(kHintsKey));
    if (!hints) return false;
    if (PocoArray::Ptr same = hints->getArray("same_host")) {
      for (const auto& id : *same) {
        if (!id.isString()) return false;
        r->same_host.push_back(id.extract<std::string>());
      }
    }
    if (hints->has("query") && !PocoOptString(hints->get("query"), &r->query)) return false;
  }
  return true;
}

bool PocoAction(std::string_view body, ActionReq* r) {
  PocoObject::Ptr doc = PocoParse(body);
  if (!doc || doc->size() != 1) return false;
  r->action = doc->begin()->first;
  PocoObject::Ptr arg = doc->getObject(r->action);
  PocoObject::Ptr conn = arg ? arg->getObject("connector") : nullptr;
  if (!conn) return false;
  for (const auto& [k, v] : *conn) {
    if (v.isString()) {
      r->connector[k] = v.extract<std::string>();
    } else if (k == "multipath" && v.isBoolean()) {
      r->multipath = v.convert<bool>();
    } else {
      return false;
    }
  }
  return true;
}

bool PocoRpcParse(std::string_view text, RpcMessage* m) {
  PocoObject::Ptr doc = PocoParse(text);
  if (!doc) return false;
  PocoObject::Ptr ctx = doc->getObject("context");
  PocoObject::Ptr args = doc->getObject("args");
  if (!ctx || !args) return false;
  auto str = [](const PocoObject::Ptr& o, const std::string& key, std::string* out) {
    Var v = o->get(key);
    if (!v.isString()) return false;
    *out = v.extract<std::string>();
    return true;
  };
  if (!str(doc, "version", &m->version) || !str(doc, "method", &m->method) || !str(ctx, "user_id", &m->user_id) ||
      !str(ctx, "project_id", &m->project_id) || !str(ctx, "request_id", &m->request_id) ||
      !str(args, "id", &m->id) || !str(args, "reservations", &m->reservations)) {
    return false;
  }
  PocoArray::Ptr roles = ctx->getArray("roles");
  Var admin = ctx->get("is_admin");
  Var size = args->get("new_size");
  if (!roles || !admin.isBoolean() || !size.isInteger() || size.isBoolean()) return false;
  for (const auto& role : *roles) {
    if (!role.isString()) return false;
    m->roles.push_back(role.extract<std::string>());
  }
  m->is_admin = admin.convert<bool>();
  m->new_size = size.convert<Poco::Int64>();
  return true;
}

bool PocoCapsParse(std::string_view text, Caps* caps) {
  PocoObject::Ptr doc = PocoParse(text);
  if (!doc) return false;
  for (const auto& [k, v] : *doc) {
    if (!v.isString()) return false;
    (*caps)[k] = v.extract<std::string>();
  }
  return true;
}

Var PocoOpt(const std::optional<std::string>& s) { return s ? Var(*s) : Var(); }

PocoObject::Ptr PocoObj() { return new PocoObject(Poco::JSON_PRESERVE_KEY_ORDER); }

std::string PocoStringify(const PocoObject::Ptr& o) {
  std::ostringstream out;
  o->stringify(out);
  return out.str();
}

std::string PocoRender(const std::vector<Volume>& vols, const ViewContext& ctx) {
  PocoArray::Ptr list = new PocoArray;
  for (const auto& v : vols) {
    PocoObject::Ptr o = PocoObj();
    o->set("id", v.id);
    o->set("status", v.status);
    o->set("size", static_cast<Poco::Int64>(v.size));
    o->set("availability_zone", v.availability_zone);
    o->set("created_at", v.created_at);
    o->set("updated_at", PocoOpt(v.updated_at));
    o->set("name", v.has_name ? Var(v.name) : Var());
    o->set("description", v.has_description ? Var(v.description) : Var());
    o->set("volume_type", v.volume_type_name.empty() ? Var() : Var(v.volume_type_name));
    o->set("snapshot_id", PocoOpt(v.snapshot_id));
    o->set("source_volid", PocoOpt(v.source_volid));
    PocoObject::Ptr md = PocoObj();
    for (const auto& [k, val] : v.metadata) md->set(k, val);
    o->set("metadata", md);
    PocoArray::Ptr links = new PocoArray;
    PocoObject::Ptr self = PocoObj();
    self->set("rel", "self");
    self->set("href", ctx.self + v.id);
    PocoObject::Ptr bookmark = PocoObj();
    bookmark->set("rel", "bookmark");
    bookmark->set("href", ctx.bookmark + v.id);
    links->add(self);
    links->add(bookmark);
    o->set("links", links);
    o->set("user_id", v.user_id);
    o->set("bootable", std::string(v.bootable ? "true" : "false"));
    o->set("encrypted", false);
    o->set("replication_status", v.status == volume_status::kCreating ? Var() : Var(std::string("disabled")));
    o->set("consistencygroup_id", Var());
    o->set("multiattach", v.multiattach);
    o->set("attachments", PocoArray::Ptr(new PocoArray));
    o->set("migration_status", PocoOpt(v.migration_status));
    o->set("group_id", Var());
    o->set("provider_id", Var());
    o->set("shared_targets", Var());
    o->set("service_uuid", Var());
    o->set("cluster_name", Var());
    o->set("volume_type_id", v.volume_type_id.empty() ? Var() : Var(v.volume_type_id));
    o->set("consumes_quota", true);
    o->set("os-vol-tenant-attr:tenant_id", v.project_id);
    o->set("os-vol-host-attr:host", v.host.empty() ? Var() : Var(v.host));
    o->set("os-vol-mig-status-attr:migstat", PocoOpt(v.migration_status));
    o->set("os-vol-mig-status-attr:name_id", Var());
    list->add(o);
  }
  PocoObject::Ptr next = PocoObj();
  next->set("rel", "next");
  next->set("href", ctx.next);
  PocoArray::Ptr links = new PocoArray;
  links->add(next);
  PocoObject::Ptr body = PocoObj();
  body->set("volumes", list);
  body->set("volumes_links", links);
  return PocoStringify(body);
}

std::string PocoRpcWrite(const RpcMessage& m) {
  PocoObject::Ptr ctx = PocoObj();
  ctx->set("user_id", m.user_id);
  ctx->set("project_id", m.project_id);
  PocoArray::Ptr roles = new PocoArray;
  for (const auto& r : m.roles) roles->add(r);
  ctx->set("roles", roles);
  ctx->set("is_admin", m.is_admin);
  ctx->set("request_id", m.request_id);
  PocoObject::Ptr args = PocoObj();
  args->set("id", m.id);
  args->set("new_size", static_cast<Poco::Int64>(m.new_size));
  args->set("reservations", m.reservations);
  PocoObject::Ptr msg = PocoObj();
  msg->set("version", m.version);
  msg->set("method", m.method);
  msg->set("context", ctx);
  msg->set("args", args);
  return PocoStringify(msg);
}

std::string PocoCapsWrite(const Caps& caps) {
  PocoObject::Ptr o = PocoObj();
  for (const auto& [k, v] : caps) o->set(k, v);
  return PocoStringify(o);
}

// ---- harness ---------------------------------------------------------------------------------

// One timed operation; returns something derived from its result so that it cannot be
// optimised away.
using Op = std::function<size_t()>;

struct Case {
  std::string task, candidate;
  Op op;
  std::string note;  // from the check: "byte-equal", "same JSON", ...
  std::vector<double> ns;  // per rep
};

volatile size_t g_sink;
std::string g_only;  // --only: the one case to build, check and run

bool Wanted(const std::string& task, const std::string& candidate) {
  return g_only.empty() || g_only == task + "/" + candidate;
}

// Runs `op` n times. Never inlined: callgrind counts only what runs in here.
__attribute__((noinline)) size_t RunBatch(const Op& op, long n) {
  size_t acc = 0;
  for (long i = 0; i < n; ++i) acc += op();
  return acc;
}

// This thread's CPU time: the build machine is shared, and time spent descheduled is not the
// candidate's (cache and memory contention from other work still shows, as spread).
double NowNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// Our own parser's compact re-serialisation: equal when two texts hold the same JSON with
// members in the same order.
std::string Canonical(const std::string& text) {
  auto v = json::Parse(text);
  return v.ok() ? json::Serialize(*v) : "<invalid JSON: " + v.status().message() + ">";
}

template <typename T>
size_t Digest(const T& r);
template <>
size_t Digest(const CreateReq& r) {
  return r.size + r.keys + r.metadata.size() + r.same_host.size() + (r.query ? r.query->size() : 0);
}
template <>
size_t Digest(const ActionReq& r) {
  return r.action.size() + r.connector.size() + r.multipath;
}
template <>
size_t Digest(const RpcMessage& r) {
  return r.id.size() + r.new_size + r.roles.size() + r.reservations.size();
}
template <>
size_t Digest(const Caps& c) {
  return c.size() + c.begin()->second.size();
}

// A parse case: `parse` fills a fresh T from the input, and must equal `want`.
template <typename T>
Case ParseCase(std::string task, std::string candidate, std::string input,
               std::function<bool(const std::string&, T*)> parse, const T& want) {
  if (!Wanted(task, candidate)) return {};
  auto shared = std::make_shared<std::string>(std::move(input));
  Op op = [shared, parse]() -> size_t {
    T r;
    if (!parse(*shared, &r)) std::abort();
    return Digest(r);
  };
  T got;
  const bool ok = parse(*shared, &got);
  if (!ok || !(got == want)) {
    std::fprintf(stderr, "%s/%s: %s\n", task.c_str(), candidate.c_str(), ok ? "read differently" : "refused the input");
    std::exit(2);
  }
  return {task, candidate, op, "same fields", {}};
}

// A write case: the text must hold the same JSON as `want`; says whether it is byte-equal.
Case WriteCase(std::string task, std::string candidate, std::function<std::string()> write, const std::string& want) {
  if (!Wanted(task, candidate)) return {};
  const std::string got = write();
  if (Canonical(got) != Canonical(want)) {
    std::fprintf(stderr, "%s/%s: wrote different JSON\n  got:  %.300s\n  want: %.300s\n", task.c_str(),
                 candidate.c_str(), got.c_str(), want.c_str());
    std::exit(2);
  }
  char note[96];
  std::snprintf(note, sizeof note, "%s, %zu B", got == want ? "byte-equal" : "same JSON", got.size());
  Op op = [write]() -> size_t {
    std::string s = write();
    return s.size() + static_cast<unsigned char>(s[s.size() / 2]);
  };
  return {task, candidate, op, note, {}};
}

struct Inputs {
  std::vector<Volume> volumes = MakeVolumes(1000);
  ViewContext view;
  RpcMessage rpc = MakeRpcMessage();
  Caps caps = MakeCaps();
  Inputs() { view.next = std::string(kHostUrl) + "/v3/" + kProject + "/volumes/detail?marker=" + volumes.back().id; }
};

std::vector<Case> MakeCases(const Inputs& in) {
  static sj::dom::parser dom;
  static sj::ondemand::parser od;
  std::vector<Case> cases;
  const auto& vols = in.volumes;
  const auto& view = in.view;

  // render: the reference is the view's own writer.
  const std::string page = HandRender(vols, view);
  cases.push_back(WriteCase("render", "hand-writer", [&] { return HandRender(vols, view); }, page));
  cases.push_back(WriteCase("render", "hand-dom", [&] { return HandDomRender(vols, view); }, page));
  cases.push_back(WriteCase("render", "rapidjson", [&] { return RjRender<RjWriter>(vols, view); }, page));
  cases.push_back(WriteCase("render", "rapidjson-py", [&] { return RjRender<PyWriter>(vols, view); }, page));
  cases.push_back(WriteCase("render", "nlohmann", [&] { return NlRender(vols, view); }, page));
  cases.push_back(WriteCase("render", "poco", [&] { return PocoRender(vols, view); }, page));

  // create and action bodies: the reference is what the hand-written parser reads.
  CreateReq create;
  if (!HandCreate(kCreateBody, &create)) std::abort();
  using CreateFn = std::function<bool(const std::string&, CreateReq*)>;
  const std::vector<std::pair<const char*, CreateFn>> creates = {
      {CINDER_BENCH_PARSER, [](const std::string& s, CreateReq* r) { return HandCreate(s, r); }},
      {"rapidjson", [](const std::string& s, CreateReq* r) { return RjCreate<RjMode::kLibrary>(s, r); }},
      {"rapidjson+utf8", [](const std::string& s, CreateReq* r) { return RjCreate<RjMode::kPrecheck>(s, r); }},
      {"nlohmann", [](const std::string& s, CreateReq* r) { return NlCreate(s, r); }},
      {"simdjson-dom", [](const std::string& s, CreateReq* r) { return SjDomCreate(dom, s, r); }},
      {"simdjson-od", [](const std::string& s, CreateReq* r) { return SjOdCreate(od, s, r); }},
      {"poco", [](const std::string& s, CreateReq* r) { return PocoCreate(s, r); }},
  };
  for (const auto& [name, fn] : creates) cases.push_back(ParseCase<CreateReq>("create", name, kCreateBody, fn, create));

  ActionReq action;
  if (!HandAction(kActionBody, &action)) std::abort();
  using ActionFn = std::function<bool(const std::string&, ActionReq*)>;
  const std::vector<std::pair<const char*, ActionFn>> actions = {
      {CINDER_BENCH_PARSER, [](const std::string& s, ActionReq* r) { return HandAction(s, r); }},
      {"rapidjson", [](const std::string& s, ActionReq* r) { return RjAction<RjMode::kLibrary>(s, r); }},
      {"rapidjson+utf8", [](const std::string& s, ActionReq* r) { return RjAction<RjMode::kPrecheck>(s, r); }},
      {"nlohmann", [](const std::string& s, ActionReq* r) { return NlAction(s, r); }},
      {"simdjson-dom", [](const std::string& s, ActionReq* r) { return SjDomAction(dom, s, r); }},
      {"simdjson-od", [](const std::string& s, ActionReq* r) { return SjOdAction(od, s, r); }},
      {"poco", [](const std::string& s, ActionReq* r) { return PocoAction(s, r); }},
  };
  for (const auto& [name, fn] : actions) cases.push_back(ParseCase<ActionReq>("action", name, kActionBody, fn, action));

  // RPC message: written by each, then read back by each (from the hand-written text).
  const RpcMessage& msg = in.rpc;
  const std::string msg_text = HandDomRpcWrite(msg);
  cases.push_back(WriteCase("rpc-write", "hand-dom", [&] { return HandDomRpcWrite(msg); }, msg_text));
  cases.push_back(WriteCase("rpc-write", "hand-writer", [&] { return HandRpcWrite(msg); }, msg_text));
  cases.push_back(WriteCase("rpc-write", "rapidjson", [&] { return RjRpcWrite(msg); }, msg_text));
  cases.push_back(WriteCase("rpc-write", "nlohmann", [&] { return NlRpcWrite(msg); }, msg_text));
  cases.push_back(WriteCase("rpc-write", "poco", [&] { return PocoRpcWrite(msg); }, msg_text));
#ifdef CINDER_BENCH_ARGS
  if (Wanted("rpc-write", "args (today)")) {
    // Today's key=value arguments: not JSON, so checked by reading them back.
    RpcMessage back;
    if (!ArgsRpcParse(ArgsRpcWrite(msg), &back) || !(back == msg)) std::abort();
    char note[64];
    std::snprintf(note, sizeof note, "key=value lines, %zu B", ArgsRpcWrite(msg).size());
    cases.push_back({"rpc-write", "args (today)", [&msg]() -> size_t { return ArgsRpcWrite(msg).size(); }, note, {}});
  }
#endif
  using RpcFn = std::function<bool(const std::string&, RpcMessage*)>;
  std::vector<std::tuple<const char*, RpcFn, std::string>> rpc_parsers = {
      {CINDER_BENCH_PARSER, [](const std::string& s, RpcMessage* m) { return HandRpcParse(s, m); }, msg_text},
      {"rapidjson", [](const std::string& s, RpcMessage* m) { return RjRpcParse<RjMode::kLibrary>(s, m); }, msg_text},
      {"rapidjson+utf8", [](const std::string& s, RpcMessage* m) { return RjRpcParse<RjMode::kPrecheck>(s, m); },
       msg_text},
      {"nlohmann", [](const std::string& s, RpcMessage* m) { return NlRpcParse(s, m); }, msg_text},
      {"simdjson-dom", [](const std::string& s, RpcMessage* m) { return SjDomRpcParse(dom, s, m); }, msg_text},
      {"simdjson-od", [](const std::string& s, RpcMessage* m) { return SjOdRpcParse(od, s, m); }, msg_text},
      {"poco", [](const std::string& s, RpcMessage* m) { return PocoRpcParse(s, m); }, msg_text},
  };
#ifdef CINDER_BENCH_ARGS
  rpc_parsers.emplace_back("args (today)", [](const std::string& s, RpcMessage* m) { return ArgsRpcParse(s, m); },
                           ArgsRpcWrite(msg));
#endif
  for (const auto& [name, fn, text] : rpc_parsers) {
    cases.push_back(ParseCase<RpcMessage>("rpc-parse", name, text, fn, msg));
  }

  // Capabilities: written as volume_service.cc does today, read as scheduler_service.cc does.
  const Caps& caps = in.caps;
  const std::string caps_text = HandDomCapsWrite(caps);
  cases.push_back(WriteCase("caps-write", "hand-dom", [&] { return HandDomCapsWrite(caps); }, caps_text));
  cases.push_back(WriteCase("caps-write", "hand-writer", [&] { return HandCapsWrite(caps); }, caps_text));
  cases.push_back(WriteCase("caps-write", "rapidjson", [&] { return RjCapsWrite(caps); }, caps_text));
  cases.push_back(WriteCase("caps-write", "nlohmann", [&] { return NlCapsWrite(caps); }, caps_text));
  cases.push_back(WriteCase("caps-write", "poco", [&] { return PocoCapsWrite(caps); }, caps_text));
  using CapsFn = std::function<bool(const std::string&, Caps*)>;
  const std::vector<std::pair<const char*, CapsFn>> caps_parsers = {
      {CINDER_BENCH_PARSER, [](const std::string& s, Caps* c) { return HandCapsParse(s, c); }},
      {"rapidjson", [](const std::string& s, Caps* c) { return RjCapsParse<RjMode::kLibrary>(s, c); }},
      {"rapidjson+utf8", [](const std::string& s, Caps* c) { return RjCapsParse<RjMode::kPrecheck>(s, c); }},
      {"nlohmann", [](const std::string& s, Caps* c) { return NlCapsParse(s, c); }},
      {"simdjson-dom", [](const std::string& s, Caps* c) { return SjDomCapsParse(dom, s, c); }},
      {"simdjson-od", [](const std::string& s, Caps* c) { return SjOdCapsParse(od, s, c); }},
      {"poco", [](const std::string& s, Caps* c) { return PocoCapsParse(s, c); }},
  };
  for (const auto& [name, fn] : caps_parsers) cases.push_back(ParseCase<Caps>("caps-parse", name, caps_text, fn, caps));
  return cases;
}

// ---- conformance: where JSON parsers differ ----------------------------------------------------

// How a parser saw a text: "refused", or the value of member "a" (or the root).
using Probe = std::function<std::string(const std::string&)>;

std::string Bytes(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

std::string HandProbe(const std::string& text) {
  auto v = json::Parse(text);
  if (!v.ok()) return "refused";
  const json::Value* a = v->Find("a");
  if (!a) return v->is_array() ? "array" : "ok";
  if (a->is_int()) return std::to_string(a->as_int());
  if (a->is_double()) return "double " + json::Serialize(*a);
  if (a->is_string()) return Bytes(a->as_string());
  return json::Serialize(*a);
}

template <unsigned kFlags, bool kCString = false>
std::string RjProbe(const std::string& text) {
  rj::Document d;
  if constexpr (kCString) {
    d.Parse<kFlags>(text.c_str());
  } else {
    d.Parse<kFlags>(text.data(), text.size());
  }
  if (d.HasParseError()) return "refused";
  if (!d.IsObject()) return d.IsArray() ? "array" : "ok";
  auto a = d.FindMember("a");
  if (a == d.MemberEnd()) return "ok";
  const rj::Value& v = a->value;
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return "uint " + std::to_string(v.GetUint64());
  if (v.IsDouble()) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "double %.17g", v.GetDouble());
    return buf;
  }
  if (v.IsString()) return Bytes(RjString(v));
  return "other";
}

std::string NlProbe(const std::string& text) {
  OrderedJson d = OrderedJson::parse(text, nullptr, false);
  if (d.is_discarded()) return "refused";
  if (!d.is_object()) return d.is_array() ? "array" : "ok";
  auto a = d.find("a");
  if (a == d.end()) return "ok";
  if (a->is_number_unsigned()) return "uint " + std::to_string(a->get<uint64_t>());
  if (a->is_number_integer()) return std::to_string(a->get<int64_t>());
  if (a->is_number_float()) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "double %.17g", a->get<double>());
    return buf;
  }
  if (a->is_string()) return Bytes(a->get_ref<const std::string&>());
  return "other";
}

std::string SjDomProbe(const std::string& text) {
  sj::dom::parser p;
  sj::dom::element d;
  if (p.parse(text).get(d)) return "refused";
  if (d.type() != sj::dom::element_type::OBJECT) return d.type() == sj::dom::element_type::ARRAY ? "array" : "ok";
  sj::dom::element a;
  if (d["a"].get(a)) return "ok";
  switch (a.type()) {
    case sj::dom::element_type::INT64: return std::to_string(int64_t(a));
    case sj::dom::element_type::UINT64: return "uint " + std::to_string(uint64_t(a));
    case sj::dom::element_type::DOUBLE: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "double %.17g", double(a));
      return buf;
    }
    case sj::dom::element_type::STRING: return Bytes(std::string_view(a));
    default: return "other";
  }
}

// As the extraction functions read: every member of the root walked, "a" read, the rest skipped.
std::string SjOdProbe(const std::string& text) {
  sj::ondemand::parser p;
  sj::padded_string padded(text);
  sj::ondemand::document d;
  if (p.iterate(padded).get(d)) return "refused";
  sj::ondemand::json_type t;
  if (d.type().get(t)) return "refused";
  if (t == sj::ondemand::json_type::array) {
    sj::ondemand::array arr;
    if (d.get_array().get(arr)) return "refused";
    for (auto e : arr) {
      sj::ondemand::value v;
      if (e.get(v)) return "refused";
    }
    return "array";
  }
  sj::ondemand::object root;
  if (d.get_object().get(root)) return "refused";
  std::string seen = "ok";
  for (auto m : root) {
    std::string_view k;
    sj::ondemand::value v;
    if (m.unescaped_key().get(k) || m.value().get(v)) return "refused";
    if (k != "a") continue;
    if (v.type().get(t)) return "refused";
    if (t == sj::ondemand::json_type::string) {
      std::string_view s;
      if (v.get_string().get(s)) return "refused";
      seen = Bytes(s);
    } else if (t == sj::ondemand::json_type::number) {
      sj::ondemand::number_type nt;
      if (v.get_number_type().get(nt)) return "refused";
      int64_t i;
      uint64_t u;
      double x;
      if (nt == sj::ondemand::number_type::signed_integer && !v.get_int64().get(i)) {
        seen = std::to_string(i);
      } else if (nt == sj::ondemand::number_type::unsigned_integer && !v.get_uint64().get(u)) {
        seen = "uint " + std::to_string(u);
      } else if (!v.get_double().get(x)) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "double %.17g", x);
        seen = buf;
      } else {
        return "refused";
      }
    } else {
      seen = "other";
    }
  }
  return seen;
}

std::string PocoProbe(const std::string& text) {
  try {
    Poco::JSON::Parser parser(new Poco::JSON::ParseHandler(true));
    Var v = parser.parse(text);
    if (v.type() == typeid(PocoArray::Ptr)) return "array";
    if (v.type() != typeid(PocoObject::Ptr)) return "ok";
    auto o = v.extract<PocoObject::Ptr>();
    if (!o->has("a")) return "ok";
    Var a = o->get("a");
    if (a.isString()) return Bytes(a.extract<std::string>());
    if (a.type() == typeid(Poco::UInt64)) return "uint " + std::to_string(a.extract<Poco::UInt64>());
    if (a.isInteger()) return std::to_string(a.convert<Poco::Int64>());
    if (a.isNumeric()) {
      char buf[40];
      std::snprintf(buf, sizeof buf, "double %.17g", a.convert<double>());
      return buf;
    }
    return "other";
  } catch (const std::exception&) {
    return "refused";
  }
}

// Runs a probe in a child, so that a crash (stack overflow on deep nesting) is reported.
std::string Isolated(const Probe& probe, const std::string& text) {
  int fds[2];
  if (pipe(fds) != 0) return "?";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const std::string r = probe(text);
    (void)!write(fds[1], r.data(), r.size());
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return "CRASH (signal " + std::to_string(WTERMSIG(status)) + ")";
  return out;
}

std::string Nest(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

void Conformance() {
  const std::vector<std::pair<const char*, Probe>> parsers = {
      {CINDER_BENCH_PARSER, HandProbe},
      {"rapidjson (default flags)", RjProbe<rj::kParseDefaultFlags>},
      {"rapidjson (validate+iterative)", RjProbe<kRjFlags>},
      {"rapidjson+utf8",
       [](const std::string& t) { return Utf8WithoutNul(t) ? RjProbe<rj::kParseIterativeFlag, true>(t) : "refused"; }},
      {"nlohmann", NlProbe},
      {"simdjson-dom", SjDomProbe},
      {"simdjson-od", SjOdProbe},
      {"poco", PocoProbe},
  };
  const std::vector<std::pair<const char*, std::string>> inputs = {
      {"bad UTF-8 in a string", "{\"a\": \"x\xff\"}"},
      {"overlong UTF-8 (C0 AF)", "{\"a\": \"\xc0\xaf\"}"},
      {"UTF-8 surrogate (ED A0 80)", "{\"a\": \"\xed\xa0\x80\"}"},
      {"lone surrogate \\ud800", R"({"a": "\ud800"})"},
      {"escaped NUL \\u0000", R"({"a": "x\u0000y"})"},
      {"raw NUL byte in a string", std::string("{\"a\": \"x\0y\"}", 12)},
      {"raw tab in a string", "{\"a\": \"x\ty\"}"},
      {"repeated key (1 then 2)", R"({"a": 1, "a": 2})"},
      {"2^53 + 1", R"({"a": 9007199254740993})"},
      {"2^63 (past int64)", R"({"a": 9223372036854775808})"},
      {"2^64 (past uint64)", R"({"a": 18446744073709551616})"},
      {"2^64 + 5", R"({"a": 18446744073709551621})"},
      {"-2^63 - 1", R"({"a": -9223372036854775809})"},
      {"1e400", R"({"a": 1e400})"},
      {"1e-400", R"({"a": 1e-400})"},
      {"1.0 (integral double)", R"({"a": 1.0})"},
      {"leading zero 01", R"({"a": 01})"},
      {"NaN", R"({"a": NaN})"},
      {"trailing comma", R"({"a": 1,})"},
      {"comment", "{\"a\": 1 /* c */}"},
      {"text after the value", R"({"a": 1} x)"},
      {"two values", R"({"a": 1} {"a": 2})"},
      {"single quotes", R"({'a': 1})"},
      {"empty body", ""},
      {"bad value in a skipped member", R"({"b": [1,,2], "a": 1})"},
      {"bad literal in a skipped member", R"({"b": nul, "a": 1})"},
      {"depth 64", Nest(64)},
      {"depth 65", Nest(65)},
      {"depth 200", Nest(200)},
      {"depth 2,000", Nest(2000)},
      {"depth 1,000,000", Nest(1000000)},
  };
  std::printf("\nParsers: what each makes of the text (refused / the value of \"a\" / array)\n");
  std::printf("%-32s", "input");
  for (const auto& [name, _] : parsers) std::printf(" | %s", name);
  std::printf("\n");
  for (const auto& [label, text] : inputs) {
    std::printf("%-32s", label);
    for (const auto& [name, probe] : parsers) std::printf(" | %s", Isolated(probe, text).c_str());
    std::printf("\n");
  }

  // Writers: a string value with awkward bytes.
  const std::vector<std::pair<const char*, std::string>> strings = {
      {"control byte 0x1F", "a\x1fz"}, {"newline", "a\nz"},      {"slash", "a/z"},
      {"U+00E9 (UTF-8)", "caf\xc3\xa9"}, {"U+2028 (UTF-8)", "a\xe2\x80\xa8z"}, {"bad UTF-8 0xFF", "a\xffz"},
  };
  const std::vector<std::pair<const char*, std::function<std::string(const std::string&)>>> writers = {
      {"hand-writer", [](const std::string& s) { return HandCapsWrite({{"a", s}}); }},
      {"hand-dom", [](const std::string& s) { return HandDomCapsWrite({{"a", s}}); }},
      {"rapidjson", [](const std::string& s) { return RjCapsWrite({{"a", s}}); }},
      {"rapidjson (kWriteValidateEncodingFlag)",
       [](const std::string& s) {
         rj::StringBuffer buf;
         rj::Writer<rj::StringBuffer, rj::UTF8<>, rj::UTF8<>, rj::CrtAllocator, rj::kWriteValidateEncodingFlag> w(buf);
         w.StartObject();
         w.Key("a");
         if (!w.String(s.data(), static_cast<rj::SizeType>(s.size()))) return std::string("fails");
         w.EndObject();
         return std::string(buf.GetString(), buf.GetSize());
       }},
      {"nlohmann (strict)",
       [](const std::string& s) {
         try {
           return OrderedJson{{"a", s}}.dump();
         } catch (const std::exception&) {
           return std::string("throws");
         }
       }},
      {"nlohmann (replace)", [](const std::string& s) { return NlCapsWrite({{"a", s}}); }},
      {"poco", [](const std::string& s) { return PocoCapsWrite({{"a", s}}); }},
  };
  std::printf("\nWriters: {\"a\": S} as each writes it (bytes outside printable ASCII as \\xNN)\n");
  for (const auto& [label, s] : strings) {
    std::printf("%s:\n", label);
    for (const auto& [name, write] : writers) {
      std::string out = write(s);
      std::string shown;
      for (unsigned char c : out) {
        if (c >= 0x20 && c < 0x7f) {
          shown += static_cast<char>(c);
        } else {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          shown += buf;
        }
      }
      std::printf("  %-40s %s\n", name, shown.c_str());
    }
  }
}

// ---- main --------------------------------------------------------------------------------------

void Report(std::vector<Case>& cases) {
  std::printf("%-11s %-14s %12s %12s %12s %7s  %s\n", "task", "candidate", "median ns", "min ns", "max ns", "spread",
              "check");
  std::string task;
  for (auto& c : cases) {
    if (c.ns.empty()) continue;
    std::sort(c.ns.begin(), c.ns.end());
    const double med = c.ns[c.ns.size() / 2];
    if (c.task != task && !task.empty()) std::printf("\n");
    task = c.task;
    std::printf("%-11s %-14s %12.0f %12.0f %12.0f %6.1f%%  %s\n", c.task.c_str(), c.candidate.c_str(), med,
                c.ns.front(), c.ns.back(), 100.0 * (c.ns.back() - c.ns.front()) / 2 / med, c.note.c_str());
  }
}

}  // namespace
}  // namespace cinder::bench

int main(int argc, char** argv) {
  using namespace cinder::bench;
  int reps = 9;
  double batch_ms = 40;
  long iters = 0;
  std::string only;
  bool conformance = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.starts_with("--reps=")) {
      reps = std::atoi(argv[i] + 7);
    } else if (a.starts_with("--ms=")) {
      batch_ms = std::atof(argv[i] + 5);
    } else if (a.starts_with("--only=")) {
      only = argv[i] + 7;
    } else if (a.starts_with("--iters=")) {
      iters = std::atol(argv[i] + 8);
    } else if (a == "--conformance") {
      conformance = true;
    } else {
      std::fprintf(stderr, "usage: %s [--reps=N] [--ms=M] [--only=TASK/CANDIDATE] [--iters=N] [--conformance]\n",
                   argv[0]);
      return 1;
    }
  }
  if (conformance) {
    Conformance();
    return 0;
  }
  Inputs inputs;
  g_only = only;
  std::vector<Case> cases = MakeCases(inputs);  // checks every candidate's result
  std::erase_if(cases, [](const Case& c) { return !c.op; });
  if (cases.empty()) {
    std::fprintf(stderr, "no case %s\n", only.c_str());
    return 1;
  }
  if (iters > 0) {  // a fixed count, for callgrind
    for (auto& c : cases) g_sink = RunBatch(c.op, iters);
    std::printf("%zu case(s) x %ld iterations\n", cases.size(), iters);
    return 0;
  }
  // Iterations per batch so that one batch takes about batch_ms.
  std::vector<long> n(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    g_sink = RunBatch(cases[i].op, 2);  // warm up
    long k = 1;
    double t;
    while (true) {
      const double start = NowNs();
      g_sink = RunBatch(cases[i].op, k);
      t = NowNs() - start;
      if (t > batch_ms * 1e6 / 8) break;
      k *= 2;
    }
    n[i] = std::max(1L, static_cast<long>(k * batch_ms * 1e6 / t));
  }
  // Reps round-robin over all cases, so that a burst of load hits every candidate alike.
  for (int r = 0; r < reps; ++r) {
    for (size_t i = 0; i < cases.size(); ++i) {
      const double start = NowNs();
      g_sink = RunBatch(cases[i].op, n[i]);
      cases[i].ns.push_back((NowNs() - start) / n[i]);
    }
  }
  Report(cases);
  return 0;
}

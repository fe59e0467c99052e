// The metadata subresources of volumes and snapshots: GET/POST/PUT .../metadata and
// GET/PUT/DELETE .../metadata/{key}, with Cinder's bodies and errors (and ETags for volumes).
#include "api/metadata.h"

#include <Poco/MD5Engine.h>

#include "common/json_writer.h"

namespace cinder::api {

std::string MetadataBody(const char* key, const Metadata& md) {
  JsonWriter w;
  w.BeginObject().Key(key);
  WriteStringMap(w, md);
  w.EndObject();
  return w.Take();
}

namespace {

// The ETag of a metadata body (3.15): the MD5 of its JSON, as Cinder computes it.
std::string Etag(const std::string& body) {
  Poco::MD5Engine md5;
  md5.update(body);
  return Poco::DigestEngine::digestToHex(md5.digest());
}

}  // namespace

ApiResponse MetadataCollection(ApiRequest& req, const std::string& id, const MetadataOps& ops) {
  (void)id;
  const bool etags = ops.etags;
  if (req.method == "GET") {
    auto md = ops.get();
    if (!md.ok()) return FaultFrom(md.status());
    ApiResponse r = Json(200, MetadataBody("metadata", *md));
    if (etags) r.headers.emplace_back("Etag", Etag(r.body));
    return r;
  }
  if (req.method != "POST" && req.method != "PUT") return Fault(405, "The method is not allowed.");
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  const json::Value* md_value = body->Find("metadata");
  if (!md_value) return Fault(400, "'metadata' is a required property");
  auto md = ParseMetadata(*md_value, "metadata");
  if (!md.ok()) return FaultFrom(md.status());
  if (req.method == "PUT" && etags) {
    // If-Match (3.15): replace only what the client read.
    if (auto match = req.Header("if-match")) {
      auto current = ops.get();
      if (!current.ok()) return FaultFrom(current.status());
      std::string tag = *match;
      if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') tag = tag.substr(1, tag.size() - 2);
      if (tag != Etag(MetadataBody("metadata", *current))) return Json(412, "");
    }
  }
  auto out = req.method == "POST" && ops.create ? ops.create(*md) : ops.update(*md, /*replace=*/req.method == "PUT");
  return out.ok() ? Json(200, MetadataBody("metadata", *out)) : FaultFrom(out.status());
}

ApiResponse MetadataItem(ApiRequest& req, const std::string& id, const std::string& key, const MetadataOps& ops) {
  auto not_found = [&] { return Fault(404, ops.resource + " " + id + " has no metadata with key " + key + "."); };
  if (req.method == "GET") {
    auto md = ops.get();
    if (!md.ok()) return FaultFrom(md.status());
    auto it = md->find(key);
    if (it == md->end()) return not_found();
    return Json(200, MetadataBody("meta", {{it->first, it->second}}));
  }
  if (req.method == "DELETE") {
    Status st = ops.remove(key);
    if (st.code() == Code::kNotFound && st.message().rfind(ops.resource + " ", 0) != 0) return not_found();
    return st.ok() ? Json(200, "") : FaultFrom(st);
  }
  if (req.method != "PUT") return Fault(405, "The method is not allowed.");
  auto body = ParseBody(req);
  if (!body.ok()) return FaultFrom(body.status());
  const json::Value* meta_value = body->Find("meta");
  if (!meta_value) return Fault(400, "'meta' is a required property");
  const json::Value& meta = *meta_value;
  auto md = ParseMetadata(meta, "meta");
  if (!md.ok()) return FaultFrom(md.status());
  if (md->size() > 1) return FaultFrom(FieldError("meta", meta, PyRepr(meta) + " has too many properties"));
  if (md->empty()) return FaultFrom(FieldError("meta", meta, "{} does not have enough properties"));
  if (md->begin()->first != key) return Fault(400, "Request body and URI mismatch");
  auto out = ops.update(*md, /*replace=*/false);
  if (!out.ok()) return FaultFrom(out.status());
  return Json(200, MetadataBody("meta", *md));
}

}  // namespace cinder::api

// /v3/{project_id}/types/{id}/encryption: a volume type's encryption (Cinder's
// cinder/api/contrib/volume_type_encryption.py and its schema).
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "api/common.h"
#include "api/router.h"
#include "common/json_writer.h"
#include "common/util.h"

namespace cinder::api {

namespace {

// Cinder's parameter_types.key_size: an integer or a string of one, from 0 to DB_MAX_INT; a
// string that is no integer is "key_size must be an integer." (its format checker raises).
Result<std::optional<int64_t>> ParseKeySize(const json::Value& v) {
  if (v.is_null()) return std::optional<int64_t>();
  const bool integral_double = v.is_double() && std::floor(v.as_double()) == v.as_double();
  if (!(v.is_string() || v.is_int() || v.is_big_int() || integral_double)) {
    return FieldError("key_size", v, PyRepr(v) + " is not of type 'string', 'integer', 'null'");
  }
  std::optional<double> number;  // what the schema's minimum / maximum compare
  if (v.is_string()) {
    const std::string& s = v.as_string();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') number = d;
  } else {
    number = v.as_double();
  }
  if (number && *number < 0) {
    return FieldError("key_size", v,
                      PyStr(json::Value(static_cast<int64_t>(*number))) + " is less than the minimum of 0");
  }
  if (number && *number > 2147483647.0) {
    return FieldError("key_size", v,
                      PyStr(json::Value(static_cast<int64_t>(*number))) + " is greater than the maximum of 2147483647");
  }
  if (v.is_string()) {
    auto n = ParseInt(v.as_string());
    if (!n) return InvalidArgument("Invalid input received: key_size must be an integer.");
    return std::optional<int64_t>(*n);
  }
  return std::optional<int64_t>(static_cast<int64_t>(v.as_double()));
}

// The body of a create (`create`) or update: {"encryption": {...}} as Cinder's schema checks it.
// `echo` gets the encryption object as Cinder answers it (key_size made an integer).
Result<VolumeTypeEncryptionUpdate> ParseEncryptionBody(const ApiRequest& req, bool create, JsonWriter* echo) {
  CINDER_ASSIGN_OR_RETURN(json::Value body, ParseBody(req));
  const json::Value* enc = body.Find("encryption");
  if (enc && !enc->is_object()) return FieldError("encryption", *enc, PyRepr(*enc) + " is not of type 'object'");
  VolumeTypeEncryptionUpdate u;
  if (enc) {
    const json::Value& o = *enc;
    if (const json::Value* k = o.Find("key_size")) {
      CINDER_ASSIGN_OR_RETURN(auto size, ParseKeySize(*k));
      u.key_size.emplace(size);
    }
    if (const json::Value* p = o.Find("provider")) {
      if (!p->is_string()) return FieldError("provider", *p, PyRepr(*p) + " is not of type 'string'");
      if (p->as_string().size() > 255) return FieldError("provider", *p, PyRepr(*p) + " is too long");
      u.provider = p->as_string();
    }
    if (const json::Value* c = o.Find("control_location")) {
      if (!c->is_string() || (c->as_string() != "front-end" && c->as_string() != "back-end")) {
        return FieldError("control_location", *c, PyRepr(*c) + " is not one of ['front-end', 'back-end']");
      }
      u.control_location = c->as_string();
    }
    if (const json::Value* c = o.Find("cipher")) {
      if (c->is_null()) {
        u.cipher.emplace(std::nullopt);
      } else if (!c->is_string()) {
        return FieldError("cipher", *c, PyRepr(*c) + " is not of type 'string', 'null'");
      } else if (c->as_string().size() > 255) {
        return FieldError("cipher", *c, PyRepr(*c) + " is too long");
      } else {
        u.cipher.emplace(c->as_string());
      }
    }
    if (create) {
      for (const char* required : {"provider", "control_location"}) {
        if (!o.Find(required)) {
          return FieldError("encryption", o, "'" + std::string(required) + "' is a required property");
        }
      }
    }
  }
  if (!enc) return InvalidArgument("'encryption' is a required property");
  std::vector<std::string> extra;
  for (const auto& [k, v] : body.as_object()) {
    if (k != "encryption") extra.push_back(k);
  }
  if (!extra.empty()) return InvalidArgument(Unexpected(extra));
  // Cinder answers the body it was given (other members included), key_size as an integer.
  echo->BeginObject();
  for (const auto& [k, v] : enc->as_object()) {
    echo->Key(k);
    if (k == "key_size" && u.key_size && *u.key_size) {
      echo->Int(**u.key_size);
    } else {
      echo->Raw(json::Serialize(v));
    }
  }
  return u;
}

// The encryption's fields as Cinder's model has them (its index view), or only `key`; false
// when `key` is none of them.
bool WriteEncryption(JsonWriter& w, const VolumeTypeEncryption& e, const std::optional<std::string>& key) {
  bool found = false;
  w.BeginObject();
  auto field = [&](const char* name, auto write) {
    if (key && *key != name) return;
    found = true;
    w.Key(name);
    write();
  };
  field("volume_type_id", [&] { w.String(e.volume_type_id); });
  field("control_location", [&] { w.String(e.control_location); });
  field("deleted", [&] { w.Bool(false); });
  field("created_at", [&] { w.String(e.created_at); });
  field("updated_at", [&] { w.OptString(e.updated_at); });
  field("encryption_id", [&] { w.String(e.encryption_id); });
  field("key_size", [&] { e.key_size ? w.Int(*e.key_size) : w.Null(); });
  field("provider", [&] { w.String(e.provider); });
  field("deleted_at", [&] { w.Null(); });
  field("cipher", [&] { w.OptString(e.cipher); });
  w.EndObject();
  return found;
}

}  // namespace

ApiResponse HandleTypeEncryption(VolumeManager& volumes, ApiRequest& req, const std::string& type_id,
                                 const std::optional<std::string>& key) {
  const std::string& m = req.method;
  if (!key && m == "GET") {
    auto enc = volumes.GetVolumeTypeEncryption(req.ctx, type_id);
    if (!enc.ok()) return FaultFrom(enc.status());
    if (!*enc) return Json(200, "{}");
    JsonWriter w;
    WriteEncryption(w, **enc, std::nullopt);
    return Json(200, w.Take());
  }
  if (key && m == "GET") {
    auto enc = volumes.GetVolumeTypeEncryption(req.ctx, type_id);
    if (!enc.ok()) return FaultFrom(enc.status());
    JsonWriter w;
    if (!*enc || !WriteEncryption(w, **enc, key)) {
      return Fault(404, "Volume type encryption for type " + type_id + " does not exist.");
    }
    return Json(200, w.Take());
  }
  if ((!key && m == "POST") || (key && m == "PUT")) {
    const bool create = !key;
    JsonWriter w;
    w.BeginObject().Key("encryption");
    auto u = ParseEncryptionBody(req, create, &w);
    if (!u.ok()) return FaultFrom(u.status());
    if (create) {
      auto e = volumes.CreateVolumeTypeEncryption(req.ctx, type_id, *u);
      if (!e.ok()) return FaultFrom(e.status());
      // Cinder's create adds these to the body it answers.
      w.Key("volume_type_id").String(e->volume_type_id);
      w.Key("encryption_id").String(e->encryption_id);
    } else {
      Status st = volumes.UpdateVolumeTypeEncryption(req.ctx, type_id, *u);
      if (!st.ok()) return FaultFrom(st);
    }
    w.EndObject().EndObject();
    return Json(200, w.Take());
  }
  if (key && m == "DELETE") {
    Status st = volumes.DeleteVolumeTypeEncryption(req.ctx, type_id);
    return st.ok() ? Json(202, "") : FaultFrom(st);
  }
  return Fault(405, "The method is not allowed.");
}

}  // namespace cinder::api

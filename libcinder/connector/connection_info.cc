#include "connector/connection_info.h"

#include <string_view>

#include "common/json.h"

namespace cinder::connector {

namespace {

// The member `key` of `data`, or the first element of the list `list_key` (target_portals ...).
const json::Value* FindOrFirst(const json::Value& data, std::string_view key, std::string_view list_key) {
  const json::Value* v = data.Find(key);
  if (v != nullptr && !v->is_null()) return v;
  const json::Value* list = data.Find(list_key);
  if (list != nullptr && list->is_array() && list->size() > 0) return list->At(0);
  return nullptr;
}

Result<std::string> RequiredString(const json::Value& data, std::string_view key, std::string_view list_key,
                                   const std::string& type) {
  const json::Value* v = FindOrFirst(data, key, list_key);
  if (v == nullptr) {
    return InvalidArgument("connection_info of type " + type + " has no " + std::string(key));
  }
  if (!v->is_string() || v->as_string().empty()) {
    return InvalidArgument("connection_info: " + std::string(key) + " must be a non-empty string");
  }
  return v->as_string();
}

std::string OptionalString(const json::Value& data, std::string_view key) {
  const json::Value* v = data.Find(key);
  return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

}  // namespace

std::string ConnectionInfo::Subject() const {
  if (!attachment_id.empty()) return "attachment " + attachment_id;
  if (!volume_id.empty()) return "volume " + volume_id;
  return "the volume";
}

Result<ConnectionInfo> ParseConnectionInfo(const std::string& json_text) {
  auto parsed = json::Parse(json_text);
  if (!parsed.ok()) return InvalidArgument("connection_info is not valid JSON: " + parsed.status().message());
  const json::Value* root = &*parsed;
  if (!root->is_object()) return InvalidArgument("connection_info must be a JSON object");
  // A whole attachment ({"attachment": {...}}) or a wrapper ({"connection_info": {...}}).
  if (const json::Value* a = root->Find("attachment"); a != nullptr && a->is_object()) root = a;
  if (const json::Value* ci = root->Find("connection_info"); ci != nullptr) {
    if (!ci->is_object() || ci->size() == 0) {
      return InvalidArgument("connection_info is empty: the attachment has no connector yet");
    }
    root = ci;
  }
  ConnectionInfo info;
  const json::Value* type = root->Find("driver_volume_type");
  if (type == nullptr) return InvalidArgument("connection_info has no driver_volume_type");
  if (!type->is_string()) return InvalidArgument("connection_info: driver_volume_type must be a string");
  info.driver_volume_type = type->as_string();
  // The legacy form keeps everything else under "data".
  const json::Value* data = root;
  if (const json::Value* d = root->Find("data"); d != nullptr) {
    if (!d->is_object()) return InvalidArgument("connection_info: data must be an object");
    data = d;
  }
  info.volume_id = OptionalString(*data, "volume_id");
  info.attachment_id = OptionalString(*data, "attachment_id");
  if (info.attachment_id.empty()) info.attachment_id = OptionalString(*root, "attachment_id");
  const json::Value* mode = data->Find("access_mode");
  if (mode != nullptr && !mode->is_null()) {
    if (!mode->is_string() || (mode->as_string() != "rw" && mode->as_string() != "ro")) {
      return InvalidArgument("connection_info: access_mode must be \"rw\" or \"ro\"");
    }
    info.read_only = mode->as_string() == "ro";
  }
  const std::string& t = info.driver_volume_type;
  if (t == "local") {
    CINDER_ASSIGN_OR_RETURN(info.device_path, RequiredString(*data, "device_path", "", t));
    return info;
  }
  if (t != "iscsi") {
    return InvalidArgument("connection_info: driver_volume_type \"" + t +
                           "\" is not supported (the connector opens \"iscsi\" and \"local\")");
  }
  CINDER_ASSIGN_OR_RETURN(std::string portal, RequiredString(*data, "target_portal", "target_portals", t));
  info.portal = portal.substr(0, portal.find(','));  // "ip:port,tpgt"
  CINDER_ASSIGN_OR_RETURN(info.iqn, RequiredString(*data, "target_iqn", "target_iqns", t));
  const json::Value* lun = FindOrFirst(*data, "target_lun", "target_luns");
  if (lun == nullptr) return InvalidArgument("connection_info of type iscsi has no target_lun");
  if (lun->is_int()) {
    info.lun = static_cast<int>(lun->as_int());
  } else if (lun->is_string() && !lun->as_string().empty() &&
             lun->as_string().find_first_not_of("0123456789") == std::string::npos && lun->as_string().size() < 6) {
    info.lun = std::stoi(lun->as_string());
  } else {
    return InvalidArgument("connection_info: target_lun must be an integer");
  }
  if (info.lun < 0 || info.lun > 16383) return InvalidArgument("connection_info: target_lun is out of range");
  const json::Value* auth = data->Find("auth_method");
  if (auth != nullptr && !auth->is_null()) {
    if (!auth->is_string()) return InvalidArgument("connection_info: auth_method must be a string");
    const std::string& m = auth->as_string();
    if (m == "CHAP" || m == "chap") {
      info.chap = true;
      CINDER_ASSIGN_OR_RETURN(info.username, RequiredString(*data, "auth_username", "", t));
      CINDER_ASSIGN_OR_RETURN(info.password, RequiredString(*data, "auth_password", "", t));
    } else if (m != "None" && m != "none" && !m.empty()) {
      return InvalidArgument("connection_info: auth_method \"" + m + "\" is not supported (only CHAP)");
    }
  }
  return info;
}

}  // namespace cinder::connector

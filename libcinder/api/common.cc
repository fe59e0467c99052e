#include "api/common.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/util.h"

namespace cinder::api {

Result<json::Value> ParseBody(const ApiRequest& req) {
  auto v = json::Parse(req.body);
  if (!v.ok() || !v->is_object()) return InvalidArgument("Malformed request body");
  return std::move(v).value();
}

const json::Value& Get(const json::Value& o, std::string_view key) {
  static const json::Value kNull;
  const json::Value* v = o.Find(key);
  return v ? *v : kNull;
}

// Python's repr() and str() of a JSON value, as Cinder's jsonschema messages print them.
std::string PyStr(const json::Value& v) {
  if (v.is_string()) return v.as_string();
  return PyRepr(v);
}

std::string PyRepr(const json::Value& v) {
  switch (v.type()) {
    case json::Value::Type::kNull: return "None";
    case json::Value::Type::kBool: return v.as_bool() ? "True" : "False";
    case json::Value::Type::kString: return "'" + v.as_string() + "'";
    case json::Value::Type::kNumber: return json::Serialize(v);  // Python's repr(): 10, 10.0, 1e+16
    case json::Value::Type::kObject: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, val] : v.as_object()) {  // insertion order, as Python prints a dict
        out += (first ? "'" : ", '") + k + "': " + PyRepr(val);
        first = false;
      }
      return out + "}";
    }
    case json::Value::Type::kArray: {
      std::string out = "[";
      bool first = true;
      for (const auto& val : v.as_array()) {
        out += (first ? "" : ", ") + PyRepr(val);
        first = false;
      }
      return out + "]";
    }
  }
  return "?";
}

// Cinder's schema error: "Invalid input for field/attribute F. Value: V. MESSAGE".
Status FieldError(const std::string& field, const json::Value& v, const std::string& message) {
  return InvalidArgument("Invalid input for field/attribute " + field + ". Value: " + PyStr(v) + ". " + message);
}

// The object under `key` (the resource wrapper, e.g. {"volume": {...}}).
Result<const json::Value*> Member(const json::Value& body, const std::string& key) {
  const json::Value* v = body.Find(key);
  if (!v) return InvalidArgument("'" + key + "' is a required property");
  if (!v->is_object()) return FieldError(key, *v, PyRepr(*v) + " is not of type 'object'");
  return v;
}

// A string field: nullopt when absent; null is allowed when `nullable`.
Result<std::optional<std::string>> OptString(const json::Value& o, const std::string& key, bool nullable,
                                             size_t max_len) {
  const json::Value* v = o.Find(key);
  if (!v) return std::optional<std::string>();
  if (v->is_null()) {
    if (nullable) return std::optional<std::string>();
    return FieldError(key, *v, "None is not of type 'string'");
  }
  if (!v->is_string()) {
    return FieldError(key, *v,
                      PyRepr(*v) + (nullable ? " is not of type 'string', 'null'" : " is not of type 'string'"));
  }
  const std::string& s = v->as_string();
  if (Trim(s).size() > max_len) {
    return InvalidArgument("Invalid input received: " + key + " has " + std::to_string(Trim(s).size()) +
                           " characters, more than " + std::to_string(max_len) + ".");
  }
  return std::optional<std::string>(s);
}

// A size in GiB, as Cinder's schema (parameter_types.volume_size) takes it: an integer or a
// string of digits, from 1 to 2147483647. `types` is the type list its message names.
Result<int64_t> ParseSize(const json::Value& v, const std::string& field, const std::string& types) {
  int64_t n = 0;
  if (v.is_int() || v.is_big_int()) {
    n = v.as_int();  // a big integer clamps to int64, and so fails the range check below
  } else if (v.is_string()) {
    const std::string& s = v.as_string();
    bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    auto parsed = ParseInt(s);
    if (!digits) return FieldError(field, v, PyRepr(v) + " does not match '^[0-9]+$'");
    if (!parsed) return FieldError(field, v, PyRepr(v) + " is greater than the maximum of 2147483647");
    n = *parsed;
  } else {
    return FieldError(field, v, PyRepr(v) + " is not of type " + types);
  }
  if (n < 1) return FieldError(field, v, PyRepr(v) + " is less than the minimum of 1");
  if (n > 2147483647) return FieldError(field, v, PyRepr(v) + " is greater than the maximum of 2147483647");
  return n;
}

bool ValidMetadataKey(const std::string& k) {
  if (k.empty() || k.size() > 255) return false;
  for (unsigned char c : k) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != ':' && c != '.' && c != ' ' && c != '/') {
      return false;
    }
  }
  return true;
}

// Cinder's extra_specs schema: keys ^[a-zA-Z0-9-_:. /]{1,255}$, string values up to 255.
Result<Metadata> ParseMetadata(const json::Value& v, const std::string& field) {
  if (!v.is_object()) return FieldError(field, v, PyRepr(v) + " is not of type 'object'");
  std::vector<const json::Value::Member*> members;
  members.reserve(v.size());
  for (const auto& m : v.as_object()) members.push_back(&m);
  std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  Metadata md;
  for (const auto* m : members) {
    const auto& [k, val] = *m;
    if (!ValidMetadataKey(k)) {
      return FieldError(field, v,
                        "'" + k +
                            "' does not match any of the regexes: "
                            "'^[a-zA-Z0-9-_:. /]{1,255}$'");
    }
    if (!val.is_string()) return FieldError(k, val, PyRepr(val) + " is not of type 'string'");
    const std::string& s = val.as_string();
    if (s.size() > 255) return FieldError(k, val, PyRepr(val) + " is too long");
    md.emplace_hint(md.end(), k, s);
  }
  return md;
}

Result<TypeFields> ParseTypeFields(const json::Value& o, const std::string& specs_key, const std::string& public_key) {
  TypeFields t;
  CINDER_ASSIGN_OR_RETURN(auto name, OptString(o, "name", /*nullable=*/false));
  if (!name) return InvalidArgument("'name' is a required property");
  if (Trim(*name).empty()) return FieldError("name", Get(o, "name"), "Name can not be empty or only spaces.");
  t.name = *name;
  CINDER_ASSIGN_OR_RETURN(t.description, OptString(o, "description", /*nullable=*/true));
  if (!Get(o, specs_key).is_null()) {
    CINDER_ASSIGN_OR_RETURN(t.specs, ParseMetadata(Get(o, specs_key), specs_key));
  }
  if (const json::Value* is_public = o.Find(public_key)) {
    CINDER_ASSIGN_OR_RETURN(t.is_public, BodyBool(public_key, *is_public));
  }
  return t;
}

Result<bool> BodyBool(const std::string& field, const json::Value& v) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_string()) {
    auto b = ParseBool(field, v.as_string());
    if (b.ok()) return *b;
  }
  return FieldError(field, v, PyRepr(v) + " is not of type 'boolean', 'string'");
}

Result<bool> ParseBool(const std::string& name, const std::string& v) {
  std::string s = ToLower(v);
  if (s == "true" || s == "1" || s == "yes" || s == "on" || s == "t" || s == "y") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off" || s == "f" || s == "n") return false;
  return InvalidArgument("Invalid input received: Invalid value '" + v + "' for " + name + ": must be true or false.");
}

Result<std::optional<bool>> ParseIsPublic(const ApiRequest& req) {
  std::optional<bool> is_public = true;
  auto p = req.Query("is_public");
  if (!p || !req.ctx.is_admin) return is_public;
  if (ToLower(*p) == "none") return std::optional<bool>();
  auto b = ParseBool("is_public", *p);
  if (!b.ok()) return InvalidArgument("Invalid is_public filter [" + *p + "]");
  return std::optional<bool>(*b);
}

Result<bool> UseQuotaFilter(const std::string& v) {
  auto b = ParseBool("consumes_quota", v);
  if (!b.ok()) return InvalidArgument("Value '" + v + "' for 'consumes_quota' is not a boolean.");
  return *b;
}

// Cinder's get_sort_params: "sort=k1:dir,k2" or the deprecated sort_key/sort_dir (not both).
Status ParseSortParams(const std::optional<std::string>& sort, const std::optional<std::string>& sort_key,
                       const std::optional<std::string>& sort_dir, std::vector<SortKey>* out) {
  if (sort && (sort_key || sort_dir)) {
    return InvalidArgument(
        "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be "
        "used with the 'sort' parameter.");
  }
  auto parse_dir = [](const std::string& d, bool* asc) -> Status {
    std::string s = ToLower(Trim(d));
    if (s == "asc") {
      *asc = true;
    } else if (s == "desc") {
      *asc = false;
    } else {
      return InvalidArgument("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'.");
    }
    return Status::OK();
  };
  if (sort) {
    for (const auto& item : Split(*sort, ',')) {
      auto parts = Split(item, ':');
      SortKey k;
      k.key = Trim(parts[0]);
      if (k.key.empty() || parts.size() > 2) {
        return InvalidArgument("Invalid input received: Invalid sort key " + item);
      }
      if (parts.size() == 2) CINDER_RETURN_IF_ERROR(parse_dir(parts[1], &k.ascending));
      out->push_back(k);
    }
  } else if (sort_key || sort_dir) {
    SortKey k;
    k.key = sort_key.value_or("created_at");
    if (sort_dir) CINDER_RETURN_IF_ERROR(parse_dir(*sort_dir, &k.ascending));
    out->push_back(k);
  }
  return Status::OK();
}

Result<bool> QueryBool(const ApiRequest& req, const std::string& name, bool absent) {
  auto v = req.Query(name);
  return v ? ParseBool(name, *v) : Result<bool>(absent);
}

Result<int64_t> ParseLimit(const std::string& v) {
  auto n = ParseInt(v);
  if (!n) return InvalidArgument("limit param must be an integer");
  if (*n < 0) return InvalidArgument("limit param must be positive");
  return *n;
}

bool PagingParams::Take(const std::string& k, const std::string& v) {
  if (k == "limit") {
    auto n = ParseLimit(v);
    if (n.ok()) {
      limit = *n;
    } else if (error_.ok()) {
      error_ = n.status();
    }
  } else if (k == "marker") {
    marker = v;
  } else if (k == "offset" && allow_offset) {
    auto n = ParseInt(v);
    if ((!n || *n < 0) && error_.ok()) {
      error_ = InvalidArgument(!n ? "offset param must be an integer" : "offset param must be positive");
    } else if (n) {
      offset = *n;
    }
  } else if (k == "sort") {
    sort_ = v;
  } else if (k == "sort_key") {
    sort_key_ = v;
  } else if (k == "sort_dir") {
    sort_dir_ = v;
  } else {
    return false;
  }
  return true;
}

Status PagingParams::Finish() {
  CINDER_RETURN_IF_ERROR(error_);
  return ParseSortParams(sort_, sort_key_, sort_dir_, &sort);
}

Status InvalidFilters(const std::vector<std::string>& names, const std::string& supported) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
  return InvalidArgument("Invalid filters " + list + " are found in query options." +
                         (supported.empty() ? "" : " Supported filters: " + supported + "."));
}

// ---- views -----------------------------------------------------------------------------------

// Cinder puts the project in links only when the request URL carried it.
std::string ProjectPart(const ApiRequest& req) { return req.url_project.empty() ? "" : "/" + req.url_project; }

LinkPrefixes::LinkPrefixes(const ApiRequest& req, const std::string& collection)
    : self(req.host_url + "/v3" + ProjectPart(req) + "/" + collection + "/"),
      bookmark(req.host_url + ProjectPart(req) + "/" + collection + "/") {}

void WriteLinks(JsonWriter& w, const LinkPrefixes& links, const std::string& id) {
  w.Key("links").BeginArray();
  links.scratch.assign(links.self).append(id);
  w.BeginObject().Key("rel").String("self").Key("href").String(links.scratch).EndObject();
  links.scratch.assign(links.bookmark).append(id);
  w.BeginObject().Key("rel").String("bookmark").Key("href").String(links.scratch).EndObject();
  w.EndArray();
}

// The next page's URL: the request's parameters with marker moved to the end (webob's
// MultiDict), url-encoded as Python's urlencode does.
std::string NextLink(const ApiRequest& req, const std::string& collection, const std::string& marker) {
  std::string query;
  auto add = [&query](const std::string& k, const std::string& v) {
    auto enc = [](const std::string& s) {
      std::string out;
      for (unsigned char c : s) {
        if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
          out += static_cast<char>(c);
        } else if (c == ' ') {
          out += '+';
        } else {
          char buf[4];
          std::snprintf(buf, sizeof buf, "%%%02X", c);
          out += buf;
        }
      }
      return out;
    };
    query += (query.empty() ? "" : "&") + enc(k) + "=" + enc(v);
  };
  for (const auto& [k, v] : req.query) {
    if (k != "marker") add(k, v);
  }
  add("marker", marker);
  return req.host_url + "/v3" + ProjectPart(req) + "/" + collection + "?" + query;
}

void WriteStringMap(JsonWriter& w, const Metadata& map) {
  w.BeginObject();
  for (const auto& [k, v] : map) w.Key(k).String(v);
  w.EndObject();
}

void WriteNextLink(JsonWriter& w, const ApiRequest& req, const char* key, const std::string& collection, int64_t limit,
                   int64_t shown, const std::string& last_id) {
  if (shown == 0 || limit > shown) return;
  w.Key(key).BeginArray().BeginObject();
  w.Key("rel").String("next");
  w.Key("href").String(NextLink(req, collection, last_id));
  w.EndObject().EndArray();
}

void WriteListEnd(JsonWriter& w, const ApiRequest& req, int64_t max_limit, const char* key,
                  const std::string& collection, int64_t requested_limit, bool with_count, int64_t count, size_t page,
                  const std::string& last_id) {
  const int64_t limit = requested_limit < 0 ? max_limit : std::min(requested_limit, max_limit);
  const int64_t items = with_count && count > 0 ? count : static_cast<int64_t>(page);
  if (page > 0) WriteNextLink(w, req, key, collection, limit, items, last_id);
  if (with_count) w.Key("count").Int(count);
}

// Cinder reads the metadata filter with Python's literal_eval: a dict of strings such as
// {'k': 'v'} (what cinderclient sends) or JSON {"k": "v"}. This reads that subset: quoted
// strings in either quote style, with backslash escapes.
Result<Metadata> ParseMetadataFilter(const std::string& text) {
  size_t i = 0;
  auto bad = [&text]() -> Status {
    return InvalidArgument("Invalid input received: Invalid metadata filter '" + text +
                           "': expected a dictionary of strings such as {'key': 'value'}.");
  };
  auto skip = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  auto str = [&](std::string* out) -> bool {
    skip();
    if (i >= text.size() || (text[i] != '\'' && text[i] != '"')) return false;
    char quote = text[i++];
    out->clear();
    while (i < text.size() && text[i] != quote) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      *out += text[i++];
    }
    if (i >= text.size()) return false;
    ++i;
    return true;
  };
  Metadata md;
  skip();
  if (i >= text.size() || text[i++] != '{') return bad();
  skip();
  if (i < text.size() && text[i] == '}') {
    ++i;
  } else {
    while (true) {
      std::string k, v;
      if (!str(&k)) return bad();
      skip();
      if (i >= text.size() || text[i++] != ':') return bad();
      if (!str(&v)) return bad();
      md[k] = v;
      skip();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '}') {
        ++i;
        break;
      }
      return bad();
    }
  }
  skip();
  if (i != text.size()) return bad();
  return md;
}

std::string Unexpected(std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  std::string list;
  for (const auto& k : keys) list += (list.empty() ? "'" : ", '") + k + "'";
  return "Additional properties are not allowed (" + list + (keys.size() == 1 ? " was" : " were") + " unexpected)";
}

}  // namespace cinder::api

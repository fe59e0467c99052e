// Cinder's configurable list filters and GET /resource_filters (cinder/api/common.py,
// cinder/api/v3/resource_filters.py), and the time-comparison filter values of 3.60.
#include "api/filters.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "api/common.h"
#include "common/json.h"
#include "common/json_writer.h"
#include "common/log.h"

namespace cinder::api {

namespace {

// Cinder's etc/cinder/resource_filters.json, the default of resource_query_filters_file.
const char kDefaultFilters[] = R"({
    "volume": ["name", "status", "metadata",
               "bootable", "migration_status", "availability_zone",
               "group_id", "size", "created_at", "updated_at",
               "consumes_quota"],
    "backup": ["name", "status", "volume_id"],
    "snapshot": ["name", "status", "volume_id", "metadata",
                 "availability_zone", "consumes_quota"],
    "group": ["name"],
    "group_snapshot": ["name", "status", "group_id"],
    "attachment": ["volume_id", "status", "instance_id", "attach_status"],
    "message": ["resource_uuid", "resource_type", "event_id",
                "request_id", "message_level"],
    "pool": ["name", "volume_type"],
    "volume_type": ["is_public", "extra_specs"]
})";

Result<ResourceFilterList> ParseFilters(const std::string& text) {
  CINDER_ASSIGN_OR_RETURN(json::Value doc, json::Parse(text));
  if (!doc.is_object()) return InvalidArgument("not a JSON object");
  ResourceFilterList out;
  for (const auto& [resource, filters] : doc.as_object()) {
    if (!filters.is_array()) return InvalidArgument("the filters of " + resource + " are not a list");
    std::vector<std::string> names;
    for (const json::Value& f : filters.as_array()) {
      if (!f.is_string()) return InvalidArgument("a filter of " + resource + " is not a string");
      names.push_back(f.as_string());
    }
    out.emplace_back(resource, std::move(names));
  }
  return out;
}

ResourceFilterList Load(const std::string& path) {
  if (path.empty()) return *ParseFilters(kDefaultFilters);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  Result<ResourceFilterList> filters =
      in ? ParseFilters(text.str()) : Result<ResourceFilterList>(NotFound("unreadable"));
  if (!filters.ok()) {
    CINDER_LOG(kError, "cinder-api") << "resource_query_filters_file " << path << ": " << filters.status().message()
                                     << "; no list filter is enabled for non-admins";
    return {};
  }
  return *std::move(filters);
}

// Parses `n` digits at s[*i]; false when they are not there.
bool Digits(const std::string& s, size_t* i, int n, int* out) {
  if (*i + n > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

}  // namespace

const ResourceFilterList& EnabledResourceFilters(const Options& options) {
  // Read once per path (Cinder reads its file once per process); entries live as long as the
  // process, so the reference stays valid.
  static std::mutex mu;
  static auto* loaded = new std::map<std::string, std::unique_ptr<ResourceFilterList>>();
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = (*loaded)[options.resource_query_filters_file];
  if (!slot) slot = std::make_unique<ResourceFilterList>(Load(options.resource_query_filters_file));
  return *slot;
}

bool FilterConfigured(const Options& options, const std::string& resource, const std::string& key) {
  for (const auto& [r, filters] : EnabledResourceFilters(options)) {
    if (r == resource && std::find(filters.begin(), filters.end(), key) != filters.end()) return true;
  }
  return false;
}

Status CheckConfiguredFilters(const Options& options, const ApiRequest& req, const std::string& resource,
                              const std::vector<std::string>& keys) {
  if (!req.version.AtLeast(3, 31) || keys.empty()) return Status::OK();
  for (const std::string& k : keys) {
    if (std::any_of(k.begin(), k.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
      return InvalidArgument("Filter keys can only contain ASCII characters.");
    }
  }
  if (req.ctx.is_admin) return Status::OK();
  const ResourceFilterList& all = EnabledResourceFilters(options);
  static const std::vector<std::string> kNone;
  const std::vector<std::string>* configured = &kNone;
  for (const auto& [r, filters] : all) {
    if (r == resource) configured = &filters;
  }
  auto has = [&](const std::string& k) {
    return std::find(configured->begin(), configured->end(), k) != configured->end();
  };
  const bool like = req.version.AtLeast(3, 34);
  std::vector<std::string> invalid;
  for (const std::string& k : keys) {
    if (!(has(k) || (like && has(k + "~")))) invalid.push_back(k);
  }
  if (invalid.empty()) return Status::OK();
  std::string list;
  for (const auto& n : invalid) list += (list.empty() ? "" : ",") + n;
  return InvalidArgument("Invalid filters " + list + " are found in query options.");
}

std::optional<std::string> ParseIsoTime(const std::string& s) {
  std::tm tm{};
  size_t i = 0;
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!Digits(s, &i, 4, &year)) return std::nullopt;
  const bool extended = i < s.size() && s[i] == '-';
  if (extended) ++i;
  if (!Digits(s, &i, 2, &month)) return std::nullopt;
  if (extended && (i >= s.size() || s[i++] != '-')) return std::nullopt;
  if (!Digits(s, &i, 2, &day)) return std::nullopt;
  int64_t micros = 0;
  int offset_minutes = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    ++i;
    if (!Digits(s, &i, 2, &hour)) return std::nullopt;
    if (i < s.size() && s[i] == ':') ++i;
    if (!Digits(s, &i, 2, &minute)) return std::nullopt;
    if (i < s.size() && s[i] == ':') ++i;
    if (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (!Digits(s, &i, 2, &second)) return std::nullopt;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        int n = 0;
        int64_t frac = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
          if (n < 6) frac = frac * 10 + (s[i] - '0'), ++n;
          ++i;
        }
        if (n == 0) return std::nullopt;
        while (n++ < 6) frac *= 10;
        micros = frac;
      }
    }
    if (i < s.size() && s[i] == 'Z') {
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      const int sign = s[i++] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!Digits(s, &i, 2, &oh)) return std::nullopt;
      if (i < s.size() && s[i] == ':') ++i;
      if (i < s.size() && !Digits(s, &i, 2, &om)) return std::nullopt;
      offset_minutes = sign * (oh * 60 + om);
    }
  }
  if (i != s.size()) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t t = timegm(&tm);
  // timegm normalises 31 February to March: such a day does not exist.
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_mday != day) return std::nullopt;
  t -= static_cast<std::time_t>(offset_minutes) * 60;
  gmtime_r(&t, &back);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", back.tm_year + 1900, back.tm_mon + 1,
                back.tm_mday, back.tm_hour, back.tm_min, back.tm_sec, static_cast<long long>(micros));
  return std::string(buf);
}

Result<std::vector<TimeComparison>> ParseTimeComparisons(const std::string& value) {
  static const char* kOps[] = {"gt", "gte", "eq", "neq", "lt", "lte"};
  std::map<std::string, std::string> by_op;  // a later comparison of the same op wins, as in Cinder's dict
  std::vector<std::string> order;
  size_t start = 0;
  while (true) {
    size_t comma = value.find(',', start);
    std::string unit = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    // Cinder splits at ':' and joins everything after the first piece back: "op:time".
    size_t colon = unit.find(':');
    std::string op = unit.substr(0, colon);
    std::string time = colon == std::string::npos ? unit : unit.substr(colon + 1);
    if (std::find(std::begin(kOps), std::end(kOps), op) == std::end(kOps)) {
      return InvalidArgument("Invalid " + op + " operator");
    }
    std::optional<std::string> parsed = ParseIsoTime(time);
    if (!parsed) return InvalidArgument("Invalid " + time + " value");
    if (!by_op.count(op)) order.push_back(op);
    by_op[op] = *parsed;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::vector<TimeComparison> out;
  for (const std::string& op : order) out.push_back({op, by_op[op]});
  return out;
}

ApiResponse HandleResourceFilters(const Options& options, ApiRequest& req, const std::vector<std::string>& rest) {
  if (!req.version.AtLeast(3, 33)) return Fault(404, "The resource could not be found.");
  if (!rest.empty()) return Fault(404, "The resource could not be found.");
  if (req.method != "GET") return Fault(405, "The method is not allowed.");
  const ResourceFilterList& all = EnabledResourceFilters(options);
  std::optional<std::string> resource = req.Query("resource");
  JsonWriter w;
  w.BeginObject().Key("resource_filters").BeginArray();
  for (const auto& [r, filters] : all) {
    // Cinder: ?resource=R shows R alone, nothing when R is not configured; an empty value is
    // no value.
    if (resource && !resource->empty() && *resource != r) continue;
    w.BeginObject();
    w.Key("filters").BeginArray();
    for (const auto& f : filters) w.String(f);
    w.EndArray();
    w.Key("resource").String(r);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return Json(200, w.Take());
}

}  // namespace cinder::api

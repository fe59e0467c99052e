// What every resource of the API shares, as cinder/api/common.py and its schema validators:
// request bodies (common/json) and Cinder's messages about them, list parameters, links.
#ifndef CINDER_API_COMMON_H_
#define CINDER_API_COMMON_H_

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"
#include "cinder/volume.h"
#include "common/json.h"
#include "common/json_writer.h"

namespace cinder::api {

// ---- request bodies --------------------------------------------------------------------------

// The body as a JSON object (json::Parse: a repeated key keeps its last value, as Python's
// json does); "Malformed request body" for anything else: not JSON, not an object, invalid
// UTF-8, nested deeper than 64, a number too large for a double.
Result<json::Value> ParseBody(const ApiRequest& req);
// The member `key` of object `o`; null when there is none, as Python's dict.get() answers.
const json::Value& Get(const json::Value& o, std::string_view key);
// Python's repr() and str() of a JSON value, as Cinder's jsonschema messages print them.
std::string PyRepr(const json::Value& v);
std::string PyStr(const json::Value& v);
// Cinder's schema error: "Invalid input for field/attribute F. Value: V. MESSAGE".
Status FieldError(const std::string& field, const json::Value& v, const std::string& message);
// The object under `key` (the resource wrapper, e.g. {"volume": {...}}); it lives in `body`.
Result<const json::Value*> Member(const json::Value& body, const std::string& key);
// A string field: nullopt when absent; null is allowed when `nullable`.
Result<std::optional<std::string>> OptString(const json::Value& o, const std::string& key, bool nullable,
                                             size_t max_len = 255);
// A size in GiB, as Cinder's schema (parameter_types.volume_size) takes it: an integer or a
// string of digits, from 1 to 2147483647. `types` is the type list its message names.
Result<int64_t> ParseSize(const json::Value& v, const std::string& field, const std::string& types);
// parameter_types.boolean: a JSON bool or one of oslo's strings.
Result<bool> BodyBool(const std::string& field, const json::Value& v);
bool ValidMetadataKey(const std::string& k);
// Cinder's metadata / extra_specs schema: keys ^[a-zA-Z0-9-_:. /]{1,255}$, string values up
// to 255. Members are checked in key order; the first bad one is the answer.
Result<Metadata> ParseMetadata(const json::Value& v, const std::string& field);
// The fields of a volume or group type create: `name` (required, not blank), `description`,
// the specs map under `specs_key`, the public flag under `public_key`; Cinder's schema errors.
struct TypeFields {
  std::string name;
  std::optional<std::string> description;
  std::optional<Metadata> specs;
  std::optional<bool> is_public;
};
Result<TypeFields> ParseTypeFields(const json::Value& o, const std::string& specs_key, const std::string& public_key);

// ---- query parameters ------------------------------------------------------------------------

// oslo's bool_from_string, strict: "Invalid value 'x' for NAME: must be true or false."
Result<bool> ParseBool(const std::string& name, const std::string& v);
Result<int64_t> ParseLimit(const std::string& v);
// The consumes_quota list filter of volumes and snapshots (Cinder's get_bool_param: "Value 'x'
// for 'use_quota' is not a boolean.", named here as the caller sent it).
Result<bool> UseQuotaFilter(const std::string& v);
// A boolean query parameter (ParseBool's rules); `absent` when the request has none.
Result<bool> QueryBool(const ApiRequest& req, const std::string& name, bool absent = false);
// Cinder's get_sort_params: "sort=k1:dir,k2" or the deprecated sort_key/sort_dir (not both).
Status ParseSortParams(const std::optional<std::string>& sort, const std::optional<std::string>& sort_key,
                       const std::optional<std::string>& sort_dir, std::vector<SortKey>* out);
// The paging and sorting parameters of every list (Cinder's get_pagination_params and
// get_sort_params): Take() each query parameter; it consumes those it knows.
class PagingParams {
 public:
  // True when `k` is limit, marker, offset (if allowed), sort, sort_key or sort_dir.
  bool Take(const std::string& k, const std::string& v);
  // The first bad value, or a bad sort.
  Status Finish();

  int64_t limit = -1;
  std::optional<std::string> marker;
  int64_t offset = 0;
  std::vector<SortKey> sort;
  bool allow_offset = false;

 private:
  Status error_;
  std::optional<std::string> sort_, sort_key_, sort_dir_;
};

// Cinder's api_utils._parse_is_public for the type lists: absent -> public only (true),
// "None" -> all (nullopt), else a strict boolean (400 "Invalid is_public filter [x]"). Cinder
// reads it for admins only; anyone else lists the public types (and the private ones shared
// with their project).
Result<std::optional<bool>> ParseIsPublic(const ApiRequest& req);

// Cinder's paginate_query over a list held in memory (the type lists: a few rows): sorted by
// `paging.sort` and then created_at and id (in the first key's direction, default descending),
// after the marker's row, past `offset`, at most `limit` (and max_limit). `value(item, key)` is
// an item's value of a sort key (nullopt: null, first when ascending); `keys` are the valid ones
// ("Invalid input received: Invalid sort key K" otherwise); `marker_row` reads the marker
// (NotFound as the resource's show says it).
template <class T, class Value, class MarkerRow>
Result<std::vector<T>> PageInMemory(std::vector<T> items, const PagingParams& paging, int64_t max_limit,
                                    const std::vector<std::string>& keys, Value value, MarkerRow marker_row) {
  std::vector<SortKey> sort = paging.sort;
  if (sort.empty()) sort.push_back({"created_at", false});
  for (const char* d : {"created_at", "id"}) {
    bool present = false;
    for (const SortKey& k : sort) present = present || k.key == d;
    if (!present) sort.push_back({d, sort.front().ascending});
  }
  for (const SortKey& k : sort) {
    bool known = false;
    for (const std::string& v : keys) known = known || v == k.key;
    if (!known) return InvalidArgument("Invalid input received: Invalid sort key " + k.key);
  }
  // <0, 0, >0 as a comes before, with, after b in the order.
  auto compare = [&](const T& a, const T& b) {
    for (const SortKey& k : sort) {
      std::optional<std::string> x = value(a, k.key), y = value(b, k.key);
      int c = x == y ? 0 : !x ? -1 : !y ? 1 : (*x < *y ? -1 : 1);
      if (c != 0) return k.ascending ? c : -c;
    }
    return 0;
  };
  std::stable_sort(items.begin(), items.end(), [&](const T& a, const T& b) { return compare(a, b) < 0; });
  size_t first = 0;
  if (paging.marker) {
    CINDER_ASSIGN_OR_RETURN(T marker, marker_row(*paging.marker));
    while (first < items.size() && compare(items[first], marker) <= 0) ++first;
  }
  first = std::min(items.size(), first + static_cast<size_t>(std::max<int64_t>(0, paging.offset)));
  const int64_t limit = paging.limit < 0 ? max_limit : std::min(paging.limit, max_limit);
  const size_t last = std::min(items.size(), first + static_cast<size_t>(std::max<int64_t>(0, limit)));
  return std::vector<T>(std::make_move_iterator(items.begin() + first), std::make_move_iterator(items.begin() + last));
}

// The jsonschema message for keys a schema does not allow: "Additional properties are not
// allowed ('a', 'b' were unexpected)" (sorted, as Python's set repr of them is here).
std::string Unexpected(std::vector<std::string> keys);

// The metadata filter of a list, as Cinder reads it with literal_eval: {'k': 'v'} or JSON.
Result<Metadata> ParseMetadataFilter(const std::string& text);

// "Invalid filters a,b are found in query options. Supported filters: S."
Status InvalidFilters(const std::vector<std::string>& names, const std::string& supported);

// ---- views -----------------------------------------------------------------------------------

// Cinder puts the project in links only when the request URL carried it.
std::string ProjectPart(const ApiRequest& req);
// The URL prefixes of a resource's self and bookmark links, computed once per request.
struct LinkPrefixes {
  LinkPrefixes(const ApiRequest& req, const std::string& collection);
  std::string self, bookmark;
  mutable std::string scratch;  // a link being written (one allocation for a whole list)
};
void WriteLinks(JsonWriter& w, const LinkPrefixes& links, const std::string& id);
// {"k": "v", ...}: metadata, extra specs, QoS keys.
void WriteStringMap(JsonWriter& w, const Metadata& map);
// The next page's URL: the request's parameters with marker moved to the end (webob's
// MultiDict), url-encoded as Python's urlencode does.
std::string NextLink(const ApiRequest& req, const std::string& collection, const std::string& marker);
// Cinder's _get_collection_links: "<key>": [{"rel": "next", "href": ...}] when the page is full
// (`shown` items against the page size `limit`, or the total when counting).
void WriteNextLink(JsonWriter& w, const ApiRequest& req, const char* key, const std::string& collection, int64_t limit,
                   int64_t shown, const std::string& last_id);
// The end of a list body, as Cinder's: a next link (`key`) whenever the page is full (counted
// against the total with `with_count`, 3.45), then "count" when asked for.
void WriteListEnd(JsonWriter& w, const ApiRequest& req, int64_t max_limit, const char* key,
                  const std::string& collection, int64_t requested_limit, bool with_count, int64_t count, size_t page,
                  const std::string& last_id);

}  // namespace cinder::api

#endif  // CINDER_API_COMMON_H_

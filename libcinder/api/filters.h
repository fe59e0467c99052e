// Cinder's configurable list filters (3.31, resource_query_filters_file), GET /resource_filters
// (3.33) and the time-comparison filter values of 3.60. Internal to libcinder/api.
#ifndef CINDER_API_FILTERS_H_
#define CINDER_API_FILTERS_H_

#include <string>
#include <utility>
#include <vector>

#include "api/http.h"
#include "cinder/options.h"
#include "cinder/status.h"
#include "cinder/volume.h"

namespace cinder::api {

// Resource name -> the filters non-admins may use, in the file's order.
using ResourceFilterList = std::vector<std::pair<std::string, std::vector<std::string>>>;

// The filters `options` configure: its resource_query_filters_file, read once per path, or the
// built-in copy of Cinder's defaults. A file that cannot be read or parsed configures nothing
// (as Cinder: every filter of a non-admin is then refused) and is logged.
const ResourceFilterList& EnabledResourceFilters(const Options& options);

// Cinder's reject_invalid_filters: from 3.31 a non-admin's `keys` must be configured for
// `resource` (with 3.34, `key` is also allowed when "key~" is configured). InvalidArgument
// "Invalid filters a,b are found in query options." otherwise.
// Whether the configured filters of `resource` name `key`.
bool FilterConfigured(const Options& options, const std::string& resource, const std::string& key);
Status CheckConfiguredFilters(const Options& options, const ApiRequest& req, const std::string& resource,
                              const std::vector<std::string>& keys);

// A time filter's value (Cinder's _handle_time_comparison_filters): "op:time[,op:time...]",
// op one of gt, gte, eq, neq, lt, lte, time ISO 8601 (a zone offset is converted to UTC).
// InvalidArgument "Invalid X operator" / "Invalid X value" as Cinder.
Result<std::vector<TimeComparison>> ParseTimeComparisons(const std::string& value);

// An ISO 8601 time as Cinder's parse_isotime reads it (date, optional time with fraction,
// optional Z or +-hh[:mm]), as the store's UTC text; nullopt when it does not parse.
std::optional<std::string> ParseIsoTime(const std::string& text);

// GET /v3/{project}/resource_filters[?resource=R] (3.33).
ApiResponse HandleResourceFilters(const Options& options, ApiRequest& req, const std::vector<std::string>& rest);

}  // namespace cinder::api

#endif  // CINDER_API_FILTERS_H_

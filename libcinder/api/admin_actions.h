// Admin volume actions served outside volumes.cc (admin_actions.cc).
#ifndef CINDER_API_ADMIN_ACTIONS_H_
#define CINDER_API_ADMIN_ACTIONS_H_

#include <string>
#include <vector>

#include "api/http.h"
#include "cinder/volume_manager.h"
#include "common/json.h"

namespace cinder::api {

// os-migrate_volume (admin), as cinder/api/contrib/admin_actions.py's _migrate_volume.
ApiResponse MigrateVolumeAction(VolumeManager& volumes, const ApiRequest& req, const std::string& id,
                                const json::Value& arg);
// os-migrate_volume_completion (admin): 200 {"save_volume_id": ...}.
ApiResponse MigrateVolumeCompletionAction(VolumeManager& volumes, const ApiRequest& req, const std::string& id,
                                          const json::Value& arg);
// POST /workers/cleanup (3.24, admin), as cinder/api/v3/workers.py; 404 otherwise.
ApiResponse HandleWorkers(VolumeManager& volumes, ApiRequest& req, const std::vector<std::string>& rest);

}  // namespace cinder::api

#endif  // CINDER_API_ADMIN_ACTIONS_H_

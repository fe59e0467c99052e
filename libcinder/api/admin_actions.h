// Admin volume actions served outside volumes.cc (admin_actions.cc).
#ifndef CINDER_API_ADMIN_ACTIONS_H_
#define CINDER_API_ADMIN_ACTIONS_H_

#include <string>

#include "api/http.h"
#include "cinder/volume_manager.h"
#include "common/json.h"

namespace cinder::api {

// os-migrate_volume (admin), as cinder/api/contrib/admin_actions.py's _migrate_volume.
ApiResponse MigrateVolumeAction(VolumeManager& volumes, const ApiRequest& req, const std::string& id,
                                const json::Value& arg);

}  // namespace cinder::api

#endif  // CINDER_API_ADMIN_ACTIONS_H_

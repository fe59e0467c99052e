// Which AuthManager the API uses: none (noauth), the built-in identity service, or an external
// Keystone ([keystone_authtoken] auth_url set: tokens validated there as keystonemiddleware
// validates them, Cinder's policy applied here; identity administration answers 501).
#ifndef CINDER_API_AUTHTOKEN_H_
#define CINDER_API_AUTHTOKEN_H_

#include <memory>

#include "api/server.h"
#include "cinder/auth_manager.h"
#include "cinder/options.h"

namespace cinder::api {

// nullptr under auth_strategy noauth.
Result<std::unique_ptr<AuthManager>> OpenAuth(const Options& options);
// True when tokens come from an external Keystone (the API then serves no /identity).
bool ExternalIdentity(const Options& options);
// Binds the built-in identity service's own listener ([identity] listen_port on
// osapi_volume_listen's address); nullptr when there is none to open. Serve it with the API's
// VolumeManager and AuthManager.
Result<std::unique_ptr<ApiServer>> ListenIdentity(const Options& options);

}  // namespace cinder::api

#endif  // CINDER_API_AUTHTOKEN_H_

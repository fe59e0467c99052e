// The built-in identity service's REST API: a Keystone v3 subset (discovery, tokens, catalog,
// domains, projects, users, groups, roles, grants, role assignments, services and endpoints),
// in Keystone's JSON and error bodies, over an AuthManager.
#ifndef CINDER_API_IDENTITY_H_
#define CINDER_API_IDENTITY_H_

#include <string>
#include <vector>

#include "api/http.h"
#include "cinder/auth_manager.h"
#include "cinder/options.h"

namespace cinder::api {

// Answers a request whose path, below the identity service's root (/identity on the API's
// port, / on its own listener), is `rest` ("v3", "auth", "tokens" ...). `root` is the URL of
// that root as the client reached it ("http://h:8776/identity").
ApiResponse HandleIdentity(const Options& options, AuthManager& auth, ApiRequest& req,
                           const std::vector<std::string>& rest, const std::string& root);

// The API's URL as clients reach it: [DEFAULT] public_endpoint, else the request's host URL.
std::string PublicRoot(const Options& options, const ApiRequest& req);

// An image service that holds no image (the catalog's "image" when glance_api_servers is
// unset): Glance's version document and empty lists, 404 for the rest. `rest` is the path
// below /image.
ApiResponse HandleEmptyImageService(const ApiRequest& req, const std::vector<std::string>& rest,
                                    const std::string& root);

// Keystone's 401 (its body, and WWW-Authenticate naming `identity_root`/v3).
ApiResponse KeystoneUnauthorized(const std::string& identity_root);

// A service of the catalog (from the configuration): a per-project URL holds "$(project_id)s",
// as Keystone's endpoints are registered.
struct CatalogService {
  std::string type;
  std::string name;
  std::string url;
  std::string id;  // stable: derived from the type
};
inline constexpr const char* kCatalogInterfaces[] = {"public", "internal", "admin"};
std::vector<CatalogService> CatalogServices(const Options& options, const std::string& volume_root,
                                            const std::string& identity_root);
std::string CatalogEndpointId(const CatalogService& svc, const std::string& interface);

// The catalog a token scoped to `project_id` ("" for other scopes: the volume endpoints are
// left out) carries: block-storage and volumev3 at <volume_root>/v3/<project_id>, identity at
// <identity_root>, each with a public, internal and admin endpoint in the configured region.
std::string CatalogJson(const Options& options, const std::string& volume_root, const std::string& identity_root,
                        const std::string& project_id);

}  // namespace cinder::api

#endif  // CINDER_API_IDENTITY_H_

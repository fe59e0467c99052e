// The metadata subresources shared by volumes and snapshots.
#ifndef CINDER_API_METADATA_H_
#define CINDER_API_METADATA_H_

#include <functional>
#include <string>

#include "api/common.h"
#include "api/http.h"
#include "cinder/volume.h"

namespace cinder::api {

// How to reach one resource's metadata.
struct MetadataOps {
  std::string resource;  // "Volume", "Snapshot": names it in Cinder's not-found message
  bool etags = false;    // ETag / If-Match (volumes from 3.15)
  std::function<Result<Metadata>()> get;
  std::function<Result<Metadata>(const Metadata&, bool replace)> update;
  // POST .../metadata when it is not update(md, false) (volumes: a rule of its own).
  std::function<Result<Metadata>(const Metadata&)> create;
  std::function<Status(const std::string& key)> remove;
};

// {"<key>": {...}}
std::string MetadataBody(const char* key, const Metadata& md);
// .../metadata: GET, POST (merge), PUT (replace).
ApiResponse MetadataCollection(ApiRequest& req, const std::string& id, const MetadataOps& ops);
// .../metadata/{key}: GET, PUT, DELETE.
ApiResponse MetadataItem(ApiRequest& req, const std::string& id, const std::string& key, const MetadataOps& ops);

}  // namespace cinder::api

#endif  // CINDER_API_METADATA_H_

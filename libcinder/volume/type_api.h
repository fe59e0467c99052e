// TypeApi: volume types and their extra specs, as cinder/volume/volume_types.py and the types
// API controllers check them. The VolumeManager forwards to it.
#ifndef CINDER_VOLUME_TYPE_API_H_
#define CINDER_VOLUME_TYPE_API_H_

#include <optional>
#include <string>
#include <vector>

#include "auth/policy.h"
#include "cinder/context.h"
#include "cinder/volume.h"
#include "db/store.h"

namespace cinder {

class TypeApi {
 public:
  // `default_type`: the default_volume_type option (a name or id).
  TypeApi(Store* store, const auth::Policy* policy, std::string default_type)
      : store_(store), policy_(policy), default_type_(std::move(default_type)) {}

  // Admins see every type (or those of `is_public`), others the public ones.
  Result<std::vector<VolumeType>> List(const RequestContext& ctx, const std::optional<bool>& is_public);
  // `id` may be "default" (the default type).
  Result<VolumeType> Get(const RequestContext& ctx, const std::string& id);
  // Admin. AlreadyExists for a taken name.
  Result<VolumeType> Create(const RequestContext& ctx, const VolumeType& request);
  Result<VolumeType> Update(const RequestContext& ctx, const std::string& id, const std::optional<std::string>& name,
                            const std::optional<std::string>& description, const std::optional<bool>& is_public);
  // Admin. FailedPrecondition for the default type or one in use.
  Status Delete(const RequestContext& ctx, const std::string& id);
  // See VolumeManager::GetVolumeTypeExtraSpecs.
  Result<Metadata> GetExtraSpecs(const RequestContext& ctx, const std::string& id,
                                 const std::optional<std::string>& key);
  // Admin (`rule`: the create or the update rule). Merges `specs`; returns them.
  Result<Metadata> SetExtraSpecs(const RequestContext& ctx, const std::string& id, const Metadata& specs,
                                 const char* rule);
  // Admin. NotFound when the key is not set.
  Status DeleteExtraSpec(const RequestContext& ctx, const std::string& id, const std::string& key);

  // Private types' access lists (os-volume-type-access), admin.
  Result<std::vector<std::string>> ListAccess(const RequestContext& ctx, const std::string& id);
  Status AddAccess(const RequestContext& ctx, const std::string& id, const std::string& project);
  Status RemoveAccess(const RequestContext& ctx, const std::string& id, const std::string& project);
  // The type a volume of ctx's project gets when it names none: the project's own default
  // (3.62), else default_volume_type.
  Result<VolumeType> EffectiveDefault(const RequestContext& ctx);
  // The default-types API (admin). Setting an unknown type is InvalidArgument.
  Status SetProjectDefault(const RequestContext& ctx, const std::string& project, const std::string& type);
  Result<std::string> GetProjectDefault(const RequestContext& ctx, const std::string& project);
  Result<std::vector<std::pair<std::string, std::string>>> ListProjectDefaults(const RequestContext& ctx);
  Status UnsetProjectDefault(const RequestContext& ctx, const std::string& project);

  // Whether ctx may use `t` (public, admin, or a project on its access list).
  Result<bool> Usable(const RequestContext& ctx, const VolumeType& t);

 private:
  // The type ctx may use, by id or "default", without a rule of its own (Cinder's
  // volume_types.get_volume_type).
  Result<VolumeType> Find(const RequestContext& ctx, const std::string& id);
  Status Authorize(const RequestContext& ctx, const char* rule, const auth::PolicyTarget& target = {}) const {
    return policy_->Enforce(ctx, rule, target);
  }
  // The default-types API's checks: denied is "You are not authorized to perform this operation."
  Status AuthorizeProject(const RequestContext& ctx, const char* rule, const std::string& project) const;

  Store* store_;
  const auth::Policy* policy_;
  std::string default_type_;
};

}  // namespace cinder

#endif  // CINDER_VOLUME_TYPE_API_H_

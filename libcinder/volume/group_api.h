// GroupApi: generic volume groups' types (3.11), as cinder/volume/group_types.py and the
// group_types / group_specs controllers check them (Cinder's group:group_types:* and
// group:group_types_specs:* rules, admin_api by default). The VolumeManager forwards to it.
#ifndef CINDER_VOLUME_GROUP_API_H_
#define CINDER_VOLUME_GROUP_API_H_

#include <optional>
#include <string>
#include <vector>

#include "auth/policy.h"
#include "cinder/context.h"
#include "cinder/volume.h"
#include "db/store.h"

namespace cinder {

class GroupApi {
 public:
  // `default_group_type`: the option of that name (a group type's name; empty: none).
  GroupApi(Store* store, const auth::Policy* policy, std::string default_group_type)
      : store_(store), policy_(policy), default_group_type_(std::move(default_group_type)) {}

  // Non-admins see the public types; admins those of `is_public` (nullopt: all).
  Result<std::vector<GroupType>> ListTypes(const RequestContext& ctx, const std::optional<bool>& is_public);
  // `id` "default" is the type default_group_type names (NotFound "Default group type can not
  // be found." when it names none). A private type is NotFound for non-admins.
  Result<GroupType> GetType(const RequestContext& ctx, const std::string& id);
  // group:group_types:create. AlreadyExists for a taken name.
  Result<GroupType> CreateType(const RequestContext& ctx, const GroupType& request);
  // group:group_types:update. InvalidArgument when nothing is given or the name is blank.
  Result<GroupType> UpdateType(const RequestContext& ctx, const std::string& id, const std::optional<std::string>& name,
                               const std::optional<std::string>& description, const std::optional<bool>& is_public);
  // group:group_types:delete. FailedPrecondition while groups have the type.
  Status DeleteType(const RequestContext& ctx, const std::string& id);
  // group:group_types_specs:get_all / :get (with `key`: that one, NotFound when unset).
  Result<Metadata> GetTypeSpecs(const RequestContext& ctx, const std::string& id,
                                const std::optional<std::string>& key);
  // group:group_types_specs:create (several, POST) or :update (one, PUT); merges them.
  Status SetTypeSpecs(const RequestContext& ctx, const std::string& id, const Metadata& specs, bool update);
  // group:group_types_specs:delete. NotFound when the key is not set.
  Status DeleteTypeSpec(const RequestContext& ctx, const std::string& id, const std::string& key);

 private:
  // The type ctx may see (Cinder's group_types.get_group_type: non-admins the public ones).
  Result<GroupType> FindType(const RequestContext& ctx, const std::string& id);

  Store* store_;
  const auth::Policy* policy_;
  std::string default_group_type_;
};

}  // namespace cinder

#endif  // CINDER_VOLUME_GROUP_API_H_

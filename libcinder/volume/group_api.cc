#include "volume/group_api.h"

#include "common/util.h"

namespace cinder {

Result<std::vector<GroupType>> GroupApi::ListTypes(const RequestContext& ctx, const std::optional<bool>& is_public) {
  return store_->ListGroupTypes(ctx.is_admin ? is_public : std::optional<bool>(true));
}

Result<GroupType> GroupApi::FindType(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(GroupType t, store_->GetGroupType(id));
  if (!t.is_public && !ctx.is_admin) return NotFound("Group type " + id + " could not be found.");
  return t;
}

Result<GroupType> GroupApi::GetType(const RequestContext& ctx, const std::string& id) {
  if (id == "default") {
    // Cinder's get_default_group_type: by name, whatever the caller may otherwise see.
    if (default_group_type_.empty()) return NotFound("Default group type can not be found.");
    auto t = store_->GetGroupTypeByName(default_group_type_);
    if (!t.ok() && t.status().code() == Code::kNotFound) return NotFound("Default group type can not be found.");
    return t;
  }
  return FindType(ctx, id);
}

Result<GroupType> GroupApi::CreateType(const RequestContext& ctx, const GroupType& request) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:group_types:create", {}));
  GroupType t = request;
  t.id = NewUuid();
  t.created_at = NowIso();
  CINDER_RETURN_IF_ERROR(store_->CreateGroupType(t));
  return store_->GetGroupType(t.id);
}

Result<GroupType> GroupApi::UpdateType(const RequestContext& ctx, const std::string& id,
                                       const std::optional<std::string>& name,
                                       const std::optional<std::string>& description,
                                       const std::optional<bool>& is_public) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:group_types:update", {}));
  if (name && !name->empty() && Trim(*name).empty()) return InvalidArgument("Group type name can not be empty.");
  if (!name && !description && !is_public) {
    return InvalidArgument("Specify group type name, description or a combination thereof.");
  }
  CINDER_RETURN_IF_ERROR(store_->UpdateGroupType(id, name, description, is_public));
  return store_->GetGroupType(id);
}

Status GroupApi::DeleteType(const RequestContext& ctx, const std::string& id) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:group_types:delete", {}));
  CINDER_ASSIGN_OR_RETURN(GroupType t, FindType(ctx, id));
  return store_->DeleteGroupType(t.id);
}

Result<Metadata> GroupApi::GetTypeSpecs(const RequestContext& ctx, const std::string& id,
                                        const std::optional<std::string>& key) {
  CINDER_RETURN_IF_ERROR(
      policy_->Enforce(ctx, key ? "group:group_types_specs:get" : "group:group_types_specs:get_all", {}));
  CINDER_ASSIGN_OR_RETURN(GroupType t, FindType(ctx, id));
  if (!key) return t.group_specs;
  auto it = t.group_specs.find(*key);
  if (it == t.group_specs.end()) return NotFound("Group Type " + id + " has no extra spec with key " + *key + ".");
  return Metadata{*it};
}

Status GroupApi::SetTypeSpecs(const RequestContext& ctx, const std::string& id, const Metadata& specs, bool update) {
  CINDER_RETURN_IF_ERROR(
      policy_->Enforce(ctx, update ? "group:group_types_specs:update" : "group:group_types_specs:create", {}));
  CINDER_ASSIGN_OR_RETURN(GroupType t, FindType(ctx, id));
  return store_->SetGroupTypeSpecs(t.id, specs);
}

Status GroupApi::DeleteTypeSpec(const RequestContext& ctx, const std::string& id, const std::string& key) {
  CINDER_RETURN_IF_ERROR(policy_->Enforce(ctx, "group:group_types_specs:delete", {}));
  CINDER_ASSIGN_OR_RETURN(GroupType t, FindType(ctx, id));
  return store_->DeleteGroupTypeSpec(t.id, key);
}

}  // namespace cinder

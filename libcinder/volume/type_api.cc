#include "volume/type_api.h"

#include <algorithm>

#include "cinder/volume_manager.h"
#include "common/util.h"
#include "volume/policy_checks.h"

namespace cinder {

Result<std::vector<VolumeType>> TypeApi::List(const RequestContext& ctx, const std::optional<bool>& is_public) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume_extension:type_get_all"));
  if (ctx.is_admin) return store_->ListVolumeTypes(is_public);
  return store_->ListVolumeTypes(true, ctx.project_id);  // public ones and the private ones it may use
}

Result<bool> TypeApi::Usable(const RequestContext& ctx, const VolumeType& t) {
  if (t.is_public || ctx.is_admin) return true;
  CINDER_ASSIGN_OR_RETURN(auto projects, store_->ListTypeAccess(t.id));
  return std::find(projects.begin(), projects.end(), ctx.project_id) != projects.end();
}

Result<std::vector<std::string>> TypeApi::ListAccess(const RequestContext& ctx, const std::string& id) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume_extension:volume_type_access:get_all_for_type"));
  CINDER_ASSIGN_OR_RETURN(VolumeType t, Find(ctx, id));
  if (t.is_public) return NotFound("Access list not available for public volume types.");
  return store_->ListTypeAccess(t.id);
}

Status TypeApi::AddAccess(const RequestContext& ctx, const std::string& id, const std::string& project) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume_extension:volume_type_access:addProjectAccess"));
  CINDER_ASSIGN_OR_RETURN(VolumeType t, Find(ctx, id));
  if (t.is_public) {
    return FailedPrecondition("Invalid volume type: Type access modification is not applicable to public volume type.");
  }
  return store_->AddTypeAccess(t.id, project);
}

Status TypeApi::RemoveAccess(const RequestContext& ctx, const std::string& id, const std::string& project) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume_extension:volume_type_access:removeProjectAccess"));
  CINDER_ASSIGN_OR_RETURN(VolumeType t, Find(ctx, id));
  if (t.is_public) {
    return FailedPrecondition("Invalid volume type: Type access modification is not applicable to public volume type.");
  }
  return store_->RemoveTypeAccess(t.id, project);
}

Result<VolumeType> TypeApi::Find(const RequestContext& ctx, const std::string& id) {
  if (id == "default") {
    auto t = EffectiveDefault(ctx);
    if (!t.ok() && t.status().code() == Code::kNotFound) return NotFound("Default volume type can not be found.");
    return t;
  }
  // By id only, as Cinder's show.
  CINDER_ASSIGN_OR_RETURN(VolumeType t, store_->GetVolumeType(id));
  if (t.id != id) return NotFound("Volume type " + id + " could not be found.");
  CINDER_ASSIGN_OR_RETURN(bool usable, Usable(ctx, t));
  if (!usable) return NotFound("Volume type " + id + " could not be found.");
  return t;
}

Result<VolumeType> TypeApi::Get(const RequestContext& ctx, const std::string& id) {
  CINDER_ASSIGN_OR_RETURN(VolumeType t, Find(ctx, id));
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume_extension:type_get", TypeTarget(t)));
  return t;
}

Result<VolumeType> TypeApi::Create(const RequestContext& ctx, const VolumeType& request) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume_extension:type_create"));
  VolumeType t = request;
  t.id = NewUuid();
  t.created_at = NowIso();
  CINDER_RETURN_IF_ERROR(store_->CreateVolumeType(t));
  return store_->GetVolumeType(t.id);
}

Result<VolumeType> TypeApi::Update(const RequestContext& ctx, const std::string& id,
                                   const std::optional<std::string>& name,
                                   const std::optional<std::string>& description,
                                   const std::optional<bool>& is_public) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume_extension:type_update"));
  if (name && Trim(*name).empty()) return InvalidArgument("Volume type name can not be empty.");
  if (!name && !description && !is_public) {
    return InvalidArgument("Specify volume type name, description, is_public or a combination thereof.");
  }
  CINDER_RETURN_IF_ERROR(store_->UpdateVolumeType(id, name, description, is_public));
  return store_->GetVolumeType(id);
}

Status TypeApi::Delete(const RequestContext& ctx, const std::string& id) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume_extension:type_delete"));
  CINDER_ASSIGN_OR_RETURN(VolumeType t, Find(ctx, id));
  if (t.name == Store::kDefaultVolumeType || t.name == default_type_ || t.id == default_type_) {
    return FailedPrecondition("The volume type " + t.id + " is a default volume type and cannot be deleted.");
  }
  return store_->DeleteVolumeType(t.id);
}

Result<Metadata> TypeApi::GetExtraSpecs(const RequestContext& ctx, const std::string& id,
                                        const std::optional<std::string>& key) {
  CINDER_RETURN_IF_ERROR(
      Authorize(ctx, key ? "volume_extension:types_extra_specs:show" : "volume_extension:types_extra_specs:index"));
  CINDER_ASSIGN_OR_RETURN(VolumeType t, Find(ctx, id));
  Metadata specs;
  if (policy_->Allowed(ctx, "volume_extension:types_extra_specs:read_sensitive", {})) {
    specs = std::move(t.extra_specs);
  } else {
    for (const char* visible : kUserVisibleExtraSpecs) {
      if (auto it = t.extra_specs.find(visible); it != t.extra_specs.end()) specs.insert(*it);
    }
  }
  if (!key) return specs;
  auto it = specs.find(*key);
  if (it == specs.end()) return NotFound("Volume Type " + t.id + " has no extra specs with key " + *key + ".");
  return Metadata{*it};
}

Result<Metadata> TypeApi::SetExtraSpecs(const RequestContext& ctx, const std::string& id, const Metadata& specs,
                                        const char* rule) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, rule));
  CINDER_ASSIGN_OR_RETURN(VolumeType t, Find(ctx, id));
  CINDER_RETURN_IF_ERROR(store_->SetExtraSpecs(t.id, specs));
  return specs;
}

Status TypeApi::DeleteExtraSpec(const RequestContext& ctx, const std::string& id, const std::string& key) {
  CINDER_RETURN_IF_ERROR(Authorize(ctx, "volume_extension:types_extra_specs:delete"));
  CINDER_ASSIGN_OR_RETURN(VolumeType t, Find(ctx, id));
  CINDER_ASSIGN_OR_RETURN(bool found, store_->DeleteExtraSpec(t.id, key));
  if (!found) return NotFound("Volume Type " + t.id + " has no extra specs with key " + key + ".");
  return Status::OK();
}

Result<VolumeType> TypeApi::EffectiveDefault(const RequestContext& ctx) {
  CINDER_ASSIGN_OR_RETURN(auto own, store_->GetProjectDefaultType(ctx.project_id));
  if (own) {
    auto t = store_->GetVolumeType(*own);
    if (t.ok()) return t;
  }
  auto t = store_->GetVolumeType(default_type_);
  if (!t.ok() && t.status().code() == Code::kNotFound) {
    // The operator's default_volume_type names no type (Cinder's 500 of the same words).
    return Internal("The request cannot be fulfilled as the default volume type " + default_type_ +
                    " cannot be found.");
  }
  return t;
}

Status TypeApi::AuthorizeProject(const RequestContext& ctx, const char* rule, const std::string& project) const {
  if (policy_->Allowed(ctx, rule, ProjectTarget(project))) return Status::OK();
  return PermissionDenied("You are not authorized to perform this operation.");
}

Status TypeApi::SetProjectDefault(const RequestContext& ctx, const std::string& project, const std::string& type) {
  CINDER_RETURN_IF_ERROR(AuthorizeProject(ctx, "volume_extension:default_set_or_update", project));
  auto t = store_->GetVolumeType(type);
  if (!t.ok()) {
    return t.status().code() == Code::kNotFound ? InvalidArgument(t.status().message()) : t.status();
  }
  return store_->SetProjectDefaultType(project, t->id);
}

Result<std::string> TypeApi::GetProjectDefault(const RequestContext& ctx, const std::string& project) {
  CINDER_RETURN_IF_ERROR(AuthorizeProject(ctx, "volume_extension:default_get", project));
  CINDER_ASSIGN_OR_RETURN(auto own, store_->GetProjectDefaultType(project));
  if (!own) return NotFound("Default type for project " + project + " not found.");
  return *own;
}

Result<std::vector<std::pair<std::string, std::string>>> TypeApi::ListProjectDefaults(const RequestContext& ctx) {
  if (!policy_->Allowed(ctx, "volume_extension:default_get_all", {})) {
    return PermissionDenied("You are not authorized to perform this operation.");
  }
  return store_->ListProjectDefaultTypes();
}

Status TypeApi::UnsetProjectDefault(const RequestContext& ctx, const std::string& project) {
  CINDER_RETURN_IF_ERROR(AuthorizeProject(ctx, "volume_extension:default_unset", project));
  return store_->UnsetProjectDefaultType(project);
}

}  // namespace cinder

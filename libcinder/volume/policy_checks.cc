#include "volume/policy_checks.h"

namespace cinder {

namespace {

// Python's str() of the values obj_to_primitive gives.
std::string Py(const std::optional<std::string>& v) { return v ? *v : "None"; }
std::string Py(bool v) { return v ? "True" : "False"; }
std::string OrNone(const std::string& v) { return v.empty() ? "None" : v; }

}  // namespace

auth::PolicyTarget VolumeTarget(const Volume& v) {
  return {{"id", v.id},
          {"project_id", v.project_id},
          {"user_id", v.user_id},
          {"host", OrNone(v.host)},
          {"size", std::to_string(v.size)},
          {"availability_zone", v.availability_zone},
          {"status", v.status},
          {"attach_status", v.attach_status},
          {"migration_status", Py(v.migration_status)},
          {"display_name", v.has_name ? v.name : "None"},
          {"display_description", v.has_description ? v.description : "None"},
          {"volume_type_id", OrNone(v.volume_type_id)},
          {"snapshot_id", Py(v.snapshot_id)},
          {"source_volid", Py(v.source_volid)},
          {"bootable", Py(v.bootable)},
          {"multiattach", Py(v.multiattach)}};
}

auth::PolicyTarget SnapshotTarget(const Snapshot& s) {
  return {{"id", s.id},
          {"volume_id", s.volume_id},
          {"project_id", s.project_id},
          {"user_id", s.user_id},
          {"status", s.status},
          {"progress", s.progress},
          {"volume_size", std::to_string(s.size)},
          {"display_name", Py(s.name)},
          {"display_description", Py(s.description)},
          {"volume_type_id", OrNone(s.volume_type_id)},
          {"use_quota", Py(s.use_quota)}};
}

auth::PolicyTarget AttachmentTarget(const Attachment& a, const std::string& project_id) {
  return {{"id", a.id},
          {"volume_id", a.volume_id},
          {"project_id", project_id},
          {"instance_uuid", Py(a.instance_uuid)},
          {"attached_host", Py(a.attached_host)},
          {"mountpoint", Py(a.mountpoint)},
          {"attach_status", a.attach_status},
          {"attach_mode", Py(a.attach_mode)}};
}

auth::PolicyTarget MessageTarget(const Message& m) {
  return {{"id", m.id},
          {"project_id", m.project_id},
          {"request_id", m.request_id},
          {"resource_type", m.resource_type},
          {"resource_uuid", Py(m.resource_uuid)},
          {"event_id", m.event_id},
          {"message_level", m.message_level}};
}

auth::PolicyTarget TypeTarget(const VolumeType& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"is_public", Py(t.is_public)},
          {"description", Py(t.description)},
          {"qos_specs_id", Py(t.qos_specs_id)}};
}

auth::PolicyTarget ProjectTarget(const std::string& project) { return {{"project_id", project}}; }

Result<Volume> GetVisibleVolume(Store& store, const auth::Policy& policy, const RequestContext& ctx,
                                const std::string& id, const ProjectScope& scope) {
  CINDER_ASSIGN_OR_RETURN(Volume v, store.GetVolume(id, scope));
  if (!policy.Allowed(ctx, "volume:get", VolumeTarget(v))) return NotFound("Volume " + id + " could not be found.");
  return v;
}

}  // namespace cinder

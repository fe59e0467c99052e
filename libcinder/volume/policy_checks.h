// What the API side of this folder asks of the policy (auth/policy.h), as Cinder's
// context.authorize: the rule's target is the resource's fields (obj_to_primitive), so that
// %(project_id)s is the resource's project and the other fields are there for rules that name
// them; a null field reads as Python's None. The caller's project_id and user_id fill what a
// target lacks (a volume type has no project: the caller's).
#ifndef CINDER_VOLUME_POLICY_CHECKS_H_
#define CINDER_VOLUME_POLICY_CHECKS_H_

#include <string>

#include "auth/policy.h"
#include "cinder/message.h"
#include "cinder/volume.h"
#include "db/store.h"

namespace cinder {

auth::PolicyTarget VolumeTarget(const Volume& v);
auth::PolicyTarget SnapshotTarget(const Snapshot& s);
// An attachment's project is its volume's.
auth::PolicyTarget AttachmentTarget(const Attachment& a, const std::string& project_id);
auth::PolicyTarget MessageTarget(const Message& m);
auth::PolicyTarget TypeTarget(const VolumeType& t);
// {"project_id": project}: the quota, limits and default-type rules' target.
auth::PolicyTarget ProjectTarget(const std::string& project);

// Cinder's volume_api.get: the volume `scope` shows, and only when volume:get passes on it;
// otherwise NotFound, "Volume <id> could not be found." (a volume the caller may not see does
// not exist for it).
Result<Volume> GetVisibleVolume(Store& store, const auth::Policy& policy, const RequestContext& ctx,
                                const std::string& id, const ProjectScope& scope);

}  // namespace cinder

#endif  // CINDER_VOLUME_POLICY_CHECKS_H_

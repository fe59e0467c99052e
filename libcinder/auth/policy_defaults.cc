// The rules' code defaults: Cinder 2023.1's (cinder/policies/*.py) and the Keystone 2023.1
// identity rules the built-in identity service enforces (keystone/common/policies/*.py). Each
// rule keeps its deprecated rule: with [oslo_policy] enforce_new_defaults = false a rule passes by
// either (oslo.policy 4.1), as Cinder 2023.1 deployed by default. docs/policy.md lists them.
#include "auth/policy_internal.h"

namespace cinder::auth::policy_internal {

namespace {

// cinder/policies/base.py's names for the check strings most rules share.
constexpr char kAdminApi[] = "rule:admin_api";
constexpr char kReader[] = "rule:xena_system_admin_or_project_reader";
constexpr char kMember[] = "rule:xena_system_admin_or_project_member";
constexpr char kAdminOrOwner[] = "rule:admin_or_owner";

// In policies.list_rules() order: base.list_rules() first, then one block per file. Where the
// deprecated rule has another name, that name's entry in a policy file still overrides the rule
// (oslo.policy's renamed-rule handling).
constexpr RuleDefault kCinderRules[] = {
    // cinder/policies/base.py
    {"admin_or_owner", "is_admin:True or (role:admin and is_admin_project:True) or project_id:%(project_id)s"},
    {"system_or_domain_or_project_admin",
     "(role:admin and system_scope:all) or (role:admin and domain_id:%(domain_id)s) or (role:admin and "
     "project_id:%(project_id)s)"},
    {"context_is_admin", "role:admin"},
    {"admin_api", "is_admin:True or (role:admin and is_admin_project:True)"},
    {"xena_system_admin_or_project_reader", "(role:admin) or (role:reader and project_id:%(project_id)s)"},
    {"xena_system_admin_or_project_member", "(role:admin) or (role:member and project_id:%(project_id)s)"},
    // cinder/policies/attachments.py
    {"volume:attachment_create", kMember, kSame, ""},
    {"volume:attachment_update", kMember, kSame, kAdminOrOwner},
    {"volume:attachment_delete", kMember, kSame, kAdminOrOwner},
    {"volume:attachment_complete", kMember, kSame, kAdminOrOwner},
    {"volume:multiattach_bootable_volume", kMember, kSame, kAdminOrOwner},
    // cinder/policies/messages.py
    {"message:get_all", kReader, kSame, kAdminOrOwner},
    {"message:get", kReader, kSame, kAdminOrOwner},
    {"message:delete", kMember, kSame, kAdminOrOwner},
    // cinder/policies/clusters.py
    {"clusters:get_all", kAdminApi},
    {"clusters:get", kAdminApi},
    {"clusters:update", kAdminApi},
    // cinder/policies/workers.py
    {"workers:cleanup", kAdminApi},
    // cinder/policies/snapshot_metadata.py
    {"volume:get_snapshot_metadata", kReader, kSame, kAdminOrOwner},
    {"volume:update_snapshot_metadata", kMember, kSame, kAdminOrOwner},
    {"volume:delete_snapshot_metadata", kMember, kSame, kAdminOrOwner},
    // cinder/policies/snapshots.py
    {"volume:get_all_snapshots", kReader, kSame, kAdminOrOwner},
    {"volume_extension:extended_snapshot_attributes", kReader, kSame, kAdminOrOwner},
    {"volume:create_snapshot", kMember, kSame, kAdminOrOwner},
    {"volume:get_snapshot", kReader, kSame, kAdminOrOwner},
    {"volume:update_snapshot", kMember, kSame, kAdminOrOwner},
    {"volume:delete_snapshot", kMember, kSame, kAdminOrOwner},
    // cinder/policies/snapshot_actions.py
    {"volume_extension:snapshot_admin_actions:reset_status", kAdminApi},
    {"snapshot_extension:snapshot_actions:update_snapshot_status", kMember, kSame, ""},
    {"volume_extension:snapshot_admin_actions:force_delete", kAdminApi},
    // cinder/policies/manageable_snapshots.py
    {"snapshot_extension:list_manageable", kAdminApi},
    {"snapshot_extension:snapshot_manage", kAdminApi},
    {"snapshot_extension:snapshot_unmanage", kAdminApi},
    // cinder/policies/backups.py
    {"backup:get_all", kReader, kSame, kAdminOrOwner},
    {"backup:backup_project_attribute", kAdminApi},
    {"backup:create", kMember, kSame, ""},
    {"backup:get", kReader, kSame, kAdminOrOwner},
    {"backup:update", kMember, kSame, kAdminOrOwner},
    {"backup:delete", kMember, kSame, kAdminOrOwner},
    {"backup:restore", kMember, kSame, kAdminOrOwner},
    {"backup:backup-import", kAdminApi},
    {"backup:export-import", kAdminApi},
    // cinder/policies/backup_actions.py
    {"volume_extension:backup_admin_actions:reset_status", kAdminApi},
    {"volume_extension:backup_admin_actions:force_delete", kAdminApi},
    // cinder/policies/groups.py
    {"group:get_all", kReader, kSame, kAdminOrOwner},
    {"group:create", kMember, kSame, ""},
    {"group:get", kReader, kSame, kAdminOrOwner},
    {"group:update", kMember, kSame, kAdminOrOwner},
    {"group:group_project_attribute", kAdminApi},
    // cinder/policies/group_types.py
    {"group:group_types:create", kAdminApi, "group:group_types_manage", kAdminApi},
    {"group:group_types:update", kAdminApi, "group:group_types_manage", kAdminApi},
    {"group:group_types:delete", kAdminApi, "group:group_types_manage", kAdminApi},
    {"group:access_group_types_specs", kAdminApi},
    {"group:group_types_specs:get", kAdminApi, "group:group_types_specs", kAdminApi},
    {"group:group_types_specs:get_all", kAdminApi, "group:group_types_specs", kAdminApi},
    {"group:group_types_specs:create", kAdminApi, "group:group_types_specs", kAdminApi},
    {"group:group_types_specs:update", kAdminApi, "group:group_types_specs", kAdminApi},
    {"group:group_types_specs:delete", kAdminApi, "group:group_types_specs", kAdminApi},
    // cinder/policies/group_snapshots.py
    {"group:get_all_group_snapshots", kReader, kSame, kAdminOrOwner},
    {"group:create_group_snapshot", kMember, kSame, ""},
    {"group:get_group_snapshot", kReader, kSame, kAdminOrOwner},
    {"group:delete_group_snapshot", kMember, kSame, kAdminOrOwner},
    {"group:update_group_snapshot", kMember, kSame, kAdminOrOwner},
    {"group:group_snapshot_project_attribute", kAdminApi},
    // cinder/policies/group_snapshot_actions.py
    {"group:reset_group_snapshot_status", kAdminApi},
    // cinder/policies/group_actions.py
    {"group:delete", kMember, kSame, kAdminOrOwner},
    {"group:reset_status", kAdminApi},
    {"group:enable_replication", kMember, kSame, kAdminOrOwner},
    {"group:disable_replication", kMember, kSame, kAdminOrOwner},
    {"group:failover_replication", kMember, kSame, kAdminOrOwner},
    {"group:list_replication_targets", kMember, kSame, kAdminOrOwner},
    // cinder/policies/qos_specs.py
    {"volume_extension:qos_specs_manage:get_all", kAdminApi},
    {"volume_extension:qos_specs_manage:get", kAdminApi},
    {"volume_extension:qos_specs_manage:create", kAdminApi},
    {"volume_extension:qos_specs_manage:update", kAdminApi},
    {"volume_extension:qos_specs_manage:delete", kAdminApi},
    // cinder/policies/quota_class.py
    {"volume_extension:quota_classes:get", kAdminApi, "volume_extension:quota_classes", kAdminApi},
    {"volume_extension:quota_classes:update", kAdminApi, "volume_extension:quota_classes", kAdminApi},
    // cinder/policies/quotas.py
    {"volume_extension:quotas:show", kReader, kSame, kAdminOrOwner},
    {"volume_extension:quotas:update", kAdminApi},
    {"volume_extension:quotas:delete", kAdminApi},
    // cinder/policies/capabilities.py
    {"volume_extension:capabilities", kAdminApi},
    // cinder/policies/services.py
    {"volume_extension:services:index", kAdminApi},
    {"volume_extension:services:update", kAdminApi},
    {"volume:freeze_host", kAdminApi},
    {"volume:thaw_host", kAdminApi},
    {"volume:failover_host", kAdminApi},
    // cinder/policies/scheduler_stats.py
    {"scheduler_extension:scheduler_stats:get_pools", kAdminApi},
    // cinder/policies/hosts.py
    {"volume_extension:hosts", kAdminApi},
    // cinder/policies/limits.py
    {"limits_extension:used_limits", kReader, kSame, kAdminOrOwner},
    // cinder/policies/manageable_volumes.py
    {"volume_extension:list_manageable", kAdminApi},
    {"volume_extension:volume_manage", kAdminApi},
    {"volume_extension:volume_unmanage", kAdminApi},
    // cinder/policies/volume_type.py
    {"volume_extension:type_create", kAdminApi, "volume_extension:types_manage", kAdminApi},
    {"volume_extension:type_update", kAdminApi, "volume_extension:types_manage", kAdminApi},
    {"volume_extension:type_delete", kAdminApi, "volume_extension:types_manage", kAdminApi},
    {"volume_extension:type_get", kReader, kSame, ""},
    {"volume_extension:type_get_all", kReader, kSame, ""},
    {"volume_extension:access_types_extra_specs", kReader, kSame, kAdminApi},
    {"volume_extension:access_types_qos_specs_id", kAdminApi},
    {"volume_extension:volume_type_encryption", kAdminApi},
    {"volume_extension:volume_type_encryption:create", kAdminApi, kSame,
     "rule:volume_extension:volume_type_encryption"},
    {"volume_extension:volume_type_encryption:get", kAdminApi, kSame, "rule:volume_extension:volume_type_encryption"},
    {"volume_extension:volume_type_encryption:update", kAdminApi, kSame,
     "rule:volume_extension:volume_type_encryption"},
    {"volume_extension:volume_type_encryption:delete", kAdminApi, kSame,
     "rule:volume_extension:volume_type_encryption"},
    // cinder/policies/volume_access.py
    {"volume_extension:volume_type_access", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_type_access:addProjectAccess", kAdminApi},
    {"volume_extension:volume_type_access:removeProjectAccess", kAdminApi},
    // Cinder's deprecated check string lacks its "rule:" (a generic check on a credential
    // named volume_extension, which never passes): kept as Cinder has it.
    {"volume_extension:volume_type_access:get_all_for_type", kAdminApi, kSame, "volume_extension:volume_type_access"},
    // cinder/policies/volume_actions.py
    {"volume:extend", kMember, kSame, kAdminOrOwner},
    {"volume:extend_attached_volume", kMember, kSame, kAdminOrOwner},
    {"volume:revert_to_snapshot", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_admin_actions:reset_status", kAdminApi},
    {"volume:retype", kMember, kSame, kAdminOrOwner},
    {"volume:update_readonly_flag", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_admin_actions:force_delete", kAdminApi},
    {"volume_extension:volume_actions:upload_public", kAdminApi},
    {"volume_extension:volume_actions:upload_image", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_admin_actions:force_detach", kAdminApi},
    {"volume_extension:volume_admin_actions:migrate_volume", kAdminApi},
    {"volume_extension:volume_admin_actions:migrate_volume_completion", kAdminApi},
    {"volume_extension:volume_actions:initialize_connection", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_actions:terminate_connection", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_actions:roll_detaching", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_actions:reserve", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_actions:unreserve", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_actions:begin_detaching", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_actions:attach", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_actions:detach", kMember, kSame, kAdminOrOwner},
    {"volume:reimage", kMember},
    {"volume:reimage_reserved", kMember},
    // cinder/policies/volume_transfer.py
    {"volume:get_all_transfers", kReader, kSame, kAdminOrOwner},
    {"volume:create_transfer", kMember, kSame, kAdminOrOwner},
    {"volume:get_transfer", kReader, kSame, kAdminOrOwner},
    {"volume:accept_transfer", kMember, kSame, ""},
    {"volume:delete_transfer", kMember, kSame, kAdminOrOwner},
    // cinder/policies/volume_metadata.py
    {"volume:get_volume_metadata", kReader, kSame, kAdminOrOwner},
    {"volume:create_volume_metadata", kMember, kSame, kAdminOrOwner},
    {"volume:update_volume_metadata", kMember, kSame, kAdminOrOwner},
    {"volume:delete_volume_metadata", kMember, kSame, kAdminOrOwner},
    {"volume_extension:volume_image_metadata:show", kReader, "volume_extension:volume_image_metadata", kAdminOrOwner},
    {"volume_extension:volume_image_metadata:set", kMember, "volume_extension:volume_image_metadata", kAdminOrOwner},
    {"volume_extension:volume_image_metadata:remove", kMember, "volume_extension:volume_image_metadata", kAdminOrOwner},
    {"volume:update_volume_admin_metadata", kAdminApi},
    // cinder/policies/type_extra_specs.py
    {"volume_extension:types_extra_specs:index", kReader, kSame, ""},
    {"volume_extension:types_extra_specs:create", kAdminApi},
    {"volume_extension:types_extra_specs:show", kReader, kSame, ""},
    {"volume_extension:types_extra_specs:read_sensitive", kAdminApi},
    {"volume_extension:types_extra_specs:update", kAdminApi},
    {"volume_extension:types_extra_specs:delete", kAdminApi},
    // cinder/policies/volumes.py
    {"volume:create", kMember, kSame, ""},
    {"volume:create_from_image", kMember, kSame, ""},
    {"volume:get", kReader, kSame, kAdminOrOwner},
    {"volume:get_all", kReader, kSame, kAdminOrOwner},
    {"volume:update", kMember, kSame, kAdminOrOwner},
    {"volume:delete", kMember, kSame, kAdminOrOwner},
    {"volume:force_delete", kAdminApi},
    {"volume_extension:volume_host_attribute", kAdminApi},
    {"volume_extension:volume_tenant_attribute", kReader, kSame, kAdminOrOwner},
    {"volume_extension:volume_mig_status_attribute", kAdminApi},
    {"volume_extension:volume_encryption_metadata", kReader, kSame, kAdminOrOwner},
    {"volume:multiattach", kMember, kSame, kAdminOrOwner},
    // cinder/policies/default_types.py
    {"volume_extension:default_set_or_update", kAdminApi, kSame, "rule:system_or_domain_or_project_admin"},
    {"volume_extension:default_get", kAdminApi, kSame, "rule:system_or_domain_or_project_admin"},
    {"volume_extension:default_get_all", kAdminApi, kSame, "role:admin and system_scope:all"},
    {"volume_extension:default_unset", kAdminApi, kSame, "rule:system_or_domain_or_project_admin"},
};

// keystone/common/policies/base.py
constexpr char kAdminRequired[] = "rule:admin_required";

constexpr RuleDefault kIdentityRules[] = {
    {"admin_required", "role:admin or is_admin:1"},
    {"service_role", "role:service"},
    {"service_or_admin", "rule:admin_required or rule:service_role"},
    {"owner", "user_id:%(user_id)s"},
    {"token_subject", "user_id:%(target.token.user_id)s"},
    {"admin_or_token_subject", "rule:admin_required or rule:token_subject"},
    {"service_admin_or_token_subject", "rule:service_or_admin or rule:token_subject"},
    // Keystone's own admin_or_owner ("rule:admin_required or rule:owner") would clash with
    // Cinder's rule of that name: the deprecated rules that used it spell it out.
    {"identity:create_project", kAdminRequired, kSame, kAdminRequired},
    {"identity:list_projects",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)",
     kSame, kAdminRequired},
    {"identity:get_project",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.project.domain_id)s) or project_id:%(target.project.id)s",
     kSame, "rule:admin_required or project_id:%(target.project.id)s"},
    {"identity:update_project", kAdminRequired, kSame, kAdminRequired},
    {"identity:delete_project", kAdminRequired, kSame, kAdminRequired},
    {"identity:create_user", kAdminRequired, kSame, kAdminRequired},
    {"identity:get_user",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s",
     kSame, "rule:admin_required or rule:owner"},
    {"identity:list_users",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)",
     kSame, kAdminRequired},
    {"identity:update_user", kAdminRequired, kSame, kAdminRequired},
    {"identity:delete_user", kAdminRequired, kSame, kAdminRequired},
    {"identity:list_user_projects",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.user.domain_id)s) or user_id:%(target.user.id)s",
     kSame, "rule:admin_required or rule:owner"},
    {"identity:get_domain",
     "rule:admin_required or (role:reader and system_scope:all) or token.domain.id:%(target.domain.id)s or "
     "token.project.domain.id:%(target.domain.id)s",
     kSame, "rule:admin_required or token.project.domain.id:%(target.domain.id)s"},
    {"identity:list_domains",
     "rule:admin_required or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain.id)s)",
     kSame, kAdminRequired},
    {"identity:create_domain", kAdminRequired, kSame, kAdminRequired},
    {"identity:update_domain", kAdminRequired, kSame, kAdminRequired},
    {"identity:delete_domain", kAdminRequired, kSame, kAdminRequired},
    {"identity:list_roles", "rule:admin_required or (role:reader and system_scope:all)", kSame, kAdminRequired},
    {"identity:get_role", "rule:admin_required or (role:reader and system_scope:all)", kSame, kAdminRequired},
    {"identity:create_role", kAdminRequired, kSame, kAdminRequired},
    {"identity:delete_role", kAdminRequired, kSame, kAdminRequired},
    {"identity:create_grant",
     "(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and "
     "domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.user.domain_id)s and "
     "domain_id:%(target.domain.id)s) or (role:admin and domain_id:%(target.group.domain_id)s and "
     "domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.group.domain_id)s and "
     "domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s)",
     kSame, kAdminRequired},
    {"identity:revoke_grant",
     "(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and "
     "domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.user.domain_id)s and "
     "domain_id:%(target.domain.id)s) or (role:admin and domain_id:%(target.group.domain_id)s and "
     "domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.group.domain_id)s and "
     "domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s)",
     kSame, kAdminRequired},
    {"identity:check_grant",
     "(rule:admin_required) or ((role:reader and system_scope:all) or ((role:reader and "
     "domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and "
     "domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:reader and "
     "domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and "
     "domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and "
     "(domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s))",
     kSame, kAdminRequired},
    {"identity:list_role_assignments",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)",
     kSame, kAdminRequired},
    {"identity:list_groups",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.group.domain_id)s)",
     kSame, kAdminRequired},
    {"identity:list_groups_for_user",
     "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and "
     "domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s",
     kSame, "rule:admin_required or rule:owner"},
    {"identity:validate_token",
     "rule:admin_required or (role:reader and system_scope:all) or rule:service_role or rule:token_subject", kSame,
     "rule:service_admin_or_token_subject"},
    {"identity:revoke_token", "rule:admin_required or rule:token_subject", kSame, "rule:admin_or_token_subject"},
    {"identity:check_token", "rule:admin_required or (role:reader and system_scope:all) or rule:token_subject", kSame,
     "rule:admin_or_token_subject"},
};

}  // namespace

std::span<const RuleDefault> CinderRuleDefaults() { return kCinderRules; }
std::span<const RuleDefault> IdentityRuleDefaults() { return kIdentityRules; }

}  // namespace cinder::auth::policy_internal

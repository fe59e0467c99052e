// Cinder's message vocabulary (cinder/message/message_field.py): resources, actions and
// details, whose ids form a user message's event id and whose texts its user_message.
#ifndef CINDER_COMMON_MESSAGE_FIELD_H_
#define CINDER_COMMON_MESSAGE_FIELD_H_

#include <string>

#include "cinder/message.h"

namespace cinder::message_field {

inline constexpr const char kResourceVolume[] = "VOLUME";
inline constexpr const char kResourceSnapshot[] = "VOLUME_SNAPSHOT";
inline constexpr const char kResourceBackup[] = "VOLUME_BACKUP";

// Action ids.
inline constexpr const char kScheduleAllocateVolume[] = "001";
inline constexpr const char kAttachVolume[] = "002";
inline constexpr const char kUpdateAttachment[] = "004";
inline constexpr const char kExtendVolume[] = "007";
inline constexpr const char kCreateVolumeFromBackend[] = "008";
inline constexpr const char kSnapshotCreate[] = "009";
inline constexpr const char kSnapshotDelete[] = "010";
inline constexpr const char kBackupCreate[] = "013";
inline constexpr const char kBackupDelete[] = "014";
inline constexpr const char kBackupRestore[] = "015";

// Detail ids.
inline constexpr const char kUnknownError[] = "001";
inline constexpr const char kDriverNotInitialized[] = "002";
inline constexpr const char kNoBackendAvailable[] = "003";
inline constexpr const char kQuotaExceed[] = "006";
inline constexpr const char kDriverFailedExtend[] = "010";
inline constexpr const char kDriverFailedCreate[] = "012";
inline constexpr const char kSnapshotCreateError[] = "013";
inline constexpr const char kSnapshotDeleteError[] = "016";
inline constexpr const char kAttachError[] = "021";
inline constexpr const char kDetachError[] = "022";
inline constexpr const char kBackupCreateDriverError[] = "020";
inline constexpr const char kBackupDeleteDriverError[] = "025";
inline constexpr const char kBackupRestoreError[] = "026";

// The texts of an action and a detail ("unknown action" / the unknown error's for others).
std::string ActionText(const std::string& action_id);
std::string DetailText(const std::string& detail_id);

// A new ERROR message about `resource_uuid` of `project_id`, expiring after ttl_seconds.
Message NewMessage(const std::string& project_id, const std::string& request_id, const std::string& resource_type,
                   const std::string& resource_uuid, const std::string& action_id, const std::string& detail_id,
                   int64_t ttl_seconds);

}  // namespace cinder::message_field

#endif  // CINDER_COMMON_MESSAGE_FIELD_H_

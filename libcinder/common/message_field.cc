#include "common/message_field.h"

#include <map>

#include "common/util.h"

namespace cinder {

namespace message_field {

namespace {

const std::map<std::string, std::string>& Actions() {
  static const std::map<std::string, std::string> kActions = {
      {"001", "schedule allocate volume"},
      {"002", "attach volume"},
      {"003", "copy volume to image"},
      {"004", "update attachment"},
      {"005", "copy image to volume"},
      {"006", "unmanage volume"},
      {"007", "extend volume"},
      {"008", "create volume from backend storage"},
      {"009", "create snapshot"},
      {"010", "delete snapshot"},
      {"011", "update snapshot"},
      {"012", "update snapshot metadata"},
      {"013", "create backup"},
      {"014", "delete backup"},
      {"015", "restore backup"},
      {"016", "reimage volume"},
  };
  return kActions;
}

const std::map<std::string, std::string>& Details() {
  static const std::map<std::string, std::string> kDetails = {
      {"001", "An unknown error occurred."},
      {"002", "Driver is not initialized at present."},
      {"003", "Could not find any available weighted backend."},
      {"004", "Failed to upload volume to image at backend."},
      {"005", "Volume's attach mode is invalid."},
      {"006", "Not enough quota resource for operation."},
      {"007", "Image used for creating volume exceeds available space."},
      {"008", "Unmanaging encrypted volumes is not supported."},
      {"009", "Compute service failed to extend volume."},
      {"010", "Volume Driver failed to extend volume."},
      {"011", "Image signature verification failed."},
      {"012", "Driver failed to create the volume."},
      {"013", "Snapshot failed to create."},
      {"014", "Volume snapshot update metadata failed."},
      {"015", "Snapshot is busy."},
      {"016", "Snapshot failed to delete."},
      {"017", "Backup status is invalid."},
      {"018", "Backup service is down."},
      {"019", "Failed to get backup device from the volume service."},
      {"020", "Backup driver failed to create backup."},
      {"021", "Failed to attach volume."},
      {"022", "Failed to detach volume."},
      {"023", "Cleanup of temporary volume/snapshot failed."},
      {"024", "Backup failed to schedule. Service not found for creating backup."},
      {"025", "Backup driver failed to delete backup."},
      {"026", "Backup driver failed to restore backup."},
      {"027", "Volume status is invalid."},
      {"028", "Compute service failed to reimage volume."},
      {"029",
       "The image disk format must be the same as the volume format for the volume type "
       "you are requesting."},
      {"030", "Incremental backup not possible, forcing full backup."},
  };
  return kDetails;
}

}  // namespace

std::string ActionText(const std::string& action_id) {
  auto it = Actions().find(action_id);
  return it == Actions().end() ? "unknown action" : it->second;
}

std::string DetailText(const std::string& detail_id) {
  auto it = Details().find(detail_id);
  return it == Details().end() ? Details().at(kUnknownError) : it->second;
}

Message NewMessage(const std::string& project_id, const std::string& request_id, const std::string& resource_type,
                   const std::string& resource_uuid, const std::string& action_id, const std::string& detail_id,
                   int64_t ttl_seconds) {
  Message m;
  m.id = NewUuid();
  m.project_id = project_id;
  m.request_id = request_id.empty() ? "req-" + NewUuid() : request_id;
  m.resource_type = resource_type;
  m.resource_uuid = resource_uuid;
  m.action_id = action_id;
  m.detail_id = detail_id;
  m.event_id = "VOLUME_" + resource_type + "_" + action_id + "_" + detail_id;
  m.message_level = "ERROR";
  m.created_at = NowIso();
  m.expires_at = IsoSecondsAgo(-ttl_seconds);  // ttl seconds from now
  return m;
}

}  // namespace message_field

std::string UserMessageText(const Message& m) {
  return message_field::ActionText(m.action_id) + ":" + message_field::DetailText(m.detail_id);
}

}  // namespace cinder

// User messages (API 3.3): what went wrong with asynchronous work a user asked for, in
// Cinder's event vocabulary, so that a volume in `error` says why.
#ifndef CINDER_MESSAGE_H_
#define CINDER_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cinder/volume.h"

namespace cinder {

struct Message {
  std::string id;
  std::string project_id;
  std::string request_id;     // the request whose work failed
  std::string resource_type;  // "VOLUME", "VOLUME_SNAPSHOT", "VOLUME_BACKUP"
  std::optional<std::string> resource_uuid;
  std::string action_id;  // Cinder's message_field.Action id, e.g. "001"
  std::string detail_id;  // Cinder's message_field.Detail id, e.g. "003"
  std::string event_id;   // "VOLUME_<resource_type>_<action_id>_<detail_id>"
  std::string message_level = "ERROR";
  std::string created_at;
  std::string expires_at;  // shown as guaranteed_until; removed some time after
};

// "<action text>:<detail text>", as Cinder builds user_message, e.g.
// "schedule allocate volume:Could not find any available weighted backend."
std::string UserMessageText(const Message& m);

struct MessageListQuery {
  std::optional<std::string> resource_uuid;
  std::optional<std::string> resource_type;
  std::optional<std::string> event_id;
  std::optional<std::string> request_id;
  std::optional<std::string> message_level;
  std::vector<SortKey> sort;  // default created_at desc, id desc
  int64_t limit = -1;         // -1: up to the configured maximum
  std::optional<std::string> marker;
  int64_t offset = 0;
};

struct MessageList {
  std::vector<Message> messages;
  bool more = false;
};

}  // namespace cinder

#endif  // CINDER_MESSAGE_H_

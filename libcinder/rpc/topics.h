// The topics libcinder's services serve, in one place: a service serves them, its RPC client
// sends to them, and the services table records them.
#ifndef CINDER_RPC_TOPICS_H_
#define CINDER_RPC_TOPICS_H_

#include <string>

namespace cinder::rpc {

// Every scheduler serves this one topic; a cast reaches one of them, a fanout all.
inline constexpr char kSchedulerTopic[] = "cinder-scheduler";

// The volume host of one backend: "cinder-volume.<host>@<backend>". Given a pool's host
// ("host@backend#pool"), the pool is dropped: the backend serves all its pools.
inline std::string VolumeTopic(const std::string& backend_or_pool_host) {
  return "cinder-volume." + backend_or_pool_host.substr(0, backend_or_pool_host.find('#'));
}

// One cinder-backup host: "cinder-backup.<host>" (the services table's host of the backup
// service; a backup row's `host`).
inline std::string BackupTopic(const std::string& host) { return "cinder-backup." + host; }

}  // namespace cinder::rpc

#endif  // CINDER_RPC_TOPICS_H_

// The backup hosts' RPC interface (Cinder's backup/rpcapi.py): the messages, BackupRpc to send
// them to one cinder-backup host, and BackupRpcServer for the service that answers them. All
// four are casts: the host records the outcome in the backup's row (Store::FinishBackup,
// FailBackup, FinishRestore, SoftDeleteBackup), which is what the API and clients poll.
#ifndef CINDER_BACKUP_BACKUP_RPC_H_
#define CINDER_BACKUP_BACKUP_RPC_H_

#include <chrono>
#include <string>

#include "cinder/context.h"
#include "cinder/status.h"
#include "cinder/transport.h"
#include "rpc/codec.h"

namespace cinder {

// create_backup, delete_backup, import_record: the row (status creating / deleting /
// creating) says the rest. import_record: the host checks the record's objects exist and
// parse, then moves the row to available (or error with fail_reason).
struct BackupRef {
  std::string backup_id;
  template <class V>
  void Fields(V& v) {
    v("backup_id", backup_id);
  }
};

// restore_backup: the backup is `restoring` with restore_volume_id = volume_id, the volume
// `restoring-backup` (an existing volume) or `creating`/`available` (volume_is_new: created for
// this restore; only non-zero blocks need writing, failure leaves it `error`).
struct HostRestoreBackup {
  std::string backup_id;
  std::string volume_id;
  bool volume_is_new = false;
  template <class V>
  void Fields(V& v) {
    v("backup_id", backup_id);
    v("volume_id", volume_id);
    v("volume_is_new", volume_is_new);
  }
};

// Sends to backup hosts (topic rpc::BackupTopic(host)). Casts return once the host accepted the
// work (Unavailable when it did not within the timeout). Safe for concurrent use; `transport`
// must outlive it.
class BackupRpc {
 public:
  static constexpr std::chrono::milliseconds kCastTimeout{3000};

  explicit BackupRpc(Transport* transport) : transport_(transport) {}

  Status CreateBackup(const RequestContext& ctx, const std::string& host, const std::string& backup_id,
                      std::chrono::milliseconds timeout = kCastTimeout);
  Status RestoreBackup(const RequestContext& ctx, const std::string& host, const HostRestoreBackup& request,
                       std::chrono::milliseconds timeout = kCastTimeout);
  Status DeleteBackup(const RequestContext& ctx, const std::string& host, const std::string& backup_id,
                      std::chrono::milliseconds timeout = kCastTimeout);
  Status ImportRecord(const RequestContext& ctx, const std::string& host, const std::string& backup_id,
                      std::chrono::milliseconds timeout = kCastTimeout);

 private:
  Transport* transport_;
};

// What a backup host serves. Each returns once the work is queued; called on the transport's
// threads.
class BackupRpcServer {
 public:
  virtual ~BackupRpcServer() = default;
  virtual Status CreateBackup(const RequestContext& ctx, const BackupRef& request) = 0;
  virtual Status RestoreBackup(const RequestContext& ctx, const HostRestoreBackup& request) = 0;
  virtual Status DeleteBackup(const RequestContext& ctx, const BackupRef& request) = 0;
  virtual Status ImportRecord(const RequestContext& ctx, const BackupRef& request) = 0;
};

// The transport handler of a backup host's topic, dispatching to `server` (which must outlive it).
RpcHandler BackupRpcHandler(BackupRpcServer* server);

}  // namespace cinder

#endif  // CINDER_BACKUP_BACKUP_RPC_H_

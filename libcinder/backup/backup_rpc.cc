#include "backup/backup_rpc.h"

#include <memory>

#include "rpc/method.h"
#include "rpc/topics.h"

namespace cinder {

namespace {

using rpc::Method;

constexpr Method<BackupRef> kCreateBackup{"create_backup"};
constexpr Method<HostRestoreBackup> kRestoreBackup{"restore_backup"};
constexpr Method<BackupRef> kDeleteBackup{"delete_backup"};
constexpr Method<BackupRef> kImportRecord{"import_record"};

}  // namespace

Status BackupRpc::CreateBackup(const RequestContext& ctx, const std::string& host, const std::string& backup_id,
                               std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::BackupTopic(host), kCreateBackup, ctx, BackupRef{backup_id}, timeout);
}

Status BackupRpc::RestoreBackup(const RequestContext& ctx, const std::string& host, const HostRestoreBackup& request,
                                std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::BackupTopic(host), kRestoreBackup, ctx, request, timeout);
}

Status BackupRpc::DeleteBackup(const RequestContext& ctx, const std::string& host, const std::string& backup_id,
                               std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::BackupTopic(host), kDeleteBackup, ctx, BackupRef{backup_id}, timeout);
}

Status BackupRpc::ImportRecord(const RequestContext& ctx, const std::string& host, const std::string& backup_id,
                               std::chrono::milliseconds timeout) {
  return rpc::Cast(*transport_, rpc::BackupTopic(host), kImportRecord, ctx, BackupRef{backup_id}, timeout);
}

RpcHandler BackupRpcHandler(BackupRpcServer* s) {
  auto d = std::make_shared<rpc::Dispatcher>("cinder-backup");
  d->On(kCreateBackup, [s](const RequestContext& c, BackupRef r) { return s->CreateBackup(c, r); })
      .On(kRestoreBackup, [s](const RequestContext& c, HostRestoreBackup r) { return s->RestoreBackup(c, r); })
      .On(kDeleteBackup, [s](const RequestContext& c, BackupRef r) { return s->DeleteBackup(c, r); })
      .On(kImportRecord, [s](const RequestContext& c, BackupRef r) { return s->ImportRecord(c, r); });
  return rpc::Dispatcher::Serve(std::move(d));
}

}  // namespace cinder

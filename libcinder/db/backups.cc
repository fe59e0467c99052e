// The backups table and their metadata (schema 12). Every status change is a conditional
// UPDATE; what a backup holds (its volume or snapshot, its quota, its parent's dependents
// count) changes in the transaction of the change that takes or gives it.
#include "common/util.h"
#include "db/store_impl.h"

namespace cinder {

using namespace db;  // NOLINT: the SQL helpers of this folder

std::map<std::string, int64_t> BackupQuotaDeltas(int64_t size, int sign) {
  return {{"backups", sign}, {"backup_gigabytes", sign * size}};
}

Status Store::InsertBackup(const Backup&, const std::vector<std::string>&, const QuotaCharge*, QuotaReservation*) {
  return Unimplemented("InsertBackup");
}
Result<Backup> Store::GetBackup(const std::string&, const ProjectScope&) { return Unimplemented("GetBackup"); }
Result<BackupList> Store::ListBackups(const BackupListQuery&, const ProjectScope&, int64_t) {
  return Unimplemented("ListBackups");
}
Result<std::optional<Backup>> Store::LatestAvailableBackup(const std::string&) { return Unimplemented("x"); }
Result<bool> Store::UpdateBackup(const std::string&, const std::vector<FieldUpdate>&, const std::optional<Metadata>&) {
  return Unimplemented("x");
}
Result<bool> Store::CasBackupStatus(const std::string&, const std::vector<std::string>&, const std::string&,
                                    const std::vector<FieldUpdate>&) {
  return Unimplemented("x");
}
Result<bool> Store::FinishBackup(const std::string&, const BackupOutcome&) { return Unimplemented("x"); }
Result<bool> Store::FailBackup(const std::string&, const std::string&, const std::vector<std::string>&) {
  return Unimplemented("x");
}
Result<Store::RestoreStart> Store::StartRestore(const std::string&, const std::string&, bool) {
  return Unimplemented("x");
}
Result<std::optional<Backup>> Store::ClaimRestoreTarget(const std::string&) { return Unimplemented("x"); }
Result<bool> Store::FinishRestore(const std::string&, const std::string&, bool, bool) { return Unimplemented("x"); }
Result<std::optional<Backup>> Store::BackupRestoringInto(const std::string&) { return Unimplemented("x"); }
Result<Store::BackupDeleteStart> Store::StartBackupDelete(const std::string&, const std::vector<std::string>&) {
  return Unimplemented("x");
}
Result<bool> Store::SoftDeleteBackup(const std::string&, const std::string&) { return Unimplemented("x"); }
Result<std::vector<Backup>> Store::BackupsOnHost(const std::string&, const std::vector<std::string>&) {
  return Unimplemented("x");
}
Result<std::vector<Backup>> Store::StaleBackups(const std::vector<std::string>&, const std::string&) {
  return Unimplemented("x");
}
Result<bool> Store::TouchBackupProgress(const std::string&, int64_t, const std::vector<std::string>&) {
  return Unimplemented("x");
}
Status Store::ImportBackup(const Backup&, const QuotaCharge*, QuotaReservation*) { return Unimplemented("x"); }
Result<bool> Store::CompleteImport(const std::string&, const std::vector<FieldUpdate>&, const std::optional<Metadata>&,
                                   const std::string&) {
  return Unimplemented("x");
}

}  // namespace cinder

// BackupManager::Open and its implementation: Cinder's backup/api.py.
#include "cinder/backup_manager.h"

namespace cinder {

Result<std::unique_ptr<BackupManager>> BackupManager::Open(const BackupManagerOptions&) {
  return Unimplemented("BackupManager");
}

}  // namespace cinder

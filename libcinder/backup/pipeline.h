// The backup engine: Cinder's chunked/posix on-disk format (docs/backup-format.md), its codecs,
// the posix object store, and the parallel, bounded-memory pipelines that back a volume up
// (full or incremental) and restore a chain of backups onto a volume.
//
// What the caller (the cinder-backup service, backup/backup_service.*) does around it: the
// database (statuses, service_metadata, object_count), opening the volume, applying the restored
// volume_meta. What happens here: every byte that goes to or comes from the backup store.
//
//   auto store = OpenPosixStore(env, options.backup_posix_path);
//   BackupJob job{...};
//   auto out = RunBackup(popts, store->get(), job, FileSource(std::move(file)).get(), progress);
//   // out->container and out->service_metadata go to the backups row, with object_count.
//
// Links: cinder_backup_engine (zstd, zlib, bzip2 and libcrypto stay inside it). This header needs
// only the standard library and cinder/ headers.
#ifndef CINDER_BACKUP_PIPELINE_H_
#define CINDER_BACKUP_PIPELINE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cinder/connector.h"
#include "cinder/env.h"
#include "cinder/status.h"

namespace cinder::backup {

// How the pipelines run, and what a backup records. Cinder's option names in [brackets].
struct PipelineOptions {
  // [backup_compression_algorithm]: none/off/no, zlib/gzip, bz2/bzip2, zstd, any case. Recorded
  // in each object's "compression" verbatim, lower-cased, as Cinder does ("gzip" stays "gzip");
  // an object that does not shrink is stored raw and recorded "none". Anything else:
  // InvalidArgument "unsupported compression algorithm: X".
  std::string compression = "zstd";
  // [backup_object_size] (ours): the size of a work unit. Rounded down to a multiple of
  // sha_block_size and capped by file_size. A full backup cuts a unit with data into 8 objects
  // (512 KiB by default) whose md5s it takes together; an all-zero unit is one object.
  int64_t object_size = 4 << 20;
  // [backup_sha_block_size_bytes]: the SHA-256 block (the incremental's granularity).
  int64_t sha_block_size = 32768;
  // [backup_file_size]: the largest object (Cinder's chunk size); must be a multiple of
  // sha_block_size, else InvalidArgument "Chunk size is not multiple of block size for creating
  // hash." (Cinder's InvalidBackup).
  int64_t file_size = 1999994880;
  // [backup_workers]: threads that read, hash, compress (backup) or read, decompress, verify and
  // write (restore). 0: the number of cores.
  int workers = 0;
  // [backup_buffers]: work-unit buffers in flight at once (each object_size bytes plus its
  // compressed copy; each thread holds one): the memory bound. 0: one per worker. Fewer than
  // workers runs fewer threads.
  int buffers = 0;
  int zstd_level = 1;  // [backup_zstd_level] (Cinder's python-zstd: 3)
  int zlib_level = 6;  // [backup_zlib_level] (Cinder's zlib.compress: 6); bz2 is always 9
  // [backup_verify_on_restore]: check each object's md5 and each block's SHA-256 on restore.
  bool verify_on_restore = true;
  // The objects are on stable storage before RunBackup returns (each large object fsync'd by
  // the thread that wrote it, the small ones by one syncfs before _metadata is written, then
  // _metadata and the directory), so a backup reported available survives a crash; a restored
  // volume is synced (fsync, SYNCHRONIZE CACHE) before RunRestore returns. Tests and benchmarks
  // may turn it off.
  bool sync = true;
};

// The volume a backup reads. Calls may come from several threads at once.
class VolumeSource {
 public:
  virtual ~VolumeSource() = default;
  // The bytes to back up (the volume's size).
  virtual Result<int64_t> Size() = 0;
  // Reads exactly `n` bytes at `offset` (zeros past the end of a shorter file).
  virtual Status ReadAt(int64_t offset, char* buf, size_t n) = 0;
  // The first data at or after `offset` (a hole before it reads as zeros), as File::NextData;
  // a source that does not know answers {offset, Size() - offset} (all data), the default.
  virtual Result<DataExtent> NextData(int64_t offset);
};

// The volume a restore writes. Calls may come from several threads at once (never for the same
// bytes).
class VolumeSink {
 public:
  virtual ~VolumeSink() = default;
  virtual Result<int64_t> Size() = 0;
  // True when the volume was created for this restore (it reads as zeros): zero blocks are
  // skipped instead of written (Cinder's volume_is_new, _write_nonzero).
  virtual bool IsNew() const = 0;
  virtual Status WriteAt(int64_t offset, const char* data, size_t n) = 0;
  // Makes [offset, offset + len) read as zeros (a hole where it can, else written zeros). On a
  // new volume, only where an older layer of a chain wrote the block first.
  virtual Status Zero(int64_t offset, int64_t len) = 0;
  // Puts everything written on stable storage (fsync, SYNCHRONIZE CACHE).
  virtual Status Sync() = 0;
};

// A volume's file (the file driver's LocalPath, a temporary snapshot's file) opened through an
// Env: holes are found with File::NextData.
std::unique_ptr<VolumeSource> FileSource(std::unique_ptr<File> file);
std::unique_ptr<VolumeSink> FileSink(std::unique_ptr<File> file, bool volume_is_new);
// A volume opened through the connector (iSCSI or local). Not owned: must outlive the source.
std::unique_ptr<VolumeSource> DeviceSource(BlockDevice* device);
std::unique_ptr<VolumeSink> DeviceSink(BlockDevice* device, bool volume_is_new);

// Where backups are kept: containers (directories) of named objects (files). The pipelines
// write through it; OpenPosixStore is Cinder's posix driver's layout. Safe for concurrent use.
class ObjectStore {
 public:
  // An object being written; invisible under its name until Commit(). Destroyed without
  // Commit(), it leaves nothing behind.
  class Writer {
   public:
    virtual ~Writer() = default;
    virtual Status Append(const char* data, size_t n) = 0;
    // Makes the object `n` zero bytes long without writing them (a sparse file), after
    // whatever was appended.
    virtual Status AppendZeros(int64_t n) = 0;
    // Completes the bytes (with `sync`, on stable storage) and closes the file; the object is
    // still invisible under its temporary name.
    virtual Status Finish(bool sync) = 0;
    // After Finish: renames it to `name` (empty: the name given to NewObject) in the same
    // container; AlreadyExists when that name is taken. The pipeline names objects only when
    // it knows their number (units finish out of order).
    virtual Status Publish(const std::string& name) = 0;
    // Finish, then Publish under the name given to NewObject.
    Status Commit(bool sync) {
      Status st = Finish(sync);
      return st.ok() ? Publish(std::string()) : st;
    }
  };
  // An object opened for reading.
  class Reader {
   public:
    virtual ~Reader() = default;
    virtual Result<int64_t> Size() = 0;
    // Reads up to `n` bytes at `offset`; fewer only at the end.
    virtual Result<size_t> ReadAt(int64_t offset, char* buf, size_t n) = 0;
  };

  virtual ~ObjectStore() = default;
  // Creates the container (and its parents, mode 0770) when missing.
  virtual Status CreateContainer(const std::string& container) = 0;
  // A new object `name` in `container` (mode 0660). Its bytes go to a temporary name that
  // does not start with any backup's prefix (".tmp.<name>"), so Cinder's listing check never
  // sees a partial object.
  virtual Result<std::unique_ptr<Writer>> NewObject(const std::string& container, const std::string& name) = 0;
  // NotFound when there is no such object.
  virtual Result<std::unique_ptr<Reader>> OpenObject(const std::string& container, const std::string& name) = 0;
  // The names in `container` that start with `prefix` (one directory read; unordered).
  // NotFound when the container does not exist.
  virtual Result<std::vector<std::string>> List(const std::string& container, const std::string& prefix) = 0;
  // Removes the object; OK when it does not exist.
  virtual Status Delete(const std::string& container, const std::string& name) = 0;
  // Removes the container's directories from the innermost outwards while they are empty (never
  // the store's root); OK when they are not empty or already gone.
  virtual Status RemoveEmptyContainer(const std::string& container) = 0;
  // Puts the bytes of the container's objects and their names (new and renamed objects) on
  // stable storage: one syncfs of the file system and an fsync of the directory, cheaper than an
  // fsync per object (RunBackup writes its objects unsynced and calls this once).
  virtual Status SyncContainer(const std::string& container) = 0;
};

// The posix driver's store under `root` (backup_posix_path), created when missing. Containers
// are relative paths under it; InvalidArgument "Invalid input received: ..." for an absolute
// one, a ".." segment, a NUL or more than 255 characters (see ValidateContainer).
Result<std::unique_ptr<ObjectStore>> OpenPosixStore(Env* env, const std::string& root);

// OK, or the InvalidArgument a user-given container name gets (for the API's 400).
Status ValidateContainer(const std::string& container);

// A backup's parent, for an incremental: its container and prefix (its service_metadata).
struct ParentRef {
  std::string backup_id;
  std::string container;
  std::string service_metadata;
  int64_t size_bytes = 0;  // the parent's volume size: a larger volume now is refused
  std::string volume_id;   // must be the job's volume_id, else refused
};

// One backup to make. Strings as the backups row holds them.
struct BackupJob {
  std::string backup_id;
  std::string volume_id;
  std::optional<std::string> name;         // display_name (null when absent)
  std::optional<std::string> description;  // display_description
  // The row's created_at, written to the JSON files as Python's str(datetime):
  // "YYYY-MM-DD HH:MM:SS+00:00". An ISO form ("2026-01-02T03:04:05[.ffffff][Z|+00:00]") is
  // converted; a string already in Python's form is kept.
  std::string created_at;
  // The requested container; empty: "<id[0:2]>/<id[2:4]>/<backup_id>" (posix.py).
  std::string container;
  // The volume metadata as a JSON string (BackupMetadataAPI.get); written verbatim as a JSON
  // string value. Empty: written as null (Cinder writes null when there is none).
  std::string volume_meta;
  // Set for an incremental backup.
  std::optional<ParentRef> parent;
  // The time the prefix is named after; unset: now (Env::Default()). Tests pin it.
  std::optional<std::chrono::system_clock::time_point> start_time;
};

struct BackupOutcome {
  std::string container;         // for backups.container
  std::string service_metadata;  // the object prefix, for backups.service_metadata
  int64_t object_count = 0;      // data objects written (not the two JSON files)
  int64_t bytes_stored = 0;      // bytes of the data objects as stored (compressed)
  int64_t bytes_read = 0;        // volume bytes read (holes are not read)
  int peak_buffers = 0;          // work-unit buffers in flight at most (<= options.buffers)
  // Blocks whose SHA-256 was taken (not zero, and for an incremental with its parent's
  // fingerprints, only those whose fingerprint changed), and whether the parent's were used.
  int64_t sha_blocks = 0;
  bool parent_fingerprints = false;
  // Where the time went, summed over the threads (seconds): reading the volume, SHA-256 and
  // md5, compressing, writing the objects (create, write, fsync, rename).
  double read_seconds = 0, hash_seconds = 0, compress_seconds = 0, write_seconds = 0;
};

// Bytes done of the total; answers false to cancel (the pipeline stops, cleans up and returns
// Aborted "Backup cancelled."). Called from one thread at a time, at most about once a second,
// and once at the end. May be empty.
using Progress = std::function<bool(int64_t done, int64_t total)>;

// Names the backup's prefix from `job` (volume_<volume_id>_<UTC %Y%m%d%H%M%S>_backup_<id>) —
// the caller may save it before calling RunBackup, which names it the same for the same
// start_time. The container name it will use for `job`.
std::string ObjectPrefix(const BackupJob& job);
std::string ContainerName(const BackupJob& job);

// Backs `source` up into `store`: full, or incremental against job.parent (only the blocks
// whose SHA-256 differs from the parent's _sha256file are stored). A full backup covers every
// byte with objects (zero and hole units get the cached compressed zeros, or a sparse object
// for "none"). Writes the objects, then <prefix>_sha256file, then <prefix>_metadata last.
// On any failure (or cancel) removes every object it wrote and returns the error, naming the
// cause ("Failed to write backup object X: No space left on device" is ResourceExhausted;
// incremental refusals are FailedPrecondition with Cinder's InvalidBackup messages).
Result<BackupOutcome> RunBackup(const PipelineOptions& options, ObjectStore* store, const BackupJob& job,
                                VolumeSource* source, const Progress& progress);

// One backup of a chain to restore.
struct RestoreLayer {
  std::string backup_id;
  std::string container;
  std::string service_metadata;  // its prefix
};

struct RestoreOutcome {
  // Each layer's volume_meta string (empty when null), oldest first, for the caller to apply.
  std::vector<std::string> volume_meta;
  int64_t bytes_written = 0;  // volume bytes written (zeros skipped on a new volume not counted)
  int64_t objects_read = 0;   // objects read (each at most once)
  // Summed over the threads (seconds): reading and decompressing objects, md5 and SHA-256
  // checks, writing the volume.
  double read_seconds = 0, hash_seconds = 0, write_seconds = 0;
};

// Restores `chain` (the full backup first, the requested one last) onto `sink`, reading each
// needed object once: a block comes from the newest layer that has it. Checks, per layer, that
// _metadata's version is "1.0.0" and that the objects in the container equal those listed
// (Cinder's check; FailedPrecondition naming the backup). With verify_on_restore, each object's
// md5 and each written block's SHA-256 against the requested backup's _sha256file: a mismatch
// is Internal "... object <name> ..." naming the object. The sink is synced before returning
// OK. InvalidArgument when the sink is smaller than the backup.
Result<RestoreOutcome> RunRestore(const PipelineOptions& options, ObjectStore* store,
                                  const std::vector<RestoreLayer>& chain, VolumeSink* sink, const Progress& progress);

// Removes every object of the backup (names starting with `prefix`, and its temporary files),
// ignoring those already gone, then the container's directories if now empty. Cinder's
// delete_backup.
Status DeleteBackupObjects(ObjectStore* store, const std::string& container, const std::string& prefix);

// OK when <prefix>_metadata exists and parses as a version "1.0.0" backup (import_record);
// NotFound or FailedPrecondition otherwise.
Status CheckBackupReadable(ObjectStore* store, const std::string& container, const std::string& prefix);

}  // namespace cinder::backup

#endif  // CINDER_BACKUP_PIPELINE_H_

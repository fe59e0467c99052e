// Cinder's chunked backup format (cinder/backup/chunkeddriver.py, drivers/posix.py): the names
// of a backup's files and the two JSON files, written byte for byte as Python's
// json.dumps(obj, sort_keys=True, indent=2) writes them, and read as Cinder reads them.
// docs/backup-format.md describes the format.
#ifndef CINDER_BACKUP_ENGINE_CHUNKED_FORMAT_H_
#define CINDER_BACKUP_ENGINE_CHUNKED_FORMAT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/engine/hashing.h"
#include "cinder/status.h"

namespace cinder::backup {

inline constexpr char kFormatVersion[] = "1.0.0";

// "<prefix>-%05d": n = 1, 2, ...; more digits past 99999, as Python's '%05d'.
std::string ObjectName(const std::string& prefix, int64_t n);
std::string MetadataName(const std::string& prefix);    // <prefix>_metadata
std::string Sha256FileName(const std::string& prefix);  // <prefix>_sha256file
// The temporary name an object is written under before it is renamed: ".tmp.<name>", which no
// backup's prefix matches.
std::string TempName(const std::string& name);
inline constexpr char kTempPrefix[] = ".tmp.";

// posix.py _generate_object_name_prefix: volume_<volume_id>_<UTC %Y%m%d%H%M%S>_backup_<id>.
std::string MakePrefix(const std::string& volume_id, const std::string& backup_id,
                       std::chrono::system_clock::time_point when);
// posix.py update_container_name: <id[0:2]>/<id[2:4]>/<id>.
std::string DefaultContainer(const std::string& backup_id);

// Python's str(datetime) of an aware UTC datetime: "YYYY-MM-DD HH:MM:SS[.ffffff]+00:00", from
// the forms the database and the API use ("2026-01-02T03:04:05", "...05.123456", "...Z",
// "... 03:04:05", "+00:00"). A string it does not recognise is returned unchanged.
std::string PythonDatetime(std::string_view db_time);

// Appends `s` as a JSON string as Python's json.dumps (ensure_ascii=True) writes it: '"', '\\',
// \n \r \t \b \f by name, other characters outside ' '..'~' as \u00xx / \uxxxx (lower-case hex,
// surrogate pairs above U+FFFF). Bytes that are not UTF-8 become \ufffd.
void AppendPyJsonString(std::string* out, std::string_view s);

// One entry of _metadata's "objects".
struct ObjectEntry {
  std::string name;
  std::string compression;  // as recorded ("zstd", "gzip", "none", ...)
  int64_t length = 0;       // uncompressed bytes
  std::string md5;          // hex md5 of the uncompressed bytes
  int64_t offset = 0;       // where they go in the volume
};

// <prefix>_metadata.
struct BackupMetadata {
  std::optional<std::string> backup_description;
  std::string backup_id;
  std::optional<std::string> backup_name;
  std::string created_at;  // already in Python's form
  std::vector<ObjectEntry> objects;
  std::optional<std::string> parent_id;
  std::string version = kFormatVersion;
  std::string volume_id;
  // A JSON string value (Cinder writes the volume metadata as a string holding JSON); nullopt:
  // null. Read: a non-string value is kept as its compact JSON.
  std::optional<std::string> volume_meta;
};

// json.dumps(metadata, sort_keys=True, indent=2).
std::string SerializeMetadata(const BackupMetadata& m);
// Parses a _metadata file as json.loads would; unknown keys are ignored. Version is not
// checked here. InvalidArgument for what is not such a file.
Result<BackupMetadata> ParseMetadata(std::string_view text);

// <prefix>_sha256file, written in three parts so the hash list is streamed:
//   Sha256FileHead(...) + Sha256FileEntry(first, h) for each hash + Sha256FileTail(any, ...).
struct Sha256FileHeader {
  std::optional<std::string> backup_description;
  std::string backup_id;
  std::optional<std::string> backup_name;
  int64_t chunk_size = 32768;  // the SHA block size
  std::string created_at;
  std::string version = kFormatVersion;
  std::string volume_id;
};
std::string Sha256FileHead(const Sha256FileHeader& h);
void AppendSha256FileEntry(std::string* out, bool first, const Sha256Digest& d);
std::string Sha256FileTail(const Sha256FileHeader& h, bool any_hashes);

// A parsed _sha256file: the header fields and the hashes, binary.
struct Sha256File {
  Sha256FileHeader header;
  std::vector<Sha256Digest> sha256s;
};
// Reads a _sha256file fed in pieces of any size: the hash list straight into binary (a 10 GiB
// volume's list is 25 MB of JSON, 10 MB of hashes), the rest as json.loads would. Finish gives
// InvalidArgument for what is not such a file.
class Sha256FileParser {
 public:
  void Feed(std::string_view chunk);
  Result<Sha256File> Finish();

 private:
  void EndHash();
  void BadEntry();

  Status status_;
  std::string rest_;  // the document with the top-level "sha256s" list emptied
  std::vector<Sha256Digest> sha256s_;
  // Outside the list: the nesting, the string being read, and the last top-level key.
  int depth_ = 0;
  bool in_string_ = false, escape_ = false, in_key_ = false, after_colon_ = false;
  std::string key_, last_key_;
  bool found_ = false;
  // Inside it: an entry's hex digits so far.
  bool in_list_ = false, in_hash_ = false, expect_hash_ = true;
  char hex_[64] = {};
  int hex_len_ = 0;
};
// The whole text at once.
Result<Sha256File> ParseSha256File(std::string_view text);

}  // namespace cinder::backup

#endif  // CINDER_BACKUP_ENGINE_CHUNKED_FORMAT_H_

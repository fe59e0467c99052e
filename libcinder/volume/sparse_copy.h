// Copies of sparse volume files: a reflink when the file system can share blocks, else only
// the data extents, so holes stay holes. Used by the file driver for snapshots and clones, and
// by the volume service to copy data between two backends' local paths.
#ifndef CINDER_VOLUME_SPARSE_COPY_H_
#define CINDER_VOLUME_SPARSE_COPY_H_

#include <cstdint>
#include <string>

#include "cinder/status.h"

namespace cinder {

class Env;

struct CopyResult {
  bool reflinked = false;  // the whole copy shares src's blocks (File::CloneFrom, FICLONE)
  // Bytes of src's data extents copied (by File::CopyRangeFrom, which may share blocks itself, or
  // by write); 0 when reflinked.
  int64_t bytes_written = 0;
};

// Creates `dst` as a copy of `src`, `size` bytes long (at least src's size; the tail beyond src
// is a hole), through `env`'s file calls. With `allow_reflink`, first tries a reflink; when the
// file system cannot (or without `allow_reflink`), copies only src's data extents (SEEK_DATA,
// SEEK_HOLE), through copy_file_range when reflinks are allowed (which may itself share
// blocks), else by read and write, which never shares blocks and skips chunks of zeros.
// The copy is written under a temporary name in dst's directory, fsynced, then renamed: dst
// appears complete or not at all, and on failure nothing is left behind.
// NotFound if src does not exist; AlreadyExists if dst does; InvalidArgument if `size` is
// smaller than src; Internal (naming the path and the system's error) otherwise.
Result<CopyResult> CopySparseFile(Env* env, const std::string& src, const std::string& dst, int64_t size,
                                  bool allow_reflink = true);

// The same, but dst may exist and is replaced atomically (renamed over; it keeps its
// permission bits): readers see either the old or the new file, never a mix.
Result<CopyResult> ReplaceWithCopy(Env* env, const std::string& src, const std::string& dst, int64_t size,
                                   bool allow_reflink = true);

}  // namespace cinder

#endif  // CINDER_VOLUME_SPARSE_COPY_H_

#include "volume/sparse_copy.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "cinder/env.h"

namespace cinder {

namespace {

constexpr int64_t kChunk = 1 << 20;  // read/write copies go by 1 MiB

// What a file call's failure `st` means to the copy: Internal, naming the path.
Status Failed(const std::string& what, const std::string& path, const Status& st) {
  return Internal(what + " " + path + ": " + st.message());
}

bool AllZero(const char* p, size_t n) { return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0); }

// Copies the bytes [off, off + len) of `in` to the same offsets of `out`, which holds only
// holes there. Adds what it writes to *written.
class RangeCopier {
 public:
  RangeCopier(File* in, File* out, bool use_copy_range, const std::string& src, const std::string& dst)
      : in_(in), out_(out), use_copy_range_(use_copy_range), src_(src), dst_(dst) {}

  Status Copy(int64_t off, int64_t len, int64_t* written) {
    while (use_copy_range_ && len > 0) {
      Result<int64_t> n = out_->CopyRangeFrom(in_, off, len);
      if (!n.ok()) {
        if (n.status().code() != Code::kUnimplemented) return Failed("cannot copy " + src_ + " to", dst_, n.status());
        use_copy_range_ = false;  // and for the following extents too
        break;
      }
      if (*n == 0) break;  // src ends early (or the file system would not): reading will tell
      off += *n;
      len -= *n;
      *written += *n;
    }
    return ReadWrite(off, len, written);
  }

 private:
  // Chunks that are all zeros are not written: they stay holes.
  Status ReadWrite(int64_t off, int64_t len, int64_t* written) {
    if (len > 0 && buf_.empty()) buf_.resize(kChunk);
    while (len > 0) {
      Result<size_t> n = in_->ReadAt(off, buf_.data(), static_cast<size_t>(std::min(len, kChunk)));
      if (!n.ok()) return Failed("cannot read", src_, n.status());
      if (*n == 0) break;  // src was shortened meanwhile: the rest stays a hole (zeros)
      if (!AllZero(buf_.data(), *n)) {
        Status st = out_->WriteAt(off, buf_.data(), *n);
        if (!st.ok()) return Failed("cannot write", dst_, st);
        *written += static_cast<int64_t>(*n);
      }
      off += static_cast<int64_t>(*n);
      len -= static_cast<int64_t>(*n);
    }
    return Status::OK();
  }

  File* in_;
  File* out_;
  bool use_copy_range_;
  const std::string& src_;
  const std::string& dst_;
  std::vector<char> buf_;
};

// Copies the data extents of `in` (the first src_size bytes) into `out`; holes are skipped.
Status CopyExtents(File* in, File* out, int64_t src_size, bool use_copy_range, const std::string& src,
                   const std::string& dst, int64_t* written) {
  RangeCopier copier(in, out, use_copy_range, src, dst);
  int64_t off = 0;
  while (off < src_size) {
    Result<DataExtent> e = in->NextData(off);
    if (!e.ok()) return Failed("cannot find the data of", src, e.status());
    if (e->length == 0 || e->offset >= src_size) break;  // nothing but a hole up to the end
    const int64_t end = std::min(e->offset + e->length, src_size);
    CINDER_RETURN_IF_ERROR(copier.Copy(e->offset, end - e->offset, written));
    off = end;
  }
  return Status::OK();
}

// The source, open, and its size; InvalidArgument unless `size` holds it.
Result<std::unique_ptr<File>> OpenSource(Env* env, const std::string& src, int64_t size, int64_t* src_size) {
  Result<std::unique_ptr<File>> in = env->OpenFile(src, Env::OpenMode::kRead);
  if (!in.ok()) {
    if (in.status().code() == Code::kNotFound) return NotFound(src + " does not exist");
    return Failed("cannot open", src, in.status());
  }
  Result<FileInfo> info = (*in)->Stat();
  if (!info.ok()) return Failed("cannot stat", src, info.status());
  if (info->is_directory) return InvalidArgument(src + " is a directory");
  *src_size = info->size;
  if (size < *src_size) {
    return InvalidArgument("cannot copy " + src + " (" + std::to_string(*src_size) + " bytes) into " +
                           std::to_string(size) + " bytes");
  }
  return in;
}

// Fills the new file `out` (dst's temporary copy) from `in`, and syncs and closes it.
Result<CopyResult> Fill(File* in, File* out, int64_t src_size, int64_t size, bool allow_reflink,
                        const std::optional<uint32_t>& mode, const std::string& src, const std::string& dst) {
  CopyResult result;
  if (allow_reflink) {
    Status st = out->CloneFrom(in);
    if (st.ok()) {
      result.reflinked = true;
    } else if (st.code() != Code::kUnimplemented) {
      return Failed("cannot reflink " + src + " to", dst, st);
    }
  }
  // Sets the size; without a reflink, the whole file is a hole until the extents are copied.
  if (Status st = out->Truncate(size); !st.ok()) return Failed("cannot size", dst, st);
  if (!result.reflinked) {
    CINDER_RETURN_IF_ERROR(CopyExtents(in, out, src_size, allow_reflink, src, dst, &result.bytes_written));
  }
  if (mode) {
    if (Status st = out->SetMode(*mode); !st.ok()) return Failed("cannot set the mode of", dst, st);
  }
  if (Status st = out->Sync(); !st.ok()) return Failed("cannot sync", dst, st);
  if (Status st = out->Close(); !st.ok()) return Failed("cannot close", dst, st);
  return result;
}

Result<CopyResult> Copy(Env* env, const std::string& src, const std::string& dst, int64_t size, bool allow_reflink,
                        bool replace) {
  int64_t src_size = 0;
  CINDER_ASSIGN_OR_RETURN(std::unique_ptr<File> in, OpenSource(env, src, size, &src_size));

  std::optional<uint32_t> dst_mode;  // dst's permission bits, when it exists
  Result<FileInfo> dst_info = env->Stat(dst);
  if (dst_info.ok()) {
    if (!replace) return AlreadyExists(dst + " already exists");
    dst_mode = dst_info->mode;
  } else if (dst_info.status().code() != Code::kNotFound) {
    return Failed("cannot stat", dst, dst_info.status());
  }

  // The temporary file: ".<name>.tmp-XXXXXX" beside dst, so that the rename stays in one
  // file system and the name does not look like a volume.
  const size_t slash = dst.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dst.substr(0, slash));
  const std::string base = slash == std::string::npos ? dst : dst.substr(slash + 1);
  std::string tmp;
  Result<std::unique_ptr<File>> out = env->NewTempFile(dir + "/." + base + ".tmp-", &tmp);
  if (!out.ok()) return Failed("cannot create a temporary file in", dir, out.status());
  struct Remover {  // removes the temporary file unless it was renamed
    Env* env;
    const std::string& path;
    bool armed = true;
    ~Remover() {
      if (armed) (void)env->RemoveFile(path);
    }
  } remover{env, tmp};

  CINDER_ASSIGN_OR_RETURN(CopyResult result,
                          Fill(in.get(), out->get(), src_size, size, allow_reflink, dst_mode, src, dst));
  Status renamed = env->RenameFile(tmp, dst, replace);
  if (!renamed.ok()) {
    if (!replace && renamed.code() == Code::kAlreadyExists) return AlreadyExists(dst + " already exists");
    return Failed(replace ? "cannot replace" : "cannot create", dst, renamed);
  }
  remover.armed = false;
  // Makes the new name durable. Best effort: dst is complete already, and failing now would
  // leave it behind.
  (void)env->SyncDir(dir);
  return result;
}

}  // namespace

Result<CopyResult> CopySparseFile(Env* env, const std::string& src, const std::string& dst, int64_t size,
                                  bool allow_reflink) {
  return Copy(env, src, dst, size, allow_reflink, /*replace=*/false);
}

Result<CopyResult> ReplaceWithCopy(Env* env, const std::string& src, const std::string& dst, int64_t size,
                                   bool allow_reflink) {
  return Copy(env, src, dst, size, allow_reflink, /*replace=*/true);
}

}  // namespace cinder

// The codecs of Cinder's chunked backups (chunkeddriver.py _get_compressor): an object's bytes
// are compressed with one of them and its "compression" string names it. The streams are
// Python's: zlib.compress (RFC 1950, also for "gzip"), bz2.compress (one bzip2 stream, level 9),
// python-zstd's zstd.compress (one frame that carries its content size).
#ifndef CINDER_BACKUP_ENGINE_CODEC_H_
#define CINDER_BACKUP_ENGINE_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cinder/status.h"

namespace cinder::backup {

enum class CodecKind { kNone, kZlib, kBz2, kZstd };

// The codec a "compression" string names, in any case: none/off/no, zlib/gzip, bz2/bzip2,
// zstd. InvalidArgument "unsupported compression algorithm: X" for anything else.
Result<CodecKind> ParseCodec(std::string_view name);

// Compresses whole buffers with one codec at one level. One per thread (it keeps the codec's
// context between calls).
class Compressor {
 public:
  static std::unique_ptr<Compressor> New(CodecKind kind, int level);
  virtual ~Compressor() = default;
  // The most Compress can write for `n` input bytes.
  virtual size_t Bound(size_t n) const = 0;
  // Compresses `n` bytes of `in` into `out` (room for `out_cap` >= Bound(n) bytes); returns the
  // compressed length.
  virtual Result<size_t> Compress(const char* in, size_t n, char* out, size_t out_cap) = 0;
};

// Decompresses one object as a stream: compressed input in pieces, output in pieces, so an
// object of any size (Cinder's default is 1.9 GB) needs only the buffers given to it.
class Decompressor {
 public:
  static std::unique_ptr<Decompressor> New(CodecKind kind);
  virtual ~Decompressor() = default;
  // Starts a new object.
  virtual Status Reset() = 0;
  // Consumes input from [*in, *in + *in_len) and writes output to [out + *out_len, out +
  // out_cap), advancing the three. Sets *done when the stream ended (trailing bytes after it
  // are an error for zlib/bz2; more zstd frames are read as Python's decompress does not, but
  // libzstd's streaming API does). InvalidArgument for corrupt data.
  virtual Status Step(const char** in, size_t* in_len, char* out, size_t out_cap, size_t* out_len, bool* done) = 0;
};

// Whole-buffer helpers (tests, small objects): all of `in` compressed or decompressed.
Result<std::string> CompressAll(CodecKind kind, int level, std::string_view in);
Result<std::string> DecompressAll(CodecKind kind, std::string_view in);

}  // namespace cinder::backup

#endif  // CINDER_BACKUP_ENGINE_CODEC_H_

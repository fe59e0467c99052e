#include "backup/engine/codec.h"

#include <bzlib.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

namespace cinder::backup {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

class NoneCompressor : public Compressor {
 public:
  size_t Bound(size_t n) const override { return n; }
  Result<size_t> Compress(const char* in, size_t n, char* out, size_t out_cap) override {
    if (out_cap < n) return Internal("compress: output buffer too small");
    std::memcpy(out, in, n);
    return n;
  }
};

class ZstdCompressor : public Compressor {
 public:
  explicit ZstdCompressor(int level) : cctx_(ZSTD_createCCtx()) {
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
    // python-zstd's decompress needs the frame to say how long its content is.
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1);
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }
  size_t Bound(size_t n) const override { return ZSTD_compressBound(n); }
  Result<size_t> Compress(const char* in, size_t n, char* out, size_t out_cap) override {
    // One-shot: ZSTD_compress2 pledges the source size, so the frame header carries it.
    const size_t r = ZSTD_compress2(cctx_, out, out_cap, in, n);
    if (ZSTD_isError(r)) return Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(r));
    return r;
  }

 private:
  ZSTD_CCtx* cctx_;
};

class ZlibCompressor : public Compressor {
 public:
  explicit ZlibCompressor(int level) : level_(level) {}
  size_t Bound(size_t n) const override { return compressBound(n); }
  Result<size_t> Compress(const char* in, size_t n, char* out, size_t out_cap) override {
    uLongf len = out_cap;
    const int r = compress2(reinterpret_cast<Bytef*>(out), &len, reinterpret_cast<const Bytef*>(in), n, level_);
    if (r != Z_OK) return Internal("zlib compression failed: " + std::to_string(r));
    return static_cast<size_t>(len);
  }

 private:
  int level_;
};

class Bz2Compressor : public Compressor {
 public:
  size_t Bound(size_t n) const override { return n + n / 100 + 600; }
  Result<size_t> Compress(const char* in, size_t n, char* out, size_t out_cap) override {
    unsigned int len = static_cast<unsigned int>(out_cap);
    // Python's bz2.compress: level 9, default work factor.
    const int r = BZ2_bzBuffToBuffCompress(out, &len, const_cast<char*>(in), static_cast<unsigned int>(n), 9, 0, 0);
    if (r != BZ_OK) return Internal("bz2 compression failed: " + std::to_string(r));
    return static_cast<size_t>(len);
  }
};

Status Corrupt(const char* codec, const std::string& why) {
  return InvalidArgument(std::string(codec) + " decompression failed: " + why);
}

class NoneDecompressor : public Decompressor {
 public:
  Status Reset() override { return Status::OK(); }
  Status Step(const char** in, size_t* in_len, char* out, size_t out_cap, size_t* out_len, bool* done) override {
    const size_t n = std::min(*in_len, out_cap - *out_len);
    std::memcpy(out + *out_len, *in, n);
    *in += n;
    *in_len -= n;
    *out_len += n;
    *done = true;
    return Status::OK();
  }
};

class ZstdDecompressor : public Decompressor {
 public:
  ZstdDecompressor() : dctx_(ZSTD_createDCtx()) {}
  ~ZstdDecompressor() override { ZSTD_freeDCtx(dctx_); }
  Status Reset() override {
    ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_only);
    done_ = false;
    return Status::OK();
  }
  Status Step(const char** in, size_t* in_len, char* out, size_t out_cap, size_t* out_len, bool* done) override {
    ZSTD_inBuffer ib{*in, *in_len, 0};
    ZSTD_outBuffer ob{out, out_cap, *out_len};
    while (ib.pos < ib.size && ob.pos < ob.size) {
      const size_t r = ZSTD_decompressStream(dctx_, &ob, &ib);
      if (ZSTD_isError(r)) return Corrupt("zstd", ZSTD_getErrorName(r));
      done_ = r == 0;  // a frame ended and was flushed; more input starts another
    }
    // Output left in the context with no input left: flush it.
    if (ib.pos == ib.size && ob.pos < ob.size && !done_) {
      const size_t r = ZSTD_decompressStream(dctx_, &ob, &ib);
      if (ZSTD_isError(r)) return Corrupt("zstd", ZSTD_getErrorName(r));
      done_ = r == 0;
    }
    *in += ib.pos;
    *in_len -= ib.pos;
    *out_len = ob.pos;
    *done = done_;
    return Status::OK();
  }

 private:
  ZSTD_DCtx* dctx_;
  bool done_ = false;
};

class ZlibDecompressor : public Decompressor {
 public:
  ZlibDecompressor() {
    std::memset(&z_, 0, sizeof(z_));
    inflateInit2(&z_, 15);  // the zlib wrapper only, as Python's zlib.decompress
  }
  ~ZlibDecompressor() override { inflateEnd(&z_); }
  Status Reset() override {
    inflateReset(&z_);
    done_ = false;
    return Status::OK();
  }
  Status Step(const char** in, size_t* in_len, char* out, size_t out_cap, size_t* out_len, bool* done) override {
    if (done_ && *in_len > 0) return Corrupt("zlib", "data after the end of the stream");
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(*in));
    z_.avail_in = static_cast<uInt>(std::min<size_t>(*in_len, UINT32_MAX));
    z_.next_out = reinterpret_cast<Bytef*>(out + *out_len);
    z_.avail_out = static_cast<uInt>(std::min<size_t>(out_cap - *out_len, UINT32_MAX));
    const uInt in0 = z_.avail_in, out0 = z_.avail_out;
    while (!done_ && (z_.avail_in > 0 || z_.avail_out > 0)) {
      const int r = inflate(&z_, Z_NO_FLUSH);
      if (r == Z_STREAM_END) {
        done_ = true;
      } else if (r == Z_BUF_ERROR) {
        break;  // needs more input or more room
      } else if (r != Z_OK) {
        return Corrupt("zlib", z_.msg ? z_.msg : std::to_string(r));
      }
      if (z_.avail_in == 0 || z_.avail_out == 0) break;
    }
    *in += in0 - z_.avail_in;
    *in_len -= in0 - z_.avail_in;
    *out_len += out0 - z_.avail_out;
    *done = done_;
    return Status::OK();
  }

 private:
  z_stream z_;
  bool done_ = false;
};

class Bz2Decompressor : public Decompressor {
 public:
  Bz2Decompressor() { Init(); }
  ~Bz2Decompressor() override { BZ2_bzDecompressEnd(&b_); }
  Status Reset() override {
    BZ2_bzDecompressEnd(&b_);
    Init();
    done_ = false;
    return Status::OK();
  }
  Status Step(const char** in, size_t* in_len, char* out, size_t out_cap, size_t* out_len, bool* done) override {
    size_t used_in = 0, made = 0;
    while (true) {
      if (done_) {
        if (*in_len == used_in) break;
        // Python's bz2.decompress reads concatenated streams.
        BZ2_bzDecompressEnd(&b_);
        Init();
        done_ = false;
      }
      b_.next_in = const_cast<char*>(*in) + used_in;
      b_.avail_in = static_cast<unsigned>(std::min<size_t>(*in_len - used_in, UINT32_MAX));
      b_.next_out = out + *out_len + made;
      b_.avail_out = static_cast<unsigned>(std::min<size_t>(out_cap - *out_len - made, UINT32_MAX));
      const unsigned in0 = b_.avail_in, out0 = b_.avail_out;
      const int r = BZ2_bzDecompress(&b_);
      used_in += in0 - b_.avail_in;
      made += out0 - b_.avail_out;
      if (r == BZ_STREAM_END) {
        done_ = true;
        continue;
      }
      if (r != BZ_OK) return Corrupt("bz2", "error " + std::to_string(r));
      if (in0 == b_.avail_in && out0 == b_.avail_out) break;  // no progress: needs input or room
      if (b_.avail_in == 0 || b_.avail_out == 0) break;
    }
    *in += used_in;
    *in_len -= used_in;
    *out_len += made;
    *done = done_;
    return Status::OK();
  }

 private:
  void Init() {
    std::memset(&b_, 0, sizeof(b_));
    BZ2_bzDecompressInit(&b_, 0, 0);
  }
  bz_stream b_;
  bool done_ = false;
};

}  // namespace

Result<CodecKind> ParseCodec(std::string_view name) {
  const std::string n = Lower(name);
  if (n == "none" || n == "off" || n == "no") return CodecKind::kNone;
  if (n == "zlib" || n == "gzip") return CodecKind::kZlib;
  if (n == "bz2" || n == "bzip2") return CodecKind::kBz2;
  if (n == "zstd") return CodecKind::kZstd;
  return InvalidArgument("unsupported compression algorithm: " + std::string(name));
}

std::unique_ptr<Compressor> Compressor::New(CodecKind kind, int level) {
  switch (kind) {
    case CodecKind::kNone: return std::make_unique<NoneCompressor>();
    case CodecKind::kZlib: return std::make_unique<ZlibCompressor>(level);
    case CodecKind::kBz2: return std::make_unique<Bz2Compressor>();
    case CodecKind::kZstd: return std::make_unique<ZstdCompressor>(level);
  }
  return nullptr;
}

std::unique_ptr<Decompressor> Decompressor::New(CodecKind kind) {
  switch (kind) {
    case CodecKind::kNone: return std::make_unique<NoneDecompressor>();
    case CodecKind::kZlib: return std::make_unique<ZlibDecompressor>();
    case CodecKind::kBz2: return std::make_unique<Bz2Decompressor>();
    case CodecKind::kZstd: return std::make_unique<ZstdDecompressor>();
  }
  return nullptr;
}

Result<std::string> CompressAll(CodecKind kind, int level, std::string_view in) {
  auto c = Compressor::New(kind, level);
  std::string out(c->Bound(in.size()), '\0');
  auto n = c->Compress(in.data(), in.size(), out.data(), out.size());
  if (!n.ok()) return n.status();
  out.resize(*n);
  return out;
}

Result<std::string> DecompressAll(CodecKind kind, std::string_view in) {
  auto d = Decompressor::New(kind);
  std::string out;
  const char* p = in.data();
  size_t left = in.size();
  bool done = false;
  size_t len = 0;
  while (true) {
    if (out.size() - len < 65536) out.resize(std::max<size_t>(out.size() * 2, len + 65536));
    const size_t before_in = left, before_out = len;
    CINDER_RETURN_IF_ERROR(d->Step(&p, &left, out.data(), out.size(), &len, &done));
    if (left == 0 && (done || len == before_out)) break;
    if (left == before_in && len == before_out && len < out.size()) return InvalidArgument("decompression stalled");
  }
  if (!done) return InvalidArgument("compressed data ends before its stream does");
  out.resize(len);
  return out;
}

}  // namespace cinder::backup

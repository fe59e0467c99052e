// Cinder's chunked backup format: the codecs, the names, and the two JSON files byte for byte
// as Python's json.dumps(sort_keys=True, indent=2) writes them (golden files made once with
// /usr/bin/python3, in tests/data/cinder_posix_backup/golden_*.json).
#include <doctest/doctest.h>
#include <zstd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "backup/engine/chunked_format.h"
#include "backup/engine/codec.h"
#include "backup/engine/hashing.h"
#include "backup/engine/md5x8.h"
#include "backup/pipeline.h"

namespace cinder::backup {
namespace {

std::string ReadDataFile(const std::string& rel) {
  std::ifstream in(std::string(CINDER_TEST_DATA_DIR) + "/" + rel, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing test data " << rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Patterned(size_t n, uint32_t seed, bool compressible) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(compressible ? (rng() & 0x0f) : rng());
  return s;
}

const char kPrefix[] =
    "volume_a1b2c3d4-e5f6-4789-8abc-def012345678_20261207123456_backup_7d4e1a2b-0c3f-4a5b-9c8d-1e2f3a4b5c6d";

}  // namespace

TEST_CASE("backup codecs: every codec and alias round-trips, whole and streamed a byte at a time") {
  const std::string data = Patterned(300000, 1, true) + std::string(100000, '\0') + Patterned(50000, 2, false);
  for (const char* name : {"none", "OFF", "no", "zlib", "gzip", "bz2", "BZIP2", "zstd", "Zstd"}) {
    CAPTURE(name);
    auto kind = ParseCodec(name);
    REQUIRE(kind.ok());
    auto c = CompressAll(*kind, *kind == CodecKind::kZstd ? 1 : 6, data);
    REQUIRE(c.ok());
    if (*kind != CodecKind::kNone) CHECK(c->size() < data.size());
    auto d = DecompressAll(*kind, *c);
    REQUIRE(d.ok());
    CHECK(*d == data);
    // Streamed: one input byte at a time into a 4 KiB output window.
    auto dec = Decompressor::New(*kind);
    REQUIRE(dec->Reset().ok());
    std::string out, window(4096, '\0');
    bool done = false, steps_ok = true;
    for (size_t i = 0; i < c->size() && steps_ok; ++i) {
      const char* p = c->data() + i;
      size_t left = 1;
      while (left > 0 || (!done && i + 1 == c->size())) {
        size_t len = 0;
        steps_ok = dec->Step(&p, &left, window.data(), window.size(), &len, &done).ok();
        if (!steps_ok) break;
        out.append(window.data(), len);
        if (len == 0 && left == 0) break;
      }
    }
    REQUIRE(steps_ok);
    CHECK(done);
    CHECK(out == data);
  }
  auto bad = ParseCodec("lz4");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "unsupported compression algorithm: lz4");
}

TEST_CASE("backup codecs: zstd frames carry their content size (python-zstd's decompress needs it)") {
  const std::string data = Patterned(1 << 20, 3, true);
  auto c = CompressAll(CodecKind::kZstd, 1, data);
  REQUIRE(c.ok());
  CHECK(ZSTD_getFrameContentSize(c->data(), c->size()) == data.size());
  auto z = CompressAll(CodecKind::kZstd, 1, std::string(4 << 20, '\0'));
  REQUIRE(z.ok());
  CHECK(ZSTD_getFrameContentSize(z->data(), z->size()) == (4u << 20));
}

TEST_CASE("backup codecs: corrupt or truncated streams are errors") {
  const std::string data = Patterned(100000, 4, true);
  for (CodecKind k : {CodecKind::kZlib, CodecKind::kBz2, CodecKind::kZstd}) {
    auto c = CompressAll(k, 3, data);
    REQUIRE(c.ok());
    CHECK_FALSE(DecompressAll(k, c->substr(0, c->size() / 2)).ok());
    std::string flipped = *c;
    flipped[flipped.size() / 2] ^= 0x55;
    auto d = DecompressAll(k, flipped);
    CHECK((!d.ok() || *d != data));
  }
  // A gzip-framed stream is not zlib's (Python's zlib.decompress refuses it too).
  CHECK_FALSE(DecompressAll(CodecKind::kZlib, std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8)).ok());
}

TEST_CASE("backup md5x8: eight md5s at once equal libcrypto's, at every tail length") {
  std::mt19937 rng(5);
  Hasher h;
  for (size_t len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 32768, 524288}) {
    CAPTURE(len);
    std::string bufs[8];
    const char* parts[8];
    for (int i = 0; i < 8; ++i) {
      bufs[i] = Patterned(len, static_cast<uint32_t>(rng()), false);
      parts[i] = bufs[i].data();
    }
    std::string hex[8];
    Md5x8(parts, len, hex);
    for (int i = 0; i < 8; ++i) {
      h.Md5Begin();
      h.Md5Update(parts[i], len);
      CHECK(hex[i] == h.Md5HexEnd());
    }
  }
}

TEST_CASE("backup names: object numbers are %05d and widen past 99999; temp names never match a prefix") {
  CHECK(ObjectName("p", 1) == "p-00001");
  CHECK(ObjectName("p", 99999) == "p-99999");
  CHECK(ObjectName("p", 100000) == "p-100000");
  CHECK(ObjectName("p", 1234567) == "p-1234567");
  CHECK(MetadataName("p") == "p_metadata");
  CHECK(Sha256FileName("p") == "p_sha256file");
  CHECK(TempName("p-00001") == ".tmp.p-00001");
  CHECK(DefaultContainer("7d4e1a2b-0c3f") == "7d/4e/7d4e1a2b-0c3f");
  const auto t = std::chrono::system_clock::from_time_t(1796646896);  // 2026-12-07 12:34:56 UTC
  CHECK(MakePrefix("vol", "bk", t) == "volume_vol_20261207123456_backup_bk");
}

TEST_CASE("backup created_at is written as Python's str() of an aware UTC datetime") {
  CHECK(PythonDatetime("2026-12-07T12:34:56") == "2026-12-07 12:34:56+00:00");
  CHECK(PythonDatetime("2026-12-07T12:34:56.000000") == "2026-12-07 12:34:56+00:00");
  CHECK(PythonDatetime("2026-12-07T12:34:56.1234Z") == "2026-12-07 12:34:56.123400+00:00");
  CHECK(PythonDatetime("2026-12-07 12:34:56+00:00") == "2026-12-07 12:34:56+00:00");
  CHECK(PythonDatetime("yesterday") == "yesterday");
}

TEST_CASE("backup JSON strings are escaped as json.dumps(ensure_ascii=True)") {
  std::string out;
  AppendPyJsonString(&out, "a\"b\\c\n\x01\x7f caf\xc3\xa9 \xf0\x9f\x98\x80 \xff");
  CHECK(out == "\"a\\\"b\\\\c\\n\\u0001\\u007f caf\\u00e9 \\ud83d\\ude00 \\ufffd\"");
}

TEST_CASE("backup _metadata is byte for byte json.dumps(sort_keys=True, indent=2)") {
  BackupMetadata m;
  m.backup_id = "7d4e1a2b-0c3f-4a5b-9c8d-1e2f3a4b5c6d";
  m.volume_id = "a1b2c3d4-e5f6-4789-8abc-def012345678";
  m.backup_name = "nightly \"full\" \\ caf\xc3\xa9 \xf0\x9f\x98\x80 tab\there\x01\x7f";
  m.created_at = "2026-12-07 12:34:56+00:00";
  m.objects.push_back({ObjectName(kPrefix, 1), "zstd", 4194304, "b5cfa9d6c8febd618f91ac2843d50a1c", 0});
  m.objects.push_back({ObjectName(kPrefix, 2), "none", 32768, "bb7df04e1b0a2570657527a7e108ae23", 4194304});
  m.parent_id = "11111111-2222-3333-4444-555555555555";
  m.volume_meta =
      "{\"version\": 2, \"volume-base-metadata\": {\"id\": \"a1b2\", \"size\": 1, \"display_name\": \"v\\u00e9\"}, "
      "\"volume-metadata\": {\"k\": \"v\"}}";
  const std::string golden = ReadDataFile("cinder_posix_backup/golden_metadata.json");
  CHECK(SerializeMetadata(m) == golden);

  // And what Cinder's reader makes of it is what we wrote.
  auto parsed = ParseMetadata(golden);
  REQUIRE(parsed.ok());
  CHECK(SerializeMetadata(*parsed) == golden);
  CHECK(parsed->objects.size() == 2);
  CHECK(parsed->objects[1].offset == 4194304);

  BackupMetadata e = m;
  e.objects.clear();
  e.parent_id.reset();
  e.volume_meta.reset();
  e.backup_name.reset();
  e.backup_description = "d";
  CHECK(SerializeMetadata(e) == ReadDataFile("cinder_posix_backup/golden_metadata_empty.json"));
}

TEST_CASE("backup _sha256file is streamed byte for byte as json.dumps, and read back without a DOM") {
  Sha256FileHeader h;
  h.backup_id = "7d4e1a2b-0c3f-4a5b-9c8d-1e2f3a4b5c6d";
  h.volume_id = "a1b2c3d4-e5f6-4789-8abc-def012345678";
  h.backup_name = "n";
  h.created_at = "2026-12-07 12:34:56.123400+00:00";
  Hasher hasher;
  std::vector<Sha256Digest> shas;
  std::string text = Sha256FileHead(h);
  for (int i = 0; i < 3; ++i) {
    const std::string block(32768, static_cast<char>(i));
    shas.push_back(hasher.Sha256(block.data(), block.size()));
    AppendSha256FileEntry(&text, i == 0, shas.back());
  }
  text += Sha256FileTail(h, true);
  const std::string golden = ReadDataFile("cinder_posix_backup/golden_sha256file.json");
  CHECK(text == golden);
  CHECK(Sha256FileHead(h) + Sha256FileTail(h, false) ==
        ReadDataFile("cinder_posix_backup/golden_sha256file_empty.json"));

  auto parsed = ParseSha256File(golden);
  REQUIRE(parsed.ok());
  CHECK(parsed->sha256s == shas);
  CHECK(parsed->header.chunk_size == 32768);
  CHECK(parsed->header.version == "1.0.0");
  CHECK(parsed->header.backup_name == std::optional<std::string>("n"));
  // Compact JSON with the keys in another order reads the same.
  std::string compact = "{\"sha256s\":[\"" + ToHex(shas[0].data(), 32) + "\",\"" + ToHex(shas[1].data(), 32) +
                        "\"],\"chunk_size\":4096,\"version\":\"1.0.0\",\"backup_id\":\"x\"}";
  auto c = ParseSha256File(compact);
  REQUIRE(c.ok());
  CHECK(c->sha256s.size() == 2);
  CHECK(c->header.chunk_size == 4096);
  CHECK_FALSE(ParseSha256File("{\"sha256s\":[\"abc\"],\"chunk_size\":1}").ok());
  CHECK_FALSE(ParseSha256File("{\"chunk_size\":1}").ok());

  // Fed in pieces of any size (as ReadSha256File reads it), the same result: every cut of the
  // golden file in two, and one byte at a time. A "sha256s" that is not the top-level member's
  // list (inside a string, or nested) is left to the JSON parser.
  const std::string tricky =
      "{\"backup_description\": \"\\\"sha256s\\\": [\\\"x\\\"]\", \"n\": {\"sha256s\": [1]}, "
      "\"sha256s\": [\"" +
      ToHex(shas[2].data(), 32) + "\"], \"chunk_size\": 32768}";
  for (const std::string& doc : {golden, compact, tricky}) {
    auto whole = ParseSha256File(doc);
    REQUIRE_MESSAGE(whole.ok(), whole.status().ToString());
    for (size_t cut = 0; cut <= doc.size(); ++cut) {
      Sha256FileParser p;
      p.Feed(std::string_view(doc).substr(0, cut));
      p.Feed(std::string_view(doc).substr(cut));
      auto f = p.Finish();
      REQUIRE_MESSAGE(f.ok(), cut);
      CHECK(f->sha256s == whole->sha256s);
      CHECK(f->header.chunk_size == whole->header.chunk_size);
      CHECK(f->header.backup_description == whole->header.backup_description);
    }
    Sha256FileParser bytes;
    for (char c : doc) bytes.Feed(std::string_view(&c, 1));
    auto b = bytes.Finish();
    REQUIRE(b.ok());
    CHECK(b->sha256s == whole->sha256s);
  }
  auto t = ParseSha256File(tricky);
  CHECK(t->sha256s == std::vector<Sha256Digest>{shas[2]});
  CHECK(t->header.backup_description == std::optional<std::string>("\"sha256s\": [\"x\"]"));
  // Errors name the entry; a list cut short or missing is not such a file.
  auto bad = ParseSha256File("{\"sha256s\": [\"" + ToHex(shas[0].data(), 32) + "\", \"zz\"], \"chunk_size\": 1}");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "backup sha256file: entry 1 is not a SHA-256 in hex");
  CHECK(ParseSha256File("{\"sha256s\": [").status().message() ==
        "backup sha256file is not a JSON object with a \"sha256s\" list");
  CHECK(ParseSha256File("[\"sha256s\", []]").status().message() ==
        "backup sha256file is not a JSON object with a \"sha256s\" list");
}

TEST_CASE("backup containers: relative paths only") {
  CHECK(ValidateContainer("ab/cd/abcd-1").ok());
  CHECK(ValidateContainer("my backups").ok());
  CHECK_FALSE(ValidateContainer("/etc").ok());
  CHECK_FALSE(ValidateContainer("a/../../etc").ok());
  CHECK_FALSE(ValidateContainer("..").ok());
  CHECK_FALSE(ValidateContainer(std::string("a\0b", 3)).ok());
  CHECK_FALSE(ValidateContainer(std::string(256, 'a')).ok());
  CHECK(ValidateContainer("/etc").message().rfind("Invalid input received: ", 0) == 0);
}

}  // namespace cinder::backup

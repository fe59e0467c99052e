#include "backup/engine/chunked_format.h"

#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/json.h"

namespace cinder::backup {

std::string ObjectName(const std::string& prefix, int64_t n) {
  char num[32];
  std::snprintf(num, sizeof(num), "-%05lld", static_cast<long long>(n));
  return prefix + num;
}

std::string MetadataName(const std::string& prefix) { return prefix + "_metadata"; }
std::string Sha256FileName(const std::string& prefix) { return prefix + "_sha256file"; }
std::string TempName(const std::string& name) { return kTempPrefix + name; }

std::string MakePrefix(const std::string& volume_id, const std::string& backup_id,
                       std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
  return "volume_" + volume_id + "_" + stamp + "_backup_" + backup_id;
}

std::string DefaultContainer(const std::string& backup_id) {
  return backup_id.substr(0, 2) + "/" + backup_id.substr(std::min<size_t>(2, backup_id.size()), 2) + "/" + backup_id;
}

std::string PythonDatetime(std::string_view s) {
  auto digits = [&](size_t pos, size_t n) {
    if (pos + n > s.size()) return false;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
    }
    return true;
  };
  // YYYY-MM-DD?HH:MM:SS
  if (!(digits(0, 4) && s.size() >= 19 && s[4] == '-' && digits(5, 2) && s[7] == '-' && digits(8, 2) &&
        (s[10] == 'T' || s[10] == ' ') && digits(11, 2) && s[13] == ':' && digits(14, 2) && s[16] == ':' &&
        digits(17, 2))) {
    return std::string(s);
  }
  std::string out(s.substr(0, 19));
  out[10] = ' ';
  size_t pos = 19;
  std::string micro;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') micro += s[pos++];
    if (micro.empty()) return std::string(s);
    micro.resize(6, '0');  // more than 6 digits: Python keeps microseconds only
  }
  std::string_view zone = s.substr(pos);
  if (!(zone.empty() || zone == "Z" || zone == "+00:00" || zone == "+0000")) return std::string(s);
  if (!micro.empty() && micro != "000000") out += "." + micro;
  out += "+00:00";
  return out;
}

namespace {

// Decodes one UTF-8 code point at s[*i]; an invalid sequence yields U+FFFD and one byte.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<uint8_t>(s[*i]);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  int len = 0;
  uint32_t cp = 0, min = 0;
  if ((b0 & 0xe0) == 0xc0) {
    len = 2, cp = b0 & 0x1f, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    len = 3, cp = b0 & 0x0f, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++*i;
    return 0xfffd;
  }
  if (*i + len > s.size()) {
    ++*i;
    return 0xfffd;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[*i + k]);
    if ((b & 0xc0) != 0x80) {
      ++*i;
      return 0xfffd;
    }
    cp = cp << 6 | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    ++*i;
    return 0xfffd;
  }
  *i += len;
  return cp;
}

void AppendU(std::string* out, uint32_t u) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", u);
  out->append(buf, 6);
}

void Indent(std::string* out, int level) {
  out->push_back('\n');
  out->append(static_cast<size_t>(level) * 2, ' ');
}

void AppendOptString(std::string* out, const std::optional<std::string>& s) {
  if (s) {
    AppendPyJsonString(out, *s);
  } else {
    out->append("null");
  }
}

// '  "key": ' at `level`, after a ",\n" unless first.
void Key(std::string* out, int level, const char* key, bool first = false) {
  if (!first) out->push_back(',');
  Indent(out, level);
  out->push_back('"');
  out->append(key);
  out->append("\": ");
}

Result<std::optional<std::string>> OptStringField(const json::Value& doc, const char* key) {
  const json::Value* v = doc.Find(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return InvalidArgument(std::string("\"") + key + "\" is not a string");
  return std::optional<std::string>(v->as_string());
}

std::string StringField(const json::Value& doc, const char* key) {
  const json::Value* v = doc.Find(key);
  return v != nullptr && v->is_string() ? v->as_string() : std::string();
}

}  // namespace

void AppendPyJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c >= ' ' && c <= '~' && c != '"' && c != '\\') {
      out->push_back(c);
      ++i;
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        ++i;
        continue;
      case '\\':
        out->append("\\\\");
        ++i;
        continue;
      case '\n':
        out->append("\\n");
        ++i;
        continue;
      case '\r':
        out->append("\\r");
        ++i;
        continue;
      case '\t':
        out->append("\\t");
        ++i;
        continue;
      case '\b':
        out->append("\\b");
        ++i;
        continue;
      case '\f':
        out->append("\\f");
        ++i;
        continue;
      default: break;
    }
    const uint32_t cp = NextCodePoint(s, &i);
    if (cp >= 0x10000) {
      const uint32_t v = cp - 0x10000;
      AppendU(out, 0xd800 | (v >> 10));
      AppendU(out, 0xdc00 | (v & 0x3ff));
    } else {
      AppendU(out, cp);
    }
  }
  out->push_back('"');
}

std::string SerializeMetadata(const BackupMetadata& m) {
  std::string out;
  out.reserve(1024 + m.objects.size() * 200);
  out.push_back('{');
  Key(&out, 1, "backup_description", true);
  AppendOptString(&out, m.backup_description);
  Key(&out, 1, "backup_id");
  AppendPyJsonString(&out, m.backup_id);
  Key(&out, 1, "backup_name");
  AppendOptString(&out, m.backup_name);
  Key(&out, 1, "created_at");
  AppendPyJsonString(&out, m.created_at);
  Key(&out, 1, "objects");
  if (m.objects.empty()) {
    out.append("[]");
  } else {
    out.push_back('[');
    for (size_t i = 0; i < m.objects.size(); ++i) {
      const ObjectEntry& o = m.objects[i];
      if (i > 0) out.push_back(',');
      Indent(&out, 2);
      out.push_back('{');
      Indent(&out, 3);
      AppendPyJsonString(&out, o.name);
      out.append(": {");
      Key(&out, 4, "compression", true);
      AppendPyJsonString(&out, o.compression);
      Key(&out, 4, "length");
      out.append(std::to_string(o.length));
      Key(&out, 4, "md5");
      AppendPyJsonString(&out, o.md5);
      Key(&out, 4, "offset");
      out.append(std::to_string(o.offset));
      Indent(&out, 3);
      out.push_back('}');
      Indent(&out, 2);
      out.push_back('}');
    }
    Indent(&out, 1);
    out.push_back(']');
  }
  Key(&out, 1, "parent_id");
  AppendOptString(&out, m.parent_id);
  Key(&out, 1, "version");
  AppendPyJsonString(&out, m.version);
  Key(&out, 1, "volume_id");
  AppendPyJsonString(&out, m.volume_id);
  Key(&out, 1, "volume_meta");
  AppendOptString(&out, m.volume_meta);
  Indent(&out, 0);
  out.push_back('}');
  return out;
}

Result<BackupMetadata> ParseMetadata(std::string_view text) {
  auto parsed = json::Parse(text);
  if (!parsed.ok()) return InvalidArgument("backup metadata is not JSON: " + parsed.status().message());
  const json::Value& doc = *parsed;
  if (!doc.is_object()) return InvalidArgument("backup metadata is not a JSON object");
  BackupMetadata m;
  auto desc = OptStringField(doc, "backup_description");
  if (!desc.ok()) return desc.status();
  m.backup_description = *desc;
  auto name = OptStringField(doc, "backup_name");
  if (!name.ok()) return name.status();
  m.backup_name = *name;
  auto parent = OptStringField(doc, "parent_id");
  if (!parent.ok()) return parent.status();
  m.parent_id = *parent;
  m.backup_id = StringField(doc, "backup_id");
  m.created_at = StringField(doc, "created_at");
  m.volume_id = StringField(doc, "volume_id");
  const json::Value* version = doc.Find("version");
  if (version == nullptr || !version->is_string()) return InvalidArgument("backup metadata has no \"version\"");
  m.version = version->as_string();
  if (const json::Value* vm = doc.Find("volume_meta"); vm != nullptr && !vm->is_null()) {
    m.volume_meta = vm->is_string() ? vm->as_string() : json::Serialize(*vm);
  }
  const json::Value* objects = doc.Find("objects");
  if (objects == nullptr || !objects->is_array()) return InvalidArgument("backup metadata has no \"objects\" list");
  m.objects.reserve(objects->size());
  for (const json::Value& item : objects->as_array()) {
    if (!item.is_object() || item.size() != 1) {
      return InvalidArgument("backup metadata: an entry of \"objects\" is not a one-key object");
    }
    const auto& [oname, fields] = item.as_object().front();
    ObjectEntry e;
    e.name = oname;
    const json::Value* comp = fields.Find("compression");
    e.compression = comp != nullptr && comp->is_string() ? comp->as_string() : "none";
    const json::Value* length = fields.Find("length");
    const json::Value* offset = fields.Find("offset");
    if (length == nullptr || !length->is_int() || offset == nullptr || !offset->is_int() || length->as_int() < 0 ||
        offset->as_int() < 0) {
      return InvalidArgument("backup metadata: object " + oname + " has no valid offset and length");
    }
    e.length = length->as_int();
    e.offset = offset->as_int();
    e.md5 = StringField(fields, "md5");
    m.objects.push_back(std::move(e));
  }
  return m;
}

std::string Sha256FileHead(const Sha256FileHeader& h) {
  std::string out;
  out.push_back('{');
  Key(&out, 1, "backup_description", true);
  AppendOptString(&out, h.backup_description);
  Key(&out, 1, "backup_id");
  AppendPyJsonString(&out, h.backup_id);
  Key(&out, 1, "backup_name");
  AppendOptString(&out, h.backup_name);
  Key(&out, 1, "chunk_size");
  out.append(std::to_string(h.chunk_size));
  Key(&out, 1, "created_at");
  AppendPyJsonString(&out, h.created_at);
  Key(&out, 1, "sha256s");
  out.push_back('[');
  return out;
}

void AppendSha256FileEntry(std::string* out, bool first, const Sha256Digest& d) {
  if (!first) out->push_back(',');
  out->append("\n    \"");
  out->append(ToHex(d.data(), d.size()));
  out->push_back('"');
}

std::string Sha256FileTail(const Sha256FileHeader& h, bool any_hashes) {
  std::string out;
  if (any_hashes) out.append("\n  ");
  out.push_back(']');
  Key(&out, 1, "version");
  AppendPyJsonString(&out, h.version);
  Key(&out, 1, "volume_id");
  AppendPyJsonString(&out, h.volume_id);
  out.append("\n}");
  return out;
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

void Sha256FileParser::Feed(std::string_view chunk) {
  for (size_t i = 0; i < chunk.size() && status_.ok(); ++i) {
    const char c = chunk[i];
    if (in_list_) {
      // The hashes: '"' 64 hex '"' separated by commas and white space; a fast path takes a
      // whole entry at once when it lies in this chunk.
      if (in_hash_) {
        if (c == '"') {
          EndHash();
        } else if (hex_len_ < 64) {
          hex_[hex_len_++] = c;
        } else {
          BadEntry();
        }
      } else if (IsSpace(c)) {
      } else if (c == ',' && !expect_hash_) {
        expect_hash_ = true;
      } else if (c == ']') {
        rest_.push_back(']');
        in_list_ = false;
      } else if (c == '"' && expect_hash_) {
        if (i + 65 < chunk.size() && chunk[i + 65] == '"') {
          std::memcpy(hex_, chunk.data() + i + 1, 64);
          hex_len_ = 64;
          EndHash();
          i += 65;
        } else {
          in_hash_ = true;
          hex_len_ = 0;
        }
      } else {
        BadEntry();
      }
      continue;
    }
    // The rest of the document is kept as it is, with the top-level "sha256s" list emptied.
    if (in_string_) {
      rest_.push_back(c);
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
        if (in_key_) last_key_ = std::move(key_);
        in_key_ = false;
      } else if (in_key_) {
        key_.push_back(c);
      }
      continue;
    }
    if (c == '[' && depth_ == 1 && after_colon_ && last_key_ == "sha256s" && !found_) {
      rest_.push_back('[');
      found_ = true;
      in_list_ = true;
      expect_hash_ = true;
      continue;
    }
    rest_.push_back(c);
    switch (c) {
      case '"':
        in_string_ = true;
        in_key_ = depth_ == 1 && !after_colon_;
        key_.clear();
        break;
      case ':':
        if (depth_ == 1) after_colon_ = true;
        break;
      case ',':
        if (depth_ == 1) after_colon_ = false;
        break;
      case '{':
      case '[': ++depth_; break;
      case '}':
      case ']': --depth_; break;
      default: break;
    }
  }
}

void Sha256FileParser::EndHash() {
  Sha256Digest d;
  if (hex_len_ != 64 || !ParseSha256Hex(std::string_view(hex_, 64), &d)) {
    BadEntry();
    return;
  }
  sha256s_.push_back(d);
  in_hash_ = false;
  expect_hash_ = false;
}

void Sha256FileParser::BadEntry() {
  if (status_.ok()) {
    status_ =
        InvalidArgument("backup sha256file: entry " + std::to_string(sha256s_.size()) + " is not a SHA-256 in hex");
  }
}

Result<Sha256File> Sha256FileParser::Finish() {
  if (!status_.ok()) return status_;
  if (!found_ || in_list_) {
    return InvalidArgument("backup sha256file is not a JSON object with a \"sha256s\" list");
  }
  auto parsed = json::Parse(rest_);
  if (!parsed.ok()) return InvalidArgument("backup sha256file is not JSON: " + parsed.status().message());
  std::string().swap(rest_);
  const json::Value& doc = *parsed;
  if (!doc.is_object()) return InvalidArgument("backup sha256file is not a JSON object with a \"sha256s\" list");
  Sha256File f;
  auto desc = OptStringField(doc, "backup_description");
  if (!desc.ok()) return desc.status();
  f.header.backup_description = *desc;
  auto name = OptStringField(doc, "backup_name");
  if (!name.ok()) return name.status();
  f.header.backup_name = *name;
  f.header.backup_id = StringField(doc, "backup_id");
  f.header.created_at = StringField(doc, "created_at");
  f.header.version = StringField(doc, "version");
  f.header.volume_id = StringField(doc, "volume_id");
  const json::Value* cs = doc.Find("chunk_size");
  if (cs == nullptr || !cs->is_int() || cs->as_int() <= 0) {
    return InvalidArgument("backup sha256file has no valid \"chunk_size\"");
  }
  f.header.chunk_size = cs->as_int();
  f.sha256s = std::move(sha256s_);
  return f;
}

Result<Sha256File> ParseSha256File(std::string_view text) {
  Sha256FileParser p;
  p.Feed(text);
  return p.Finish();
}

}  // namespace cinder::backup

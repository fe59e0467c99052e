// cinder-volume-copy: copies a volume's bytes to or from a file or standard input/output through
// its connection_info (like dd over the connector, include/cinder/connector.h).
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cinder/connector.h"
#include "common/json.h"

namespace po = boost::program_options;

namespace cinder {

namespace {

constexpr const char* kName = "cinder-volume-copy";

// "1M", "512K", "4096", "1GiB" -> bytes; 0 on a bad value.
uint64_t ParseSize(const std::string& text) {
  size_t used = 0;
  uint64_t n = 0;
  try {
    n = std::stoull(text, &used);
  } catch (...) {
    return 0;
  }
  std::string unit = text.substr(used);
  if (unit.size() == 3 && unit[1] == 'i' && (unit[2] == 'B' || unit[2] == 'b')) unit = unit.substr(0, 1);
  if (unit.empty() || unit == "B" || unit == "c") return n;
  int shift = 0;
  switch (unit.size() == 1 ? unit[0] : '?') {
    case 'k':
    case 'K': shift = 10; break;  // clang-format off
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: return 0;  // clang-format on
  }
  return n << shift;
}

std::string Human(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

// The progress line on a terminal: "\r 1.2 GiB / 10.0 GiB  412 MiB/s  00:21 left".
class Progress {
 public:
  Progress(uint64_t total) : total_(total), on_(isatty(STDERR_FILENO) == 1), start_(Clock::now()), last_(start_) {}
  void Update(uint64_t done, bool final = false) {
    if (!on_) return;
    auto now = Clock::now();
    if (!final && now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? done / secs : 0;
    std::string line = "\r " + Human(static_cast<double>(done)) + " / " + Human(static_cast<double>(total_)) + "  " +
                       Human(rate) + "/s";
    if (!final && rate > 0 && total_ > done) {
      uint64_t left = static_cast<uint64_t>((total_ - done) / rate);
      char buf[32];
      std::snprintf(buf, sizeof(buf), "  %02llu:%02llu left", static_cast<unsigned long long>(left / 60),
                    static_cast<unsigned long long>(left % 60));
      line += buf;
    }
    line += "      ";
    if (final) line += "\n";
    (void)!write(STDERR_FILENO, line.data(), line.size());
  }

 private:
  using Clock = std::chrono::steady_clock;
  uint64_t total_;
  bool on_;
  Clock::time_point start_, last_;
};

Status ErrnoError(const std::string& what) { return Internal(what + ": " + std::strerror(errno)); }

// Reads up to `len` bytes (fewer only at the end of the input).
Result<size_t> ReadFull(int fd, char* p, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read of the input failed");
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

Status WriteFull(int fd, const char* p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write of the output failed");
    p += n;
    len -= static_cast<size_t>(n);
  }
  return Status::OK();
}

// GET <url>/attachments/<id> (plain HTTP, microversion 3.27): the attachment's JSON.
Result<std::string> FetchAttachment(const std::string& url, const std::string& token, const std::string& id) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return InvalidArgument("--url must start with http:// (got " + url + ")");
  std::string rest = url.substr(scheme.size());
  std::string hostport = rest.substr(0, rest.find('/'));
  std::string path = rest.size() > hostport.size() ? rest.substr(hostport.size()) : "/";
  while (!path.empty() && path.back() == '/') path.pop_back();
  path += "/attachments/" + id;
  std::string host = hostport, port = "80";
  if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return Unavailable("cannot resolve " + hostport);
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    freeaddrinfo(res);
    if (fd >= 0) close(fd);
    return Unavailable("cannot connect to " + hostport + ": " + std::strerror(errno));
  }
  freeaddrinfo(res);
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + hostport + "\r\nAccept: application/json\r\n" +
                    "OpenStack-API-Version: volume 3.27\r\nX-Auth-Token: " + token + "\r\nConnection: close\r\n\r\n";
  Status st = WriteFull(fd, req.data(), req.size());
  std::string resp;
  char buf[16384];
  for (ssize_t n; st.ok() && (n = read(fd, buf, sizeof(buf))) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  CINDER_RETURN_IF_ERROR(st);
  size_t head_end = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) {
    return Unavailable("no HTTP answer from " + hostport);
  }
  int code = std::atoi(resp.c_str() + resp.find(' ') + 1);
  std::string headers = resp.substr(0, head_end);
  std::string body = resp.substr(head_end + 4);
  for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (headers.find("transfer-encoding: chunked") != std::string::npos) {
    std::string plain;
    size_t pos = 0;
    while (pos < body.size()) {
      size_t eol = body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      size_t len = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
      if (len == 0) break;
      plain += body.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
    body = plain;
  }
  if (code != 200) {
    return Unavailable("GET " + path + " answered " + std::to_string(code) + ": " + body.substr(0, 300));
  }
  return body;
}

Result<std::string> LoadConnectionInfo(const po::variables_map& vm) {
  if (vm.count("attachment")) {
    if (!vm.count("url") || !vm.count("token")) return InvalidArgument("--attachment needs --url and --token");
    return FetchAttachment(vm["url"].as<std::string>(), vm["token"].as<std::string>(),
                           vm["attachment"].as<std::string>());
  }
  std::string arg = vm["connection-info"].as<std::string>();
  if (arg != "-" && (arg.empty() || arg[0] != '@')) return arg;
  int fd = arg == "-" ? STDIN_FILENO : open(arg.c_str() + 1, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open " + arg.substr(1));
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (fd != STDIN_FILENO) close(fd);
  return text;
}

struct CopyPlan {
  bool to_volume = false;
  uint64_t offset = 0;
  uint64_t length = 0;  // 0 with has_length false: to the end (of the volume or the input)
  bool has_length = false;
  size_t block = 1 << 20;
  size_t depth = 8;
};

// Volume -> fd.
Status CopyOut(BlockDevice& dev, int out, const CopyPlan& plan, uint64_t size) {
  if (plan.offset > size) return InvalidArgument("--offset is past the end of the volume (" + Human(size) + ")");
  uint64_t total = plan.has_length ? plan.length : size - plan.offset;
  if (plan.offset + total > size) {
    return InvalidArgument("--offset + --length is past the end of the volume (" + std::to_string(size) + " bytes)");
  }
  std::vector<char> buf(plan.block * plan.depth);
  std::vector<BlockDevice::Request> batch;
  Progress progress(total);
  uint64_t done = 0;
  while (done < total) {
    batch.clear();
    size_t bytes = 0;
    for (size_t i = 0; i < plan.depth && done + bytes < total; ++i) {
      size_t len = static_cast<size_t>(std::min<uint64_t>(plan.block, total - done - bytes));
      batch.push_back({false, plan.offset + done + bytes, buf.data() + bytes, len, Status()});
      bytes += len;
    }
    CINDER_RETURN_IF_ERROR(dev.Submit(batch));
    CINDER_RETURN_IF_ERROR(WriteFull(out, buf.data(), bytes));
    done += bytes;
    progress.Update(done);
  }
  progress.Update(done, true);
  return Status::OK();
}

// fd -> volume.
Status CopyIn(BlockDevice& dev, int in, const CopyPlan& plan, uint64_t size) {
  if (plan.offset > size) return InvalidArgument("--offset is past the end of the volume (" + Human(size) + ")");
  uint64_t room = size - plan.offset;
  uint64_t total = plan.has_length ? plan.length : room;
  if (total > room) {
    return InvalidArgument("--offset + --length is past the end of the volume (" + std::to_string(size) + " bytes)");
  }
  std::vector<char> buf(plan.block * plan.depth);
  std::vector<BlockDevice::Request> batch;
  Progress progress(total);
  uint64_t done = 0;
  bool eof = false;
  while (!eof && done < total) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), total - done));
    CINDER_ASSIGN_OR_RETURN(size_t got, ReadFull(in, buf.data(), want));
    eof = got < want;
    batch.clear();
    for (size_t pos = 0; pos < got; pos += plan.block) {
      batch.push_back({true, plan.offset + done + pos, buf.data() + pos, std::min(plan.block, got - pos), Status()});
    }
    CINDER_RETURN_IF_ERROR(dev.Submit(batch));
    done += got;
    progress.Update(done);
  }
  if (!eof && !plan.has_length) {  // the volume is full: is there more input?
    char extra;
    CINDER_ASSIGN_OR_RETURN(size_t more, ReadFull(in, &extra, 1));
    if (more > 0) {
      return ResourceExhausted("the input is larger than the volume's " + std::to_string(room) + " bytes from offset " +
                               std::to_string(plan.offset) + " (" + std::to_string(done) + " bytes written)");
    }
  }
  if (plan.has_length && done < plan.length) {
    return InvalidArgument("the input ended after " + std::to_string(done) + " of the " + std::to_string(plan.length) +
                           " bytes --length asked for");
  }
  CINDER_RETURN_IF_ERROR(dev.Flush());
  progress.Update(done, true);
  return Status::OK();
}

}  // namespace

int CinderVolumeCopyMain(const std::vector<std::string>& args) {
  po::options_description desc(
      "cinder-volume-copy: copies a volume's bytes to or from a file through its connection_info\n"
      "  cinder-volume-copy --connection-info JSON|@FILE|- --read [--output FILE|-]\n"
      "  cinder-volume-copy --connection-info JSON|@FILE|- --write [--input FILE|-]\n"
      "  cinder-volume-copy --attachment ID --url http://HOST:PORT/v3/PROJECT --token TOKEN --read|--write ...\n"
      "Options");
  desc.add_options()("help,h", "show this help")("version", "print the version and exit")(
      "connection-info,c", po::value<std::string>(),
      "the attachment's connection_info: JSON text, @FILE, or - for standard input")(
      "attachment", po::value<std::string>(), "read the connection_info of this attachment from the API")(
      "url", po::value<std::string>(), "the block storage API's endpoint, http://HOST:PORT/v3/PROJECT")(
      "token", po::value<std::string>(), "the X-Auth-Token for --url")("read", "copy from the volume")(
      "write", "copy to the volume")("output,o", po::value<std::string>()->default_value("-"),
                                     "where --read writes (- : standard output)")(
      "input,i", po::value<std::string>()->default_value("-"), "what --write copies (- : standard input)")(
      "offset", po::value<std::string>()->default_value("0"), "byte offset in the volume (K, M, G suffixes)")(
      "length", po::value<std::string>(), "bytes to copy (default: to the end of the volume or of the input)")(
      "block-size", po::value<std::string>()->default_value("1M"), "bytes per I/O")(
      "queue-depth", po::value<int>()->default_value(8), "I/Os in flight")(
      "initiator", po::value<std::string>(), "iSCSI initiator name (default iqn.2026-12.org.libcinder:<hostname>)");
  po::variables_map vm;
  auto usage = [&](const std::string& why) {
    std::cerr << kName << ": " << why << " (--help for usage)\n";
    return 2;
  };
  try {
    std::vector<std::string> argv = args;
    po::store(po::command_line_parser(argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (vm.count("version")) {
    std::cout << kName << " " << CINDER_VERSION << "\n";
    return 0;
  }
  CopyPlan plan;
  if (vm.count("read") == vm.count("write")) return usage("give exactly one of --read and --write");
  plan.to_volume = vm.count("write") > 0;
  if (vm.count("connection-info") == vm.count("attachment")) {
    return usage("give exactly one of --connection-info and --attachment");
  }
  std::string offset = vm["offset"].as<std::string>();
  plan.offset = ParseSize(offset);
  if (plan.offset == 0 && offset != "0") return usage("bad --offset " + offset);
  if (vm.count("length")) {
    std::string length = vm["length"].as<std::string>();
    plan.length = ParseSize(length);
    plan.has_length = true;
    if (plan.length == 0 && length != "0") return usage("bad --length " + length);
  }
  plan.block = ParseSize(vm["block-size"].as<std::string>());
  if (plan.block == 0 || plan.block > (64u << 20)) return usage("--block-size must be between 1 and 64M");
  int depth = vm["queue-depth"].as<int>();
  if (depth < 1 || depth > 256) return usage("--queue-depth must be between 1 and 256");
  plan.depth = static_cast<size_t>(depth);
  const std::string& file = plan.to_volume ? vm["input"].as<std::string>() : vm["output"].as<std::string>();
  if (plan.to_volume && file == "-" && vm.count("connection-info") && vm["connection-info"].as<std::string>() == "-") {
    return usage("--connection-info - and --input - cannot both read standard input");
  }
  signal(SIGPIPE, SIG_IGN);  // a closed pipe or socket is an error (EPIPE), not a silent death

  auto fail = [](const Status& st) {
    std::cerr << kName << ": " << st.message() << "\n";
    return 1;
  };
  auto info = LoadConnectionInfo(vm);
  if (!info.ok()) return fail(info.status());
  ConnectorOptions options;
  if (vm.count("initiator")) options.initiator_name = vm["initiator"].as<std::string>();
  auto dev = OpenConnection(*info, options);
  if (!dev.ok()) return fail(dev.status());
  auto size = (*dev)->Size();
  if (!size.ok()) return fail(size.status());

  int fd;
  if (file == "-") {
    fd = plan.to_volume ? STDIN_FILENO : STDOUT_FILENO;
  } else {
    fd = plan.to_volume ? open(file.c_str(), O_RDONLY | O_CLOEXEC)
                        : open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(ErrnoError("cannot open " + file));
  }
  Status st = plan.to_volume ? CopyIn(**dev, fd, plan, *size) : CopyOut(**dev, fd, plan, *size);
  if (st.ok() && !plan.to_volume && file != "-" && fsync(fd) != 0) st = ErrnoError("fsync " + file);
  if (fd > STDERR_FILENO && close(fd) != 0 && st.ok()) st = ErrnoError("close " + file);
  if (!st.ok()) return fail(st);
  return 0;
}

}  // namespace cinder

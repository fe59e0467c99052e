// bench_conns: a keep-alive HTTP load generator that counts what each connection gets.
//
//   bench_conns [-c CONNS] [-t THREADS] [-d SECONDS] [-H 'Name: value']... URL
//
// Each connection sends a request, reads the whole response (Content-Length), and sends the
// next, for the duration. Prints the total rate, the responses per connection (min, median,
// max, and how many connections got none), latency percentiles, and errors (connections that
// failed or were closed, responses other than 2xx/3xx). wrk reports totals only, which hide a
// server that answers a few connections and starves the rest.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  std::string in;
  Clock::time_point sent;
  int64_t responses = 0;
  bool dead = false;
};

struct Totals {
  std::vector<int64_t> per_conn;
  std::vector<double> latencies_us;  // a sample
  int64_t bad_status = 0;
  int64_t errors = 0;
};

int Connect(const sockaddr_in& addr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// The length of a complete response at the start of `in` (0: not complete yet; -1: malformed),
// and its status code.
long ResponseLength(const std::string& in, int* status) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  if (in.compare(0, 5, "HTTP/") != 0 || in.size() < 12) return -1;
  *status = std::atoi(in.c_str() + 9);
  long length = 0;
  size_t p = 0;
  while ((p = in.find('\n', p)) != std::string::npos && p < end) {
    ++p;
    if (strncasecmp(in.c_str() + p, "content-length:", 15) == 0) length = std::atol(in.c_str() + p + 15);
  }
  long total = static_cast<long>(end + 4) + length;
  return static_cast<long>(in.size()) >= total ? total : 0;
}

void Run(const sockaddr_in& addr, const std::string& request, int conns, double seconds, Totals* out) {
  int ep = ::epoll_create1(0);
  std::vector<Conn> cs(static_cast<size_t>(conns));
  for (size_t i = 0; i < cs.size(); ++i) {
    cs[i].fd = Connect(addr);
    if (cs[i].fd < 0) {
      cs[i].dead = true;
      ++out->errors;
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
  }
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (auto& c : cs) {
    if (c.dead) continue;
    c.sent = Clock::now();
    if (::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      c.dead = true;
      ++out->errors;
    }
  }
  std::vector<epoll_event> events(256);
  char buf[65536];
  int64_t sample = 0;
  while (Clock::now() < deadline) {
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    for (int k = 0; k < n; ++k) {
      Conn& c = cs[events[k].data.u64];
      if (c.dead) continue;
      while (true) {
        ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
        if (r > 0) {
          c.in.append(buf, static_cast<size_t>(r));
          continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        c.dead = true;  // closed or reset mid-run
        ++out->errors;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        break;
      }
      if (c.dead) continue;
      int status = 0;
      long len = ResponseLength(c.in, &status);
      if (len < 0) {
        c.dead = true;
        ++out->errors;
        continue;
      }
      if (len == 0) continue;
      c.in.erase(0, static_cast<size_t>(len));
      const auto now = Clock::now();
      if (now >= deadline) break;
      ++c.responses;
      if (status < 200 || status >= 400) ++out->bad_status;
      if ((++sample & 7) == 0) {
        out->latencies_us.push_back(std::chrono::duration<double, std::micro>(now - c.sent).count());
      }
      c.sent = now;
      if (::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        c.dead = true;
        ++out->errors;
      }
    }
  }
  for (auto& c : cs) {
    out->per_conn.push_back(c.responses);
    if (c.fd >= 0) ::close(c.fd);
  }
  ::close(ep);
}

}  // namespace

int main(int argc, char** argv) {
  int conns = 64, threads = 2;
  double seconds = 10;
  std::vector<std::string> headers;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-c" && i + 1 < argc) {
      conns = std::atoi(argv[++i]);
    } else if (a == "-t" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "-d" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "-H" && i + 1 < argc) {
      headers.push_back(argv[++i]);
    } else {
      url = a;
    }
  }
  // http://HOST:PORT/PATH
  if (url.compare(0, 7, "http://") != 0) {
    std::fprintf(stderr, "usage: bench_conns [-c N] [-t N] [-d S] [-H 'K: V']... http://HOST:PORT/PATH\n");
    return 2;
  }
  std::string rest = url.substr(7);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash), path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = hostport.rfind(':');
  std::string host = hostport.substr(0, colon);
  int port = colon == std::string::npos ? 80 : std::atoi(hostport.c_str() + colon + 1);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "bench_conns: give an IPv4 address, not %s\n", host.c_str());
    return 2;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + hostport + "\r\n";
  for (const auto& h : headers) request += h + "\r\n";
  request += "\r\n";

  threads = std::max(1, std::min(threads, conns));
  std::vector<Totals> totals(static_cast<size_t>(threads));
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    int n = conns / threads + (t < conns % threads ? 1 : 0);
    ts.emplace_back(Run, addr, request, n, seconds, &totals[static_cast<size_t>(t)]);
  }
  for (auto& t : ts) t.join();
  Totals all;
  for (auto& t : totals) {
    all.per_conn.insert(all.per_conn.end(), t.per_conn.begin(), t.per_conn.end());
    all.latencies_us.insert(all.latencies_us.end(), t.latencies_us.begin(), t.latencies_us.end());
    all.bad_status += t.bad_status;
    all.errors += t.errors;
  }
  std::sort(all.per_conn.begin(), all.per_conn.end());
  std::sort(all.latencies_us.begin(), all.latencies_us.end());
  int64_t sum = 0, starved = 0;
  for (int64_t v : all.per_conn) {
    sum += v;
    if (v == 0) ++starved;
  }
  auto pct = [&](double p) {
    if (all.latencies_us.empty()) return 0.0;
    return all.latencies_us[std::min(all.latencies_us.size() - 1, static_cast<size_t>(p * all.latencies_us.size()))];
  };
  std::printf("requests/s: %.1f\n", static_cast<double>(sum) / seconds);
  std::printf("per connection: min %lld, median %lld, max %lld, none %lld of %zu\n",
              static_cast<long long>(all.per_conn.front()),
              static_cast<long long>(all.per_conn[all.per_conn.size() / 2]),
              static_cast<long long>(all.per_conn.back()), static_cast<long long>(starved), all.per_conn.size());
  std::printf("latency us: p50 %.0f, p99 %.0f, max %.0f\n", pct(0.5), pct(0.99),
              all.latencies_us.empty() ? 0.0 : all.latencies_us.back());
  std::printf("errors: %lld, non-2xx/3xx: %lld\n", static_cast<long long>(all.errors),
              static_cast<long long>(all.bad_status));
  return 0;
}

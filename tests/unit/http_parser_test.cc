// The API's HTTP request parser (api/http_parser.h): requests whole and in pieces, pipelined,
// chunked, and every limit answered with its status as soon as it is passed.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "api/http_parser.h"

namespace cinder::api {

namespace {

using State = RequestParser::State;

struct Outcome {
  State state;
  size_t consumed;  // of the input, in total
};

// Feeds `input` in pieces of at most `step` bytes, as a connection would (keeping what the
// parser did not take in front of the next piece).
Outcome Feed(RequestParser& p, const std::string& input, size_t step = 1 << 20) {
  std::string pending;
  size_t offered = 0, consumed = 0;
  State st = State::kNeedMore;
  while (true) {
    size_t used = 0;
    st = p.Parse(pending.data(), pending.size(), &used);
    pending.erase(0, used);
    consumed += used;
    if (st != State::kNeedMore || offered == input.size()) break;
    const size_t n = std::min(step, input.size() - offered);
    pending.append(input, offered, n);
    offered += n;
  }
  return {st, consumed};
}

HttpLimits Small() {
  HttpLimits l;
  l.max_body = 100;
  return l;
}

}  // namespace

TEST_CASE("a request read whole and byte by byte gives the same request") {
  const std::string text =
      "POST /v3/p/volumes?limit=1 HTTP/1.1\r\nHost: h:8776\r\nX-Auth-Token: u:p\r\n"
      "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\": \"b\"}\n";
  for (size_t step : {size_t(1), size_t(3), size_t(1000)}) {
    RequestParser p(HttpLimits{});
    Outcome o = Feed(p, text, step);
    REQUIRE(o.state == State::kDone);
    CHECK(o.consumed == text.size());
    CHECK(p.request().method == "POST");
    CHECK(p.request().target == "/v3/p/volumes?limit=1");
    CHECK(p.request().minor == 1);
    CHECK(p.request().headers.at("host") == "h:8776");
    CHECK(p.request().headers.at("x-auth-token") == "u:p");
    CHECK(p.request().body == "{\"a\": \"b\"}\n");
    CHECK(p.request().keep_alive);
  }
}

TEST_CASE("a pipelined request is left for the next parse, after Reset") {
  const std::string first = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  std::string both = first + second;
  RequestParser p(HttpLimits{});
  size_t used = 0;
  REQUIRE(p.Parse(both.data(), both.size(), &used) == State::kDone);
  CHECK(used == first.size());
  CHECK(p.request().target == "/a");
  both.erase(0, used);
  p.Reset();
  CHECK_FALSE(p.started());
  REQUIRE(p.Parse(both.data(), both.size(), &used) == State::kDone);
  CHECK(p.request().target == "/b");
  CHECK_FALSE(p.request().keep_alive);
}

TEST_CASE("keep-alive follows the HTTP version and the Connection header") {
  auto keep = [](const std::string& text) {
    RequestParser p(HttpLimits{});
    REQUIRE(Feed(p, text).state == State::kDone);
    return p.request().keep_alive;
  };
  CHECK(keep("GET / HTTP/1.1\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.1\r\nConnection: TE, close\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.0\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
}

TEST_CASE("header names are lower case, values trimmed, the last of a repeated header wins") {
  RequestParser p(HttpLimits{});
  REQUIRE(Feed(p, "GET / HTTP/1.1\r\nX-A:  one \r\nx-a:\ttwo\r\nEmpty:\r\n\r\n").state == State::kDone);
  CHECK(p.request().headers.at("x-a") == "two");
  CHECK(p.request().headers.at("empty") == "");
}

TEST_CASE("bare LF line ends and empty lines before a request are accepted") {
  RequestParser p(HttpLimits{});
  Outcome o = Feed(p, "\r\n\nGET /x HTTP/1.1\nHost: h\n\n");
  REQUIRE(o.state == State::kDone);
  CHECK(p.request().target == "/x");
}

TEST_CASE("chunked bodies are decoded, with extensions and trailers") {
  const std::string text =
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
      "GET /next HTTP/1.1\r\n\r\n";
  for (size_t step : {size_t(1), size_t(7), size_t(1000)}) {
    RequestParser p(HttpLimits{});
    Outcome o = Feed(p, text, step);
    REQUIRE(o.state == State::kDone);
    CHECK(p.request().body == "hello 0123456789");
    CHECK(text.substr(o.consumed) == "GET /next HTTP/1.1\r\n\r\n");
  }
}

TEST_CASE("a body over the limit is 413 with Cinder's message, declared or chunked") {
  const std::string message = "Request is too large. The body is limited to 100 bytes (osapi_max_request_body_size).";
  {
    RequestParser p(Small());
    // Refused at the header, before any of the body is read.
    CHECK(Feed(p, "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n").state == State::kError);
    CHECK(p.error_status() == 413);
    CHECK(p.error_message() == message);
    CHECK_FALSE(p.request().keep_alive);
  }
  {
    RequestParser p(Small());
    CHECK(Feed(p, "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n").state == State::kError);
    CHECK(p.error_status() == 413);
  }
  {
    RequestParser p(Small());
    CHECK(Feed(p, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + std::string(64, 'x') + "\r\n40\r\n")
              .state == State::kError);
    CHECK(p.error_status() == 413);
    CHECK(p.error_message() == message);
  }
  {
    RequestParser p(Small());
    CHECK(Feed(p, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffff\r\n").state ==
          State::kError);
    CHECK(p.error_status() == 413);
  }
  {
    RequestParser p(Small());  // exactly the limit is fine
    CHECK(Feed(p, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x')).state == State::kDone);
  }
}

TEST_CASE("transfer codings other than chunked are 501, and both framings at once 400") {
  RequestParser p(HttpLimits{});
  CHECK(Feed(p, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").state == State::kError);
  CHECK(p.error_status() == 501);
  CHECK(p.error_message() == "Transfer-Encoding 'gzip' is not implemented (only chunked is).");
  RequestParser q(HttpLimits{});
  CHECK(Feed(q, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n").state == State::kError);
  CHECK(q.error_status() == 400);
}

TEST_CASE("bad Content-Length headers are 400") {
  for (const char* cl : {"Content-Length: -1\r\n", "Content-Length: 1x\r\n", "Content-Length: \r\n",
                         "Content-Length: 1\r\nContent-Length: 2\r\n"}) {
    RequestParser p(HttpLimits{});
    CHECK(Feed(p, std::string("POST / HTTP/1.1\r\n") + cl + "\r\n").state == State::kError);
    CHECK(p.error_status() == 400);
  }
  RequestParser p(HttpLimits{});  // the same length twice is one length
  CHECK(Feed(p, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx").state == State::kDone);
}

TEST_CASE("over-long lines are refused as soon as they pass the limit, before they end") {
  HttpLimits limits;
  {
    RequestParser p(limits);
    CHECK(Feed(p, "GET /" + std::string(limits.max_request_line, 'a')).state == State::kError);
    CHECK(p.error_status() == 414);
  }
  {
    RequestParser p(limits);
    CHECK(Feed(p, "GET / HTTP/1.1\r\nX-Big: " + std::string(limits.max_header_line, 'a')).state == State::kError);
    CHECK(p.error_status() == 400);
    CHECK(p.error_message() == "Malformed request: a header line is longer than 16384 bytes (max_header_line).");
  }
  {
    RequestParser p(limits);  // a long line within the limit is fine
    CHECK(Feed(p, "GET / HTTP/1.1\r\nX-Token: " + std::string(16000, 'a') + "\r\n\r\n").state == State::kDone);
  }
}

TEST_CASE("too many headers, or too many header bytes, are 400") {
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  RequestParser p(HttpLimits{});
  CHECK(Feed(p, many).state == State::kError);
  CHECK(p.error_status() == 400);
  CHECK(p.error_message() == "Malformed request: more than 100 headers.");

  std::string big = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 6; ++i) big += "X-" + std::to_string(i) + ": " + std::string(12000, 'v') + "\r\n";
  RequestParser q(HttpLimits{});
  CHECK(Feed(q, big).state == State::kError);
  CHECK(q.error_status() == 400);
}

TEST_CASE("what is not HTTP/1.x is refused at its first bytes") {
  // A TLS ClientHello's record header, as a client speaking https to the plain port sends.
  RequestParser tls(HttpLimits{});
  const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  CHECK(Feed(tls, hello).state == State::kError);
  CHECK(tls.error_status() == 400);

  RequestParser h2(HttpLimits{});
  CHECK(Feed(h2, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").state == State::kError);
  CHECK(h2.error_status() == 505);

  for (const char* bad : {"GET\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/1.1 x\r\n\r\n", "GET / FTP/1.1\r\n\r\n",
                          "G(T / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\n folded\r\n\r\n",
                          "GET / HTTP/1.1\r\nNo colon\r\n\r\n", "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n"}) {
    RequestParser p(HttpLimits{});
    INFO(bad);
    CHECK(Feed(p, bad).state == State::kError);
    CHECK(p.error_status() == 400);
  }
}

TEST_CASE("Expect: 100-continue is reported once the head is read") {
  RequestParser p(HttpLimits{});
  std::string text = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  size_t used = 0;
  CHECK(p.Parse(text.data(), text.size(), &used) == State::kNeedMore);
  CHECK(used == text.size());
  CHECK(p.head_complete());
  CHECK(p.request().expect_continue);
  CHECK(p.Parse("abc", 3, &used) == State::kDone);
  CHECK(p.request().body == "abc");
}

TEST_CASE("the parser keeps at most a partial line unconsumed, and never reads past its input") {
  // Random requests, cut at random places and mangled at random: the parser either finishes,
  // waits or fails, never takes more than it was given, and reads the same request whatever
  // the cuts.
  std::mt19937 rng(11);
  const std::string base =
      "POST /v3/p/volumes HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  for (int round = 0; round < 2000; ++round) {
    std::string text = base;
    const bool mangle = round % 2 == 1;
    if (mangle) {
      for (int k = 0; k < 3; ++k) text[rng() % text.size()] = static_cast<char>(rng() % 256);
    }
    RequestParser p(HttpLimits{});
    std::string pending;
    size_t offered = 0;
    State st = State::kNeedMore;
    while (true) {
      size_t used = 0;
      st = p.Parse(pending.data(), pending.size(), &used);
      REQUIRE(used <= pending.size());
      pending.erase(0, used);
      if (st != State::kNeedMore || offered == text.size()) break;
      const size_t n = std::min<size_t>(1 + rng() % 9, text.size() - offered);
      pending.append(text, offered, n);
      offered += n;
      REQUIRE(pending.size() <= 9 + 1024);  // one partial line at most (plus the new piece)
    }
    if (!mangle) {
      REQUIRE(st == State::kDone);
      CHECK(p.request().body == "abcde");
    }
  }
}

TEST_CASE("a bad request line gets the same answer however its bytes arrive (found by the fuzzer)") {
  HttpLimits l;
  l.max_request_line = 19;
  // Not HTTP, and longer than the limit: the first byte says it is not HTTP, read whole or not.
  // A CR as the byte just past the limit: too long, read whole or not.
  const std::pair<std::string, int> cases[] = {{"ent-Length:OST /\a\a\a\a\a HTTP/1.1\r\n", 400},
                                               {"o" + std::string(17, '#') + "2\r####", 414}};
  for (const auto& [text, status] : cases) {
    for (size_t step : {size_t(1), size_t(7), size_t(1000)}) {
      CAPTURE(step);
      RequestParser p(l);
      CHECK(Feed(p, text, step).state == State::kError);
      CHECK(p.error_status() == status);
    }
  }
}

}  // namespace cinder::api

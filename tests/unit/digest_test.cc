// SHA-1 and HMAC-SHA1 against the published test vectors (FIPS 180 examples, RFC 2202), and
// the random hex of the transfers' keys.
#include <doctest/doctest.h>

#include <cstdio>
#include <set>
#include <string>

#include "common/digest.h"

namespace cinder {

namespace {

std::string Hex(const std::array<uint8_t, 20>& d) {
  std::string out;
  char buf[3];
  for (uint8_t b : d) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

}  // namespace

TEST_CASE("SHA-1 of the FIPS 180 examples") {
  CHECK(Hex(Sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(Hex(Sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(Hex(Sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  CHECK(Hex(Sha1(std::string(1000000, 'a'))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  CHECK(Hex(Sha1(std::string("a\0b", 3))) != Hex(Sha1("ab")));  // bytes, not C strings
}

TEST_CASE("HMAC-SHA1 of RFC 2202's test cases") {
  CHECK(HmacSha1Hex(std::string(20, '\x0b'), "Hi There") == "b617318655057264e28bc0b6fb378c8ef146be00");
  CHECK(HmacSha1Hex("Jefe", "what do ya want for nothing?") == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  CHECK(HmacSha1Hex(std::string(20, '\xaa'), std::string(50, '\xdd')) == "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
  // A key longer than the block is hashed first.
  CHECK(HmacSha1Hex(std::string(80, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "aa4ae5e15272d00e95705637ce8a3b55ed402112");
  CHECK(HmacSha1Hex(std::string(80, '\xaa'),
                    "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data") ==
        "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
  CHECK(HmacSha1Hex("", "") == "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

TEST_CASE("RandomHex gives the length asked for, in lower-case hex, differently each time") {
  std::set<std::string> seen;
  for (size_t n : {0, 1, 16, 33}) {
    const std::string h = RandomHex(n);
    CHECK(h.size() == n);
    CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  for (int i = 0; i < 100; ++i) seen.insert(RandomHex(16));
  CHECK(seen.size() == 100);
}

TEST_CASE("base64: RFC 4648's test vectors, every byte, and only canonical text read back") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(ToBase64(plain) == encoded);
    std::string back;
    REQUIRE(FromBase64(encoded, &back));
    CHECK(back == plain);
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::string back;
  REQUIRE(FromBase64(ToBase64(all), &back));
  CHECK(back == all);
  for (const char* bad : {"Zg", "Zg=", "Z===", "====", "Zg=a", "Z=g=", " Zm9v", "Zm9v\n", "Zm9v!A==", "Zm9vY\xff=="}) {
    CAPTURE(bad);
    CHECK_FALSE(FromBase64(bad, &back));
  }
}

}  // namespace cinder

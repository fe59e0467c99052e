#include "backup/engine/md5x8.h"

#include <immintrin.h>

#include <cstring>

#include "backup/engine/hashing.h"

namespace cinder::backup {

namespace {

constexpr uint32_t kK[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

#define CINDER_MD5_ROTL(x, s) _mm256_or_si256(_mm256_slli_epi32((x), (s)), _mm256_srli_epi32((x), 32 - (s)))

// One step of round R: a = b + rotl(a + f(b, c, d) + K[i] + M[g], s).
#define CINDER_MD5_STEP(F, a, b, c, d, i, g, s)                                                         \
  do {                                                                                                  \
    __m256i t = _mm256_add_epi32(_mm256_add_epi32((a), F((b), (c), (d))),                               \
                                 _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(kK[i])), m[(g)])); \
    (a) = _mm256_add_epi32((b), CINDER_MD5_ROTL(t, s));                                                 \
  } while (0)

#define CINDER_MD5_F(b, c, d) _mm256_xor_si256((d), _mm256_and_si256((b), _mm256_xor_si256((c), (d))))
#define CINDER_MD5_G(b, c, d) _mm256_xor_si256((c), _mm256_and_si256((d), _mm256_xor_si256((b), (c))))
#define CINDER_MD5_H(b, c, d) _mm256_xor_si256(_mm256_xor_si256((b), (c)), (d))
#define CINDER_MD5_I(b, c, d) _mm256_xor_si256((c), _mm256_or_si256((b), _mm256_xor_si256((d), ones)))

uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // little-endian, as MD5 reads its words
}

// Runs `nblocks` 64-byte blocks of each lane's input through the state.
__attribute__((target("avx2"))) void Blocks8(__m256i st[4], const uint8_t* const p[8], size_t nblocks) {
  const __m256i ones = _mm256_set1_epi32(-1);
  for (size_t blk = 0; blk < nblocks; ++blk) {
    __m256i m[16];
    const size_t o = blk * 64;
    for (int w = 0; w < 16; ++w) {
      m[w] = _mm256_setr_epi32(static_cast<int>(Load32(p[0] + o + 4 * w)), static_cast<int>(Load32(p[1] + o + 4 * w)),
                               static_cast<int>(Load32(p[2] + o + 4 * w)), static_cast<int>(Load32(p[3] + o + 4 * w)),
                               static_cast<int>(Load32(p[4] + o + 4 * w)), static_cast<int>(Load32(p[5] + o + 4 * w)),
                               static_cast<int>(Load32(p[6] + o + 4 * w)), static_cast<int>(Load32(p[7] + o + 4 * w)));
    }
    __m256i a = st[0], b = st[1], c = st[2], d = st[3];
    // Round 1.
    CINDER_MD5_STEP(CINDER_MD5_F, a, b, c, d, 0, 0, 7);
    CINDER_MD5_STEP(CINDER_MD5_F, d, a, b, c, 1, 1, 12);
    CINDER_MD5_STEP(CINDER_MD5_F, c, d, a, b, 2, 2, 17);
    CINDER_MD5_STEP(CINDER_MD5_F, b, c, d, a, 3, 3, 22);
    CINDER_MD5_STEP(CINDER_MD5_F, a, b, c, d, 4, 4, 7);
    CINDER_MD5_STEP(CINDER_MD5_F, d, a, b, c, 5, 5, 12);
    CINDER_MD5_STEP(CINDER_MD5_F, c, d, a, b, 6, 6, 17);
    CINDER_MD5_STEP(CINDER_MD5_F, b, c, d, a, 7, 7, 22);
    CINDER_MD5_STEP(CINDER_MD5_F, a, b, c, d, 8, 8, 7);
    CINDER_MD5_STEP(CINDER_MD5_F, d, a, b, c, 9, 9, 12);
    CINDER_MD5_STEP(CINDER_MD5_F, c, d, a, b, 10, 10, 17);
    CINDER_MD5_STEP(CINDER_MD5_F, b, c, d, a, 11, 11, 22);
    CINDER_MD5_STEP(CINDER_MD5_F, a, b, c, d, 12, 12, 7);
    CINDER_MD5_STEP(CINDER_MD5_F, d, a, b, c, 13, 13, 12);
    CINDER_MD5_STEP(CINDER_MD5_F, c, d, a, b, 14, 14, 17);
    CINDER_MD5_STEP(CINDER_MD5_F, b, c, d, a, 15, 15, 22);
    // Round 2: g = (5i + 1) mod 16.
    CINDER_MD5_STEP(CINDER_MD5_G, a, b, c, d, 16, 1, 5);
    CINDER_MD5_STEP(CINDER_MD5_G, d, a, b, c, 17, 6, 9);
    CINDER_MD5_STEP(CINDER_MD5_G, c, d, a, b, 18, 11, 14);
    CINDER_MD5_STEP(CINDER_MD5_G, b, c, d, a, 19, 0, 20);
    CINDER_MD5_STEP(CINDER_MD5_G, a, b, c, d, 20, 5, 5);
    CINDER_MD5_STEP(CINDER_MD5_G, d, a, b, c, 21, 10, 9);
    CINDER_MD5_STEP(CINDER_MD5_G, c, d, a, b, 22, 15, 14);
    CINDER_MD5_STEP(CINDER_MD5_G, b, c, d, a, 23, 4, 20);
    CINDER_MD5_STEP(CINDER_MD5_G, a, b, c, d, 24, 9, 5);
    CINDER_MD5_STEP(CINDER_MD5_G, d, a, b, c, 25, 14, 9);
    CINDER_MD5_STEP(CINDER_MD5_G, c, d, a, b, 26, 3, 14);
    CINDER_MD5_STEP(CINDER_MD5_G, b, c, d, a, 27, 8, 20);
    CINDER_MD5_STEP(CINDER_MD5_G, a, b, c, d, 28, 13, 5);
    CINDER_MD5_STEP(CINDER_MD5_G, d, a, b, c, 29, 2, 9);
    CINDER_MD5_STEP(CINDER_MD5_G, c, d, a, b, 30, 7, 14);
    CINDER_MD5_STEP(CINDER_MD5_G, b, c, d, a, 31, 12, 20);
    // Round 3: g = (3i + 5) mod 16.
    CINDER_MD5_STEP(CINDER_MD5_H, a, b, c, d, 32, 5, 4);
    CINDER_MD5_STEP(CINDER_MD5_H, d, a, b, c, 33, 8, 11);
    CINDER_MD5_STEP(CINDER_MD5_H, c, d, a, b, 34, 11, 16);
    CINDER_MD5_STEP(CINDER_MD5_H, b, c, d, a, 35, 14, 23);
    CINDER_MD5_STEP(CINDER_MD5_H, a, b, c, d, 36, 1, 4);
    CINDER_MD5_STEP(CINDER_MD5_H, d, a, b, c, 37, 4, 11);
    CINDER_MD5_STEP(CINDER_MD5_H, c, d, a, b, 38, 7, 16);
    CINDER_MD5_STEP(CINDER_MD5_H, b, c, d, a, 39, 10, 23);
    CINDER_MD5_STEP(CINDER_MD5_H, a, b, c, d, 40, 13, 4);
    CINDER_MD5_STEP(CINDER_MD5_H, d, a, b, c, 41, 0, 11);
    CINDER_MD5_STEP(CINDER_MD5_H, c, d, a, b, 42, 3, 16);
    CINDER_MD5_STEP(CINDER_MD5_H, b, c, d, a, 43, 6, 23);
    CINDER_MD5_STEP(CINDER_MD5_H, a, b, c, d, 44, 9, 4);
    CINDER_MD5_STEP(CINDER_MD5_H, d, a, b, c, 45, 12, 11);
    CINDER_MD5_STEP(CINDER_MD5_H, c, d, a, b, 46, 15, 16);
    CINDER_MD5_STEP(CINDER_MD5_H, b, c, d, a, 47, 2, 23);
    // Round 4: g = 7i mod 16.
    CINDER_MD5_STEP(CINDER_MD5_I, a, b, c, d, 48, 0, 6);
    CINDER_MD5_STEP(CINDER_MD5_I, d, a, b, c, 49, 7, 10);
    CINDER_MD5_STEP(CINDER_MD5_I, c, d, a, b, 50, 14, 15);
    CINDER_MD5_STEP(CINDER_MD5_I, b, c, d, a, 51, 5, 21);
    CINDER_MD5_STEP(CINDER_MD5_I, a, b, c, d, 52, 12, 6);
    CINDER_MD5_STEP(CINDER_MD5_I, d, a, b, c, 53, 3, 10);
    CINDER_MD5_STEP(CINDER_MD5_I, c, d, a, b, 54, 10, 15);
    CINDER_MD5_STEP(CINDER_MD5_I, b, c, d, a, 55, 1, 21);
    CINDER_MD5_STEP(CINDER_MD5_I, a, b, c, d, 56, 8, 6);
    CINDER_MD5_STEP(CINDER_MD5_I, d, a, b, c, 57, 15, 10);
    CINDER_MD5_STEP(CINDER_MD5_I, c, d, a, b, 58, 6, 15);
    CINDER_MD5_STEP(CINDER_MD5_I, b, c, d, a, 59, 13, 21);
    CINDER_MD5_STEP(CINDER_MD5_I, a, b, c, d, 60, 4, 6);
    CINDER_MD5_STEP(CINDER_MD5_I, d, a, b, c, 61, 11, 10);
    CINDER_MD5_STEP(CINDER_MD5_I, c, d, a, b, 62, 2, 15);
    CINDER_MD5_STEP(CINDER_MD5_I, b, c, d, a, 63, 9, 21);
    st[0] = _mm256_add_epi32(st[0], a);
    st[1] = _mm256_add_epi32(st[1], b);
    st[2] = _mm256_add_epi32(st[2], c);
    st[3] = _mm256_add_epi32(st[3], d);
  }
}

__attribute__((target("avx2"))) void Md5x8Avx2(const char* const data[8], size_t len, std::string hex[8]) {
  __m256i st[4] = {_mm256_set1_epi32(0x67452301), _mm256_set1_epi32(static_cast<int>(0xefcdab89)),
                   _mm256_set1_epi32(static_cast<int>(0x98badcfe)), _mm256_set1_epi32(0x10325476)};
  const uint8_t* p[8];
  for (int i = 0; i < 8; ++i) p[i] = reinterpret_cast<const uint8_t*>(data[i]);
  const size_t full = len / 64;
  Blocks8(st, p, full);
  // The tail, 0x80, zeros and the length in bits: one or two more blocks per lane.
  const size_t rest = len % 64;
  const size_t tail_blocks = rest < 56 ? 1 : 2;
  alignas(32) uint8_t tails[8][128];
  const uint64_t bits = static_cast<uint64_t>(len) * 8;
  for (int i = 0; i < 8; ++i) {
    std::memset(tails[i], 0, sizeof(tails[i]));
    std::memcpy(tails[i], p[i] + full * 64, rest);
    tails[i][rest] = 0x80;
    std::memcpy(tails[i] + tail_blocks * 64 - 8, &bits, 8);  // little-endian
    p[i] = tails[i];
  }
  Blocks8(st, p, tail_blocks);
  alignas(32) uint32_t words[4][8];
  for (int w = 0; w < 4; ++w) _mm256_store_si256(reinterpret_cast<__m256i*>(words[w]), st[w]);
  for (int i = 0; i < 8; ++i) {
    uint8_t digest[16];
    for (int w = 0; w < 4; ++w) std::memcpy(digest + 4 * w, &words[w][i], 4);
    hex[i] = ToHex(digest, 16);
  }
}

}  // namespace

bool HaveMd5x8() {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2;
}

void Md5x8(const char* const data[8], size_t len, std::string hex[8]) {
  if (HaveMd5x8()) {
    Md5x8Avx2(data, len, hex);
    return;
  }
  Hasher h;
  for (int i = 0; i < 8; ++i) {
    h.Md5Begin();
    h.Md5Update(data[i], len);
    hex[i] = h.Md5HexEnd();
  }
}

}  // namespace cinder::backup

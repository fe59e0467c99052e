// MD5 of eight buffers of the same length at once, in the eight 32-bit lanes of AVX2 registers
// (multi-buffer hashing, as Intel's isa-l_crypto md5_mb). MD5 is a chain of dependent steps, so
// one buffer cannot go faster than ~5 cycles a byte; eight independent ones share each
// instruction. A full backup cuts each work unit into eight objects and takes their md5s here.
#ifndef CINDER_BACKUP_ENGINE_MD5X8_H_
#define CINDER_BACKUP_ENGINE_MD5X8_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace cinder::backup {

// True when this CPU has AVX2 (else Md5x8 hashes the eight buffers one after another).
bool HaveMd5x8();

// The lower-case hex md5 of each data[i][0, len) into hex[i].
void Md5x8(const char* const data[8], size_t len, std::string hex[8]);

}  // namespace cinder::backup

#endif  // CINDER_BACKUP_ENGINE_MD5X8_H_

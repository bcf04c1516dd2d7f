#ifndef SIYU_SHA256_H
#define SIYU_SHA256_H
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the SHA extensions (and SSSE3/SSE4.1) that siyu_sha256_blocks uses.
int siyu_sha256_hw_available(void);

/// SHA-256 compression of `blocks` whole 64-byte blocks into `state` (8 words, FIPS 180-4 order),
/// with the x86 SHA instructions. Call only when siyu_sha256_hw_available() returned 1.
void siyu_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif

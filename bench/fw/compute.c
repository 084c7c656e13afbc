/* compute: the core's instruction rate between memory-mapped accesses (scripts/bench_cpu.py).
 * A bitwise CRC-32 over a 16 KiB buffer, PASSES times (the last argument, default 100): loads,
 * shifts, masks and branches, no device access. The same source is the native baseline. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint8_t buf[16384];

static uint32_t crc32(const uint8_t* p, uint32_t n, uint32_t c) {
  uint32_t i;
  int k;
  c = ~c;
  for (i = 0; i < n; ++i) {
    c ^= p[i];
    for (k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

int main(int argc, char** argv) {
  const int passes = argc > 1 ? atoi(argv[argc - 1]) : 100;
  uint32_t c = 0, i;
  int r;
  for (i = 0; i < sizeof buf; ++i) buf[i] = (uint8_t)(i * 131u + 7u);
  for (r = 0; r < passes; ++r) c = crc32(buf, sizeof buf, c);
  printf("crc32 %08x after %d passes\n", (unsigned)c, passes);
  return 0;
}

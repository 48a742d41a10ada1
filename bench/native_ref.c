// Reference for the benchmarks: the same pinned C-Blosc2 source that wasm/build.sh compiles,
// built natively by bench/native_ref.sh for baseline x86-64 (SSE2, no AVX2, no BMI2). It
// separates the cost of WebAssembly from that of the instruction set: python-blosc2's build
// uses AVX2 shuffle/bitshuffle and BMI2 Zstd paths that wasm SIMD128 has no equivalent for.
//
//   native_ref decode RUNS WARMUP FILE...   one JSON line per chunk file: timings of
//                                           blosc2_decompress_ctx, nthreads=1
//   native_ref slice B2ND BUDGET_S START:STOP,...   one JSON line: timings of
//                                           b2nd_get_slice_cbuffer, nthreads=1
// Every line carries the sha256 of the decoded bytes, which bench/native-ref.mjs compares
// with python-blosc2's.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b2nd.h"
#include "blosc2.h"

// ---- sha256 (FIPS 180-4), enough to fingerprint results ----
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t* p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

static void sha256_hex(const uint8_t* data, uint64_t n, char hex[65]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  uint64_t i = 0;
  for (; i + 64 <= n; i += 64) sha256_block(h, data + i);
  uint8_t tail[128] = {0};
  uint64_t rest = n - i;
  memcpy(tail, data + i, rest);
  tail[rest] = 0x80;
  uint64_t len = rest + 9 <= 64 ? 64 : 128;
  for (int j = 0; j < 8; j++) tail[len - 1 - j] = (uint8_t)((n * 8) >> (8 * j));
  sha256_block(h, tail);
  if (len == 128) sha256_block(h, tail + 64);
  for (int j = 0; j < 8; j++) sprintf(hex + 8 * j, "%08x", h[j]);
}

// ---- timing ----
static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void print_seconds(const double* s, int n) {
  printf("\"seconds\":[");
  for (int i = 0; i < n; i++) printf("%s%.9f", i ? "," : "", s[i]);
  printf("]");
}

static int fail(const char* what, const char* where, int rc) {
  fprintf(stderr, "native_ref: %s failed for %s (%d)\n", what, where, rc);
  return 1;
}

static int decode(int runs, int warmup, int nfiles, char** files) {
  blosc2_dparams dparams = BLOSC2_DPARAMS_DEFAULTS;
  dparams.nthreads = 1;
  blosc2_context* dctx = blosc2_create_dctx(dparams);
  double* seconds = malloc(sizeof(double) * (size_t)runs);
  for (int f = 0; f < nfiles; f++) {
    FILE* fp = fopen(files[f], "rb");
    if (!fp) return fail("open", files[f], 0);
    fseek(fp, 0, SEEK_END);
    long csize = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t* chunk = malloc((size_t)csize);
    if (fread(chunk, 1, (size_t)csize, fp) != (size_t)csize) return fail("read", files[f], 0);
    fclose(fp);
    int32_t nbytes, cbytes, blocksize;
    int rc = blosc2_cbuffer_sizes(chunk, &nbytes, &cbytes, &blocksize);
    if (rc < 0) return fail("blosc2_cbuffer_sizes", files[f], rc);
    uint8_t* out = malloc((size_t)nbytes);
    for (int i = 0; i < warmup + runs; i++) {
      double t0 = now_s();
      rc = blosc2_decompress_ctx(dctx, chunk, (int32_t)csize, out, nbytes);
      double t = now_s() - t0;
      if (rc != nbytes) return fail("blosc2_decompress_ctx", files[f], rc);
      if (i >= warmup) seconds[i - warmup] = t;
    }
    char hex[65];
    sha256_hex(out, (uint64_t)nbytes, hex);
    printf("{\"file\":\"%s\",\"nbytes\":%d,", files[f], nbytes);
    print_seconds(seconds, runs);
    printf(",\"sha256\":\"%s\"}\n", hex);
    fflush(stdout);
    free(out);
    free(chunk);
  }
  free(seconds);
  blosc2_free_ctx(dctx);
  return 0;
}

// Runs as python's bench/native_slices.py does: one untimed run, then as many as fit in the
// budget (3 to 15).
static int slice(const char* path, double budget, const char* ranges) {
  b2nd_array_t* arr = NULL;
  int rc = b2nd_open(path, &arr);
  if (rc < 0) return fail("b2nd_open", path, rc);
  int64_t start[B2ND_MAX_DIM], stop[B2ND_MAX_DIM], shape[B2ND_MAX_DIM];
  int64_t n = arr->sc->typesize;
  const char* p = ranges;
  for (int d = 0; d < arr->ndim; d++) {
    int used = 0;
    if (sscanf(p, "%" SCNd64 ":%" SCNd64 "%n", &start[d], &stop[d], &used) != 2)
      return fail("parsing START:STOP", ranges, d);
    p += used + (p[used] == ',');
    shape[d] = stop[d] - start[d];
    n *= shape[d];
  }
  double seconds[15];
  int runs = 15;
  char hex[65];
  for (int i = -1; i < runs; i++) {
    // A new output each run, as python-blosc2 (a new NumPy array) and our `get` have.
    double t0 = now_s();
    uint8_t* out = malloc((size_t)n);
    if (!out) return fail("malloc", path, 0);
    rc = b2nd_get_slice_cbuffer(arr, start, stop, out, shape, n);
    double t = now_s() - t0;
    if (rc < 0) return fail("b2nd_get_slice_cbuffer", path, rc);
    if (i < 0) {
      int fit = (int)(budget / (t > 1e-6 ? t : 1e-6));
      runs = fit < 3 ? 3 : fit > 15 ? 15 : fit;
      sha256_hex(out, (uint64_t)n, hex);
    } else {
      seconds[i] = t;
    }
    free(out);
  }
  printf("{");
  print_seconds(seconds, runs);
  printf(",\"sha256\":\"%s\"}\n", hex);
  b2nd_free(arr);
  return 0;
}

int main(int argc, char** argv) {
  blosc2_init();
  int rc = 2;
  if (argc >= 5 && strcmp(argv[1], "decode") == 0) {
    rc = decode(atoi(argv[2]), atoi(argv[3]), argc - 4, argv + 4);
  } else if (argc == 5 && strcmp(argv[1], "slice") == 0) {
    rc = slice(argv[2], atof(argv[3]), argv[4]);
  } else {
    fprintf(stderr, "usage: native_ref decode RUNS WARMUP FILE... | slice B2ND BUDGET_S START:STOP,...\n");
  }
  blosc2_destroy();
  return rc;
}

// Thin glue between JavaScript and C-Blosc2: flat integer arguments, no structs across the
// boundary. Every function returns a Blosc2 error code (< 0) or a non-negative result.
#include <stdbool.h>
#include <stdint.h>
#include <malloc.h>
#include <string.h>

#include <emscripten.h>

#include "blosc2.h"

// The decompression context is reused: creating one per call would dominate small reads.
static blosc2_context* dctx = NULL;

EMSCRIPTEN_KEEPALIVE int zb_init(void) {
  blosc2_init();
  if (dctx == NULL) {
    blosc2_dparams dparams = BLOSC2_DPARAMS_DEFAULTS;
    dparams.nthreads = 1;
    dctx = blosc2_create_dctx(dparams);
    if (dctx == NULL) return BLOSC2_ERROR_MEMORY_ALLOC;
  }
  return 0;
}

EMSCRIPTEN_KEEPALIVE const char* zb_version(void) { return BLOSC2_VERSION_STRING; }

// What the build enabled: bit 0 wasm SIMD128, bit 1 C-Blosc2's SSE2 shuffle (run on SIMD128),
// bit 2 bulk memory. Tests check these so a flag lost from build.sh does not go unnoticed.
EMSCRIPTEN_KEEPALIVE int32_t zb_features(void) {
  int32_t f = 0;
#ifdef __wasm_simd128__
  f |= 1;
#endif
#ifdef SHUFFLE_SSE2_ENABLED
  f |= 2;
#endif
#ifdef __wasm_bulk_memory__
  f |= 4;
#endif
  return f;
}

// Bytes currently allocated by malloc: lets tests prove that calls do not leak.
EMSCRIPTEN_KEEPALIVE int32_t zb_heap_in_use(void) { return (int32_t)mallinfo().uordblks; }

// params: codec, clevel, typesize, blocksize, splitmode, use_dict,
//         filters[6], filters_meta[6]  (18 int32 values)
EMSCRIPTEN_KEEPALIVE int zb_compress(const void* src, int32_t srcsize, void* dest,
                                     int32_t destsize, const int32_t* params) {
  blosc2_cparams cparams = BLOSC2_CPARAMS_DEFAULTS;
  cparams.compcode = (uint8_t)params[0];
  cparams.clevel = (uint8_t)params[1];
  cparams.typesize = params[2];
  cparams.blocksize = params[3];
  cparams.splitmode = params[4];
  cparams.use_dict = params[5];
  cparams.nthreads = 1;
  for (int i = 0; i < BLOSC2_MAX_FILTERS; i++) {
    cparams.filters[i] = (uint8_t)params[6 + i];
    cparams.filters_meta[i] = (uint8_t)params[12 + i];
  }
  blosc2_context* cctx = blosc2_create_cctx(cparams);
  if (cctx == NULL) return BLOSC2_ERROR_INVALID_PARAM;
  int rc = blosc2_compress_ctx(cctx, src, srcsize, dest, destsize);
  blosc2_free_ctx(cctx);
  // 0 means "did not fit", which cannot happen with destsize >= srcsize + overhead;
  // report it as a write-buffer error rather than an empty chunk.
  return rc == 0 ? BLOSC2_ERROR_WRITE_BUFFER : rc;
}

EMSCRIPTEN_KEEPALIVE int zb_decompress(const void* src, int32_t srcsize, void* dest,
                                       int32_t destsize) {
  return blosc2_decompress_ctx(dctx, src, srcsize, dest, destsize);
}

// Decompresses only the blocks whose maskout byte is 0; the others are left untouched in dest.
EMSCRIPTEN_KEEPALIVE int zb_decompress_masked(const void* src, int32_t srcsize, void* dest,
                                              int32_t destsize, const uint8_t* maskout,
                                              int32_t nblocks) {
  // bool is one byte in wasm32, so the JS byte mask can be passed through as is.
  int rc = blosc2_set_maskout(dctx, (bool*)maskout, nblocks);
  if (rc < 0) return rc;
  return blosc2_decompress_ctx(dctx, src, srcsize, dest, destsize);
}

EMSCRIPTEN_KEEPALIVE int zb_getitem(const void* src, int32_t srcsize, int32_t start,
                                    int32_t nitems, void* dest, int32_t destsize) {
  return blosc2_getitem_ctx(dctx, src, srcsize, start, nitems, dest, destsize);
}

#!/usr/bin/env bash
# Builds wasm/build/blosc2.wasm from the pinned C-Blosc2 source (wasm/source.env).
# Downloads the source package once into wasm/.cache, checks its sha256, and skips the
# compile when the inputs have not changed. Nothing fetched or built here is committed.
set -euo pipefail
trap 'echo "wasm: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=wasm/source.env
source "$here/source.env"
cache="$here/.cache"
out="$here/build"
mkdir -p "$cache" "$out"

tarball="$cache/$SOURCE_PACKAGE-$SOURCE_VERSION.tar.gz"
if [ ! -f "$tarball" ] || ! echo "$SOURCE_SHA256  $tarball" | sha256sum -c --status; then
  echo "wasm: downloading $SOURCE_PACKAGE $SOURCE_VERSION"
  curl -fsSL --retry 3 -o "$tarball.part" "$SOURCE_URL"
  if ! echo "$SOURCE_SHA256  $tarball.part" | sha256sum -c --status; then
    echo "wasm: sha256 mismatch for $SOURCE_URL (expected $SOURCE_SHA256)" >&2
    rm -f "$tarball.part"
    exit 1
  fi
  mv "$tarball.part" "$tarball"
fi

# shellcheck source=wasm/sources.sh
source "$here/sources.sh"
blosc2_dirs "$cache"
if [ ! -f "$src/.extracted" ]; then
  rm -rf "$src"
  mkdir -p "$src"
  tar -xzf "$tarball" -C "$src" --strip-components=1 \
    "$SOURCE_PACKAGE-$SOURCE_VERSION/lib/c-blosc2" \
    "$SOURCE_PACKAGE-$SOURCE_VERSION/lib/c-blosc/internal-complibs"
  touch "$src/.extracted"
fi
got=$(sed -n 's/^#define BLOSC2_VERSION_STRING *"\([^"]*\)".*/\1/p' "$b2/include/blosc2.h")
if [ "$got" != "$BLOSC2_VERSION" ]; then
  echo "wasm: expected C-Blosc2 $BLOSC2_VERSION in the source package, found '$got'" >&2
  exit 1
fi

# -msimd128: WebAssembly SIMD (Node >= 16.4, Chrome 91, Firefox 89, Safari 16.4; no scalar build is
# kept). -msse2 lets Emscripten translate C-Blosc2's SSE2 shuffle/bitshuffle/fastcopy intrinsics
# to SIMD128. -mbulk-memory turns large memcpy/memset into memory.copy/fill. LZ4_FAST_DEC_LOOP:
# LZ4 enables its faster decoder loop only on x86/aarch64; on wasm it gains ~10%.
# The NDLZ plugin is compiled without SIMD: its xxhash.h includes <arm_neon.h> whenever
# __wasm_simd128__ is set, and Emscripten 3.1.6 lacks the SIMDe headers that needs.
# LZ4 is compiled without -flto: link-time inlining puts its decoder inside C-Blosc2's huge
# blosc_d, where V8 runs it 1.3-1.5x slower (a W2 chunk: 2.0 vs 3.1 GB/s decoded). Zstd and
# BloscLZ measured the same either way, so the rest keeps LTO.
flags=(-O3 -flto -msimd128 -msse2 -mbulk-memory -DSHUFFLE_SSE2_ENABLED -DLZ4_FAST_DEC_LOOP=1 "${blosc2_defines[@]}")
link=(-sSTANDALONE_WASM --no-entry -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB
  -sINITIAL_MEMORY=16MB -sTOTAL_STACK=1MB -sERROR_ON_UNDEFINED_SYMBOLS=1
  -sEXPORTED_FUNCTIONS=_malloc,_free)

# The licences of what is compiled in travel with the binary (refreshed on every run, without
# a rebuild). Names are lower case: C-Blosc2 ships ZLIB.txt (an older zlib text) and the zlib
# compiled in has its own LICENSE; two names differing only in case clash on case-insensitive
# file systems, so zlib.txt is the compiled zlib's and C-Blosc2's copy is left out.
rm -rf "$out/licenses"
mkdir -p "$out/licenses"
cp "$b2/LICENSE.txt" "$out/licenses/c-blosc2.txt"
for f in "$b2"/LICENSES/*.txt; do
  name=$(basename "$f" | tr '[:upper:]' '[:lower:]')
  [ "$name" = zlib.txt ] || cp "$f" "$out/licenses/$name"
done
cp "$libs/$ZLIB_DIR/LICENSE" "$out/licenses/zlib.txt"

stamp_input=$(cat "$here/source.env" "$here/build.sh" "$here/sources.sh" "$here/glue.c"; emcc --version 2>/dev/null | sed -n 1p)
stamp=$(printf '%s' "$stamp_input" | sha256sum | cut -d' ' -f1)
if [ -f "$out/blosc2.wasm" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "wasm: up to date ($out/blosc2.wasm)"
  exit 0
fi

export NODE_PATH=/usr/share/nodejs # emscripten's tools look for acorn there
obj="$out/obj"
rm -rf "$obj"
mkdir -p "$obj"
# shuffle.c picks its SSE2 code only on x86 (cpuid). On wasm the SIMD128 feature is fixed at
# build time, so a patched copy reports SSE2 as present; the C-Blosc2 tree stays untouched.
anchor='#else   /* No hardware acceleration supported for the target architecture. */'
if [ "$(grep -cF "$anchor" "$b2/blosc/shuffle.c")" != 1 ]; then
  echo "wasm: shuffle.c changed upstream; cannot place the wasm SIMD patch" >&2
  exit 1
fi
awk -v anchor="$anchor" '$0 == anchor {
  print "#elif defined(SHUFFLE_SSE2_ENABLED) && defined(__wasm_simd128__) /* zarr-blosc2: wasm SIMD128 */"
  print "static blosc_cpu_features blosc_get_cpu_features(void) { return BLOSC_HAVE_SSE2; }"
} { print }' "$b2/blosc/shuffle.c" > "$obj/shuffle-wasm.c"
blosc2_sources "$b2" "$libs"
sources=("$here/glue.c")
for f in "${blosc2_c_files[@]}"; do
  [ "$f" = "$b2/blosc/shuffle.c" ] && f="$obj/shuffle-wasm.c"
  sources+=("$f")
done
includes=("${blosc2_includes[@]}")

echo "wasm: compiling ${#sources[@]} files with $(emcc --version | sed -n 1p | cut -c1-60)"
jobs=$(nproc)
failed=0
i=0
for s in "${sources[@]}"; do
  i=$((i + 1))
  file_flags=()
  for f in "${flags[@]}"; do
    case "$s:$f" in */ndlz/*:-msimd128 | */ndlz/*:-msse2 | */lz4*.c:-flto) ;; *) file_flags+=("$f") ;; esac
  done
  emcc "${file_flags[@]}" "${includes[@]}" -c "$s" -o "$obj/$i-$(basename "$s" .c).o" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || failed=1; done
done
while [ -n "$(jobs -rp)" ]; do wait -n || failed=1; done
wait || failed=1
if [ "$failed" != 0 ]; then
  echo "wasm: compile failed" >&2
  exit 1
fi
emcc "${flags[@]}" "${link[@]}" "$obj"/*.o -o "$out/blosc2.wasm"
rm -rf "$obj"
echo "$stamp" > "$out/.stamp"
echo "wasm: built $out/blosc2.wasm ($(stat -c %s "$out/blosc2.wasm") bytes)"

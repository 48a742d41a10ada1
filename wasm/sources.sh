# shellcheck shell=bash
# The C sources and include folders of C-Blosc2 and its bundled codecs that are compiled in,
# shared by wasm/build.sh and bench/native_ref.sh (which builds the same source natively).
# Needs wasm/source.env sourced.

# Where wasm/build.sh unpacks the source package under <cache dir>: sets src, b2 and libs.
blosc2_dirs() {
  src="$1/$SOURCE_PACKAGE-$SOURCE_VERSION"
  b2="$src/lib/c-blosc2"
  libs="$src/lib/c-blosc/internal-complibs"
}

# Preprocessor flags both builds share: the codecs and plugins compiled in, no Zstd assembly
# (x86-64 only), no threads inside Zstd, no legacy Zstd formats.
blosc2_defines=(-DHAVE_ZLIB=1 -DHAVE_ZSTD=1 -DHAVE_PLUGINS=1 -DZSTD_DISABLE_ASM -DZSTD_MULTITHREAD=0
  -DZSTD_LEGACY_SUPPORT=0 -DNDEBUG)

# blosc2_sources <c-blosc2 dir> <internal-complibs dir>: sets the arrays blosc2_c_files and
# blosc2_includes.
blosc2_sources() {
  local b2=$1 libs=$2 f
  # The plugins hold the bytedelta filter (and int_trunc, ndcell, ndmean, the NDLZ codec), all
  # registered by blosc2_init when HAVE_PLUGINS is defined. ZFP is left out.
  blosc2_c_files=("$b2"/blosc/*.c
    "$b2"/plugins/{codecs,filters,tuners}/*-registry.c "$b2"/plugins/filters/*/[!t]*.c
    "$b2"/plugins/codecs/ndlz/[!t]*.c
    "$libs/$LZ4_DIR/lz4.c" "$libs/$LZ4_DIR/lz4hc.c")
  for f in adler32 compress crc32 deflate infback inffast inflate inftrees trees uncompr zutil; do
    blosc2_c_files+=("$libs/$ZLIB_DIR/$f.c")
  done
  blosc2_c_files+=("$libs/$ZSTD_DIR"/{common,compress,decompress,dictBuilder}/*.c)
  blosc2_includes=(-I"$b2/include" -I"$b2/blosc" -I"$b2/plugins" -I"$b2" -I"$libs/$LZ4_DIR"
    -I"$libs/$ZLIB_DIR" -I"$libs/$ZSTD_DIR" -I"$libs/$ZSTD_DIR/common")
}

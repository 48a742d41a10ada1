#!/usr/bin/env bash
# Builds bench/out/native-ref/native_ref: bench/native_ref.c linked with the pinned C-Blosc2
# source that wasm/build.sh compiles to wasm, here compiled natively by gcc for baseline
# x86-64: SSE2 shuffle/bitshuffle (C-Blosc2's AVX2 code left out), no BMI2 paths in Zstd, no
# Zstd assembly; the instruction set closest to wasm SIMD128. Skips the build when nothing
# changed. Used by bench/run.mjs as a reference, not a contender.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$here/out/native-ref"
bash "$root/wasm/build.sh" >/dev/null # makes sure the source package is downloaded and unpacked
# shellcheck source=wasm/source.env
source "$root/wasm/source.env"
# shellcheck source=wasm/sources.sh
source "$root/wasm/sources.sh"
blosc2_dirs "$root/wasm/.cache"
blosc2_sources "$b2" "$libs"
flags=(-O3 -march=x86-64 -mtune=generic -DSHUFFLE_SSE2_ENABLED -DDYNAMIC_BMI2=0 "${blosc2_defines[@]}")
stamp=$(cat "$root/wasm/source.env" "$root/wasm/sources.sh" "$0" "$here/native_ref.c" | sha256sum | cut -d' ' -f1)
if [ -x "$out/native_ref" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then exit 0; fi
echo "native-ref: compiling ${#blosc2_c_files[@]} files with $(gcc --version | sed -n 1p)" >&2
rm -rf "$out"
mkdir -p "$out/obj"
jobs=$(nproc)
failed=0
i=0
for s in "${blosc2_c_files[@]}"; do
  i=$((i + 1))
  gcc "${flags[@]}" "${blosc2_includes[@]}" -c "$s" -o "$out/obj/$i-$(basename "$s" .c).o" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || failed=1; done
done
while [ -n "$(jobs -rp)" ]; do wait -n || failed=1; done
if [ "$failed" != 0 ]; then
  echo "native-ref: compile failed" >&2
  exit 1
fi
gcc "${flags[@]}" "${blosc2_includes[@]}" "$here/native_ref.c" "$out"/obj/*.o -o "$out/native_ref" -lpthread -lm
rm -rf "$out/obj"
echo "$stamp" > "$out/.stamp"

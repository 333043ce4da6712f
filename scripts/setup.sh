#!/usr/bin/env bash
# Sets up kldm on a fresh Debian/Ubuntu machine: the BLAS libraries the native
# engine links against (optional: without them kldm falls back to its slower
# TypeScript engine and says so), then the npm dependencies, the native addon
# and the TypeScript build (`npm ci` runs both through the install/prepare scripts).
# Pass --with-browser to also install Debian's Chromium for the browser tests, and --with-redis for
# Debian's redis-server (the scale-out tests start their own on loopback; kldm itself needs none).
set -euo pipefail
cd "$(dirname "$0")/.."

want=(libopenblas-dev libdnnl-dev)
for arg in "$@"; do
  case "$arg" in
    --with-browser) want+=(chromium) ;;
    --with-redis) want+=(redis-server) ;;
    *) echo "setup: unknown option $arg (use --with-browser, --with-redis)" >&2; exit 2 ;;
  esac
done

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
    echo "setup: installing ${missing[*]} with apt-get"
    if ! ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null); then
      echo "setup: warning: could not install ${missing[*]}; continuing (the engine falls back to TypeScript, browser tests skip)"
    fi
  fi
else
  echo "setup: no apt-get here; install OpenBLAS (or oneDNN) development files yourself for the fast native engine"
fi

# node-gyp must build against the local Node headers, never download them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then
  export npm_config_nodedir=/usr
fi
npm ci --no-audit --no-fund

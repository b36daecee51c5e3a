#!/usr/bin/env bash
# Print a folder holding a pinned Node.js (>= 22) binary. Uses the machine's node when it is new
# enough; otherwise installs the npm package `node@NODE_VERSION` (which carries a real Node binary)
# into a cache keyed by version, outside the checkout.
set -euo pipefail
NODE_VERSION="${NODE_VERSION:-22.23.3}"
want_major="${NODE_VERSION%%.*}"
if command -v node >/dev/null; then
  have_major="$(node -p 'process.versions.node.split(".")[0]')"
  if (( have_major >= want_major )); then dirname "$(command -v node)"; exit 0; fi
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/agent-identity-operator/node-v$NODE_VERSION"
bin="$cache/node_modules/node/bin"
if [[ ! -x "$bin/node" ]]; then
  echo "[node] installing Node.js $NODE_VERSION from the npm registry into $cache" >&2
  tmp="$(mktemp -d "${cache}.partial.XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$cache")"; mktemp -d "${cache}.partial.XXXXXX"; })"
  npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >&2
  rm -rf "$cache"; mv "$tmp" "$cache"
fi
"$bin/node" --version >/dev/null
echo "$bin"

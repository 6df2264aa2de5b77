#!/usr/bin/env bash
# Install the pinned js-ipfs test node into this folder, only when node_modules is missing or the lock changed.
# Usage: offchain/storage/ipfs-node/install.sh   (from anywhere; safe to run on every `make`)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stamp="$here/node_modules/.asc-installed-lock.sha256"
lock_hash="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"

if [[ -x "$here/node_modules/.bin/jsipfs" && -f "$stamp" && "$(cat "$stamp")" == "$lock_hash" ]]; then
    echo "js-ipfs test node already installed ($here/node_modules)"
    exit 0
fi

command -v npm >/dev/null || { echo "npm not found: install Node 20 first" >&2; exit 1; }
echo "installing js-ipfs test node into $here/node_modules (about 290 MB, 1 minute)"
# --fetch-retries=0: on machines without the registry, fail at once instead of retrying for minutes.
(cd "$here" && npm ci --omit=optional --no-audit --no-fund --fetch-retries=0)
"$here/node_modules/.bin/jsipfs" --version >/dev/null
echo "$lock_hash" > "$stamp"
echo "js-ipfs test node installed"

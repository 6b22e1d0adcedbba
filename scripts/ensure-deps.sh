#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than package-lock.json, so
# `npm start` and `npm test` work on a fresh clone with nothing but Node, Go and Debian packages.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
	echo "installing npm dependencies…"
	# `npm install` (which keeps the locked versions), not `npm ci`: the lock records optional
	# per-platform binaries (e.g. msgpackr-extract for darwin) that this machine's registry does not
	# serve, and `npm ci` refuses a lock it cannot fully resolve. --no-save: installing never writes
	# the tracked package-lock.json (npm would otherwise rewrite it, e.g. to add or drop optional
	# entries, or `resolved` URLs under another registry config); test/platform/first-run.test.ts
	# checks that the committed lock is the one npm would write.
	npm install --no-save --no-audit --no-fund --loglevel=error
fi

#!/usr/bin/env bash
# `npm start`: install the npm dependencies when needed, then the relay (API + worker, scripts/dev.ts)
# with local Redis and FerretDB (scripts/with-services.sh). exec, so that npm's child is the process
# that stops everything: Ctrl-C or SIGTERM to any process of the tree stops all of it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
export LOCAL_SERVICES_PERSIST="${LOCAL_SERVICES_PERSIST:-1}"
exec bash scripts/with-services.sh node --import tsx scripts/dev.ts

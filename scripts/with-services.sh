#!/usr/bin/env bash
# Run a command with Redis and a MongoDB-compatible server available:
#   bash scripts/with-services.sh <command> [args...]
# The supervisor is scripts/services/ (supervisor.ts says what it reads, exports and guarantees);
# this shim stays because package.json, CI and the docs call it. exec: the supervisor is this process.
exec node "$(dirname "${BASH_SOURCE[0]}")/services/main.mjs" "$@"

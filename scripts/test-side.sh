#!/usr/bin/env bash
# The checks that run beside mocha in scripts/test.sh, one after the other, on Redis and FerretDB of
# their own (scripts/test.sh starts this under a second scripts/with-services.sh: the chaos tests
# restart mocha's services, which would fail these): the API fuzzing (scripts/fuzz.sh), the
# TypeScript SDK (scripts/test-typescript.sh) and the Python SDKs (scripts/test-python.sh). Prints
# each part's output, and after each a line "side: <part> exit <code>" that scripts/test.sh reads.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
echo "== API fuzzing"
bash scripts/fuzz.sh
echo "side: fuzz exit $?"
echo "== typescript SDK"
bash scripts/test-typescript.sh
echo "side: typescript exit $?"
echo "== python SDKs"
bash scripts/test-python.sh
echo "side: python exit $?"

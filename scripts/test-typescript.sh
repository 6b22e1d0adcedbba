#!/usr/bin/env bash
# The TypeScript SDK's checks (sdk/typescript, @bloonio/relay): its typecheck (its own tsconfig),
# its circular-import check, the package build (ESM + CJS into sdk/typescript/dist), then its mocha
# tests, whose harness starts the relay (API + worker) itself against REDIS_URL / MONGODB_URI (run it
# inside scripts/with-services.sh, as scripts/test.sh does). Lint and formatting are the project's
# (eslint . and prettier cover the package). Ends with one line "typescript: N passed, N failed,
# N skipped"; TS_SDK_MOCHA_ARGS narrows the run (e.g. "sdk/typescript/test/stores.test.ts").
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
bin="$ROOT/node_modules/.bin"

echo "== typescript SDK: typecheck"
"$bin/tsc" -p sdk/typescript/tsconfig.json || exit 1
echo "== typescript SDK: circular imports"
"$bin/madge" --circular --extensions ts --ts-config sdk/typescript/tsconfig.json sdk/typescript/src >/tmp/madge-sdk.$$ 2>&1 || {
	cat /tmp/madge-sdk.$$
	rm -f /tmp/madge-sdk.$$
	exit 1
}
rm -f /tmp/madge-sdk.$$
echo "== typescript SDK: build"
"$bin/tsx" sdk/typescript/scripts/build.ts || exit 1
echo "== typescript SDK: tests"
log="$(mktemp)"
# shellcheck disable=SC2086 # TS_SDK_MOCHA_ARGS is a list of files
"$bin/mocha" --config sdk/typescript/.mocharc.json ${TS_SDK_MOCHA_ARGS:-'sdk/typescript/test/**/*.test.ts'} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo '^ +[0-9]+ passing' "$log" | grep -Eo '[0-9]+' | tail -1)
failed=$(grep -Eo '^ +[0-9]+ failing' "$log" | grep -Eo '[0-9]+' | tail -1)
pending=$(grep -Eo '^ +[0-9]+ pending' "$log" | grep -Eo '[0-9]+' | tail -1)
rm -f "$log"
echo "typescript: ${passed:-0} passed, ${failed:-0} failed, ${pending:-0} skipped"
if [[ $status -eq 0 && -z "${passed:-}" ]]; then
	echo "no TypeScript SDK test ran" >&2
	exit 1
fi
exit "$status"

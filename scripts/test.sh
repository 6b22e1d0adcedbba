#!/usr/bin/env bash
# The whole check, in CI order: lint → typecheck → tests (mocha against the real Redis and FerretDB
# that scripts/with-services.sh started). Ends with one summary line "tests: N passed, N failed".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

echo "== lint"
npx eslint . || exit 1
npx prettier --check --log-level warn . || exit 1
echo "== typecheck"
npx tsc --noEmit || exit 1
echo "== circular imports"
npx madge --circular --extensions ts --ts-config tsconfig.json api workers queues models platform scripts >/tmp/madge.$$ 2>&1 || {
	cat /tmp/madge.$$
	exit 1
}
echo "== tests"
bash scripts/ensure-browser.sh || exit 1
log="$(mktemp)"
npx mocha ${MOCHA_ARGS:-'test/**/*.test.ts'} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo '^ +[0-9]+ passing' "$log" | grep -Eo '[0-9]+' | tail -1)
failed=$(grep -Eo '^ +[0-9]+ failing' "$log" | grep -Eo '[0-9]+' | tail -1)
pending=$(grep -Eo '^ +[0-9]+ pending' "$log" | grep -Eo '[0-9]+' | tail -1)
rm -f "$log" /tmp/madge.$$
# Schema-driven fuzzing of every operation (schemathesis, scripts/fuzz.sh): one more check, counted
# in the summary line like a test.
echo "== API fuzzing"
if bash scripts/fuzz.sh; then fuzz=1; else
	fuzz=0
	status=1
fi
passed=$((${passed:-0} + fuzz))
failed=$((${failed:-0} + 1 - fuzz))
echo "tests: ${passed:-0} passed, ${failed:-0} failed${pending:+, $pending skipped}"
if [[ $status -eq 0 && -z "${passed:-}" ]]; then
	echo "no test ran" >&2
	exit 1
fi
exit "$status"

#!/usr/bin/env bash
# The Python SDKs' checks (sdk/python): ruff (lint and format), mypy --strict on both packages, then
# pytest, whose harness starts the relay (API + worker) itself against REDIS_URL / MONGODB_URI
# (run it inside scripts/with-services.sh, as scripts/test.sh does). The virtual environment is the
# project's own (.data/venv/sdk, from sdk/python/requirements-dev.txt). Ends with one line
# "python: N passed, N failed, N skipped"; PYTEST_ARGS narrows the run (e.g. "-k chat").
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
venv="$(bash "$ROOT/scripts/python-venv.sh" sdk "$ROOT/sdk/python/requirements-dev.txt")" || exit 1
cd "$ROOT/sdk/python"

echo "== python: ruff"
"$venv/bin/ruff" check . || exit 1
"$venv/bin/ruff" format --check . || exit 1
echo "== python: mypy --strict"
"$venv/bin/mypy" --config-file mypy.ini bloonio-auth-relay-client/src bloonio-chat-relay-client/src || exit 1
echo "== python: pytest"
log="$(mktemp)"
# shellcheck disable=SC2086 # PYTEST_ARGS is a list of arguments
"$venv/bin/pytest" ${PYTEST_ARGS:-} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
last="$(grep -E '^=+ .*(passed|failed|skipped|error).* in [0-9.]+s' "$log" | tail -1)"
count() { grep -Eo "[0-9]+ $1" <<<"$last" | grep -Eo '[0-9]+' || echo 0; }
passed=$(count passed)
failed=$(($(count failed) + $(count error)))
skipped=$(count skipped)
rm -f "$log"
echo "python: $passed passed, $failed failed, $skipped skipped"
if [[ $status -eq 0 && $passed -eq 0 ]]; then
	echo "no Python test ran" >&2
	exit 1
fi
exit "$status"

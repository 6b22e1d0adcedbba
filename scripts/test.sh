#!/usr/bin/env bash
# The whole check, in CI order: lint → typecheck → tests. The tests run in lanes at once, each on
# Redis and FerretDB of its own: mocha's test files in TEST_LANES lanes (the first against the
# services scripts/with-services.sh started for this script) and, beside them, scripts/test-side.sh:
# the API fuzzing (schemathesis), the TypeScript SDK (its typecheck, build and mocha tests against a
# relay it starts) and the Python SDKs (ruff, mypy, pytest against a relay they start). The other
# lanes' output is printed after the first's. Ends with one summary line
# "tests: N passed, N failed, N skipped" over all of them.
# TEST_SIDE_LANE=0 runs the side lane after mocha instead (one lane: less memory, the old order).
echo "== lint"
npx eslint . || exit 1
npx prettier --check --log-level warn . || exit 1
# The docs: every relative link and anchor resolves (README.md, CONTRIBUTING.md, docs/), and the
# code cites the contract it ships (docs/contract.md §x), not a SPEC file outside the repository.
npx tsx scripts/docs/check-links.ts || exit 1
npx tsx scripts/docs/cite-contract.ts --check || exit 1
# The generated docs pages match the tables they come from (npm run docs:gen rewrites them).
npx tsx scripts/docs/gen-config.ts --check || exit 1
npx tsx scripts/docs/gen-errors.ts --check || exit 1
# The docs site builds, and VitePress fails the build on a dead link between its pages (~20 s).
npx vitepress build docs --logLevel warn >/tmp/docs-site.$$ 2>&1 || {
	cat /tmp/docs-site.$$
	exit 1
}
echo "== typecheck"
npx tsc --noEmit || exit 1
npx tsc --noEmit -p web/tsconfig.json || exit 1
echo "== web bundles"
npx tsx scripts/build-web.ts || exit 1
echo "== circular imports"
npx madge --circular --extensions ts --ts-config tsconfig.json api workers queues models platform scripts web >/tmp/madge.$$ 2>&1 || {
	cat /tmp/madge.$$
	exit 1
}
echo "== unit tests (no services)"
npm run --silent test:unit || exit 1
echo "== tests"
bash scripts/ensure-browser.sh || exit 1
# The relay's processes that tests spawn start from a transpiled copy (half the CPU of tsx per start).
npx tsx scripts/transpile.ts .data/build || exit 1
export RELAY_BUILD_DIR="$ROOT/.data/build"
# The side lane starts now, on services of its own (the variables of this script's services unset, so
# with-services.sh starts new ones); its output is kept for after mocha's.
side_log="$(mktemp)"
run_side() { env -u REDIS_URL -u MONGODB_URI -u LOCAL_SERVICES_PID bash scripts/with-services.sh bash scripts/test-side.sh >"$side_log" 2>&1; }
side_pid=""
if [[ "${TEST_SIDE_LANE:-1}" != 0 ]]; then
	run_side &
	side_pid=$!
	# Leaving early (no test ran, a signal): the side lane's with-services stops its services on TERM.
	trap '[[ -n "$side_pid" ]] && kill "$side_pid" 2>/dev/null; rm -f "$side_log"' EXIT
fi
# Mocha runs in TEST_LANES lanes at once (default 2), the test files split by the time each took
# last (scripts/test-lanes.ts): the first lane on this script's services, printed as it goes; each
# other lane on services of its own, printed after it. MOCHA_ARGS (one file or glob) runs one lane.
lanes_n="${TEST_LANES:-2}"
[[ -n "${MOCHA_ARGS:-}" ]] && lanes_n=1
if [[ -n "${MOCHA_ARGS:-}" ]]; then
	lane_files=("$MOCHA_ARGS")
else
	mapfile -t lane_files < <(npx tsx scripts/test-lanes.ts split "$lanes_n")
fi
((${#lane_files[@]})) || {
	echo "could not split the test files into lanes" >&2
	exit 1
}
durations_dir="$(mktemp -d)"
lane_logs=() lane_pids=()
for ((i = 1; i < ${#lane_files[@]}; i++)); do
	lane_logs[i]="$(mktemp)"
	# shellcheck disable=SC2086 # the lane's files are one word each
	env -u REDIS_URL -u MONGODB_URI -u LOCAL_SERVICES_PID TEST_DURATIONS_OUT="$durations_dir/lane$i.json" \
		bash scripts/with-services.sh npx mocha ${lane_files[i]} >"${lane_logs[i]}" 2>&1 &
	lane_pids[i]=$!
done
trap '[[ -n "$side_pid" ]] && kill "$side_pid" 2>/dev/null; for p in "${lane_pids[@]}"; do kill "$p" 2>/dev/null; done; rm -f "$side_log"' EXIT
lane_logs[0]="$(mktemp)"
# shellcheck disable=SC2086
TEST_DURATIONS_OUT="$durations_dir/lane0.json" npx mocha ${lane_files[0]} 2>&1 | tee "${lane_logs[0]}"
lane_status=("${PIPESTATUS[0]}")
for ((i = 1; i < ${#lane_files[@]}; i++)); do
	wait "${lane_pids[i]}"
	lane_status[i]=$?
	echo "== mocha, lane $((i + 1)) of ${#lane_files[@]} (run beside the first)"
	cat "${lane_logs[i]}"
done
lane_pids=()
status=0
broken=0 # lanes that failed without a mocha report (services that did not start, a crash): one failure each
broken_report=""
for ((i = 0; i < ${#lane_files[@]}; i++)); do
	((lane_status[i] == 0)) && continue
	status=1
	grep -Eq '^ +[0-9]+ failing' "${lane_logs[i]}" || {
		broken=$((broken + 1))
		# Its last lines say why (a service that died, a crash, a signal); repeated at the very end.
		broken_report+="mocha lane $((i + 1)) exited with status ${lane_status[i]} and no test report; its last lines:"$'\n'
		broken_report+="$(tail -n 60 "${lane_logs[i]}" | sed 's/^/    /')"$'\n'
		echo "mocha lane $((i + 1)) exited with status ${lane_status[i]} and no test report"
	}
done
[[ -z "${MOCHA_ARGS:-}" ]] && npx tsx scripts/test-lanes.ts record "$durations_dir"/lane*.json
rm -rf "$durations_dir"
mochastatus=$status
# Each lane's own summary (its last "N passing" line), summed; empty when no lane printed one.
count() { for f in "${lane_logs[@]}"; do grep -Eo "^ +[0-9]+ $1" "$f" | grep -Eo '[0-9]+' | tail -1; done | awk '{ s += $1; n++ } END { if (n) print s }'; }
passed=$(count passing)
failed=$(count failing)
((broken)) && failed=$((${failed:-0} + broken))
pending=$(count pending)
# Mocha's failure report, repeated at the very end: a CI log is often read from its tail only.
failures="$(for f in "${lane_logs[@]}"; do sed -n '/^ \+[0-9]\+ failing/,$p' "$f" | head -80; done)"
failures+="${broken_report:+$'\n'$broken_report}"
rm -f "${lane_logs[@]}" /tmp/madge.$$
echo "mocha: ${passed:-0} passed, ${failed:-0} failed${pending:+, $pending skipped}"
if [[ $status -eq 0 && -z "${passed:-}" ]]; then
	echo "no test ran" >&2
	exit 1
fi
if [[ -n "$side_pid" ]]; then
	echo "== (the side lane: fuzzing and the SDKs, run beside mocha)"
	wait "$side_pid"
	side_pid=""
else
	run_side
fi
cat "$side_log"
side_exit() { grep -Eo "^side: $1 exit [0-9]+" "$side_log" | grep -Eo '[0-9]+$' | tail -1; }
# Schema-driven fuzzing of every operation (scripts/fuzz.sh): one more check, counted in the summary
# line like a test. A part that never reported (the lane died) counts as failed.
if [[ "$(side_exit fuzz)" == 0 ]]; then fuzz=1; else
	fuzz=0
	status=1
fi
passed=$((${passed:-0} + fuzz))
failed=$((${failed:-0} + 1 - fuzz))
tsline="$(grep -E '^typescript: [0-9]+ passed' "$side_log" | tail -1)"
tsstatus="$(side_exit typescript)"
tsstatus=${tsstatus:-1}
tspassed=$(grep -Eo '[0-9]+ passed' <<<"$tsline" | grep -Eo '[0-9]+' || echo 0)
tsfailed=$(grep -Eo '[0-9]+ failed' <<<"$tsline" | grep -Eo '[0-9]+' || echo 0)
tsskipped=$(grep -Eo '[0-9]+ skipped' <<<"$tsline" | grep -Eo '[0-9]+' || echo 0)
# A step that failed before mocha (typecheck, build) counts as one failure.
[[ $tsstatus -ne 0 && $tsfailed -eq 0 ]] && tsfailed=1
pyline="$(grep -E '^python: [0-9]+ passed' "$side_log" | tail -1)"
pystatus="$(side_exit python)"
pystatus=${pystatus:-1}
pypassed=$(grep -Eo '[0-9]+ passed' <<<"$pyline" | grep -Eo '[0-9]+' || echo 0)
pyfailed=$(grep -Eo '[0-9]+ failed' <<<"$pyline" | grep -Eo '[0-9]+' || echo 0)
pyskipped=$(grep -Eo '[0-9]+ skipped' <<<"$pyline" | grep -Eo '[0-9]+' || echo 0)
# A Python step that failed before pytest (ruff, mypy, the venv) counts as one failure.
[[ $pystatus -ne 0 && $pyfailed -eq 0 ]] && pyfailed=1
rm -f "$side_log"
if [[ -n "$failures" ]]; then
	echo "== mocha failures (repeated from above)"
	echo "$failures"
fi
failed_parts=()
((mochastatus != 0)) && failed_parts+=(mocha)
((fuzz == 0)) && failed_parts+=("API fuzzing")
((tsfailed > 0)) && failed_parts+=("typescript SDK")
((pyfailed > 0)) && failed_parts+=("python SDKs")
((${#failed_parts[@]})) && echo "failed: $(IFS=,; echo "${failed_parts[*]}" | sed 's/,/, /g')"
echo "tests: $((${passed:-0} + tspassed + pypassed)) passed, $((${failed:-0} + tsfailed + pyfailed)) failed, $((${pending:-0} + tsskipped + pyskipped)) skipped"
((status != 0)) && exit "$status"
((tsstatus != 0)) && exit "$tsstatus"
exit "$pystatus"

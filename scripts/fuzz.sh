#!/usr/bin/env bash
# Schema-driven API fuzzing: schemathesis over the relay's own OpenAPI document, every operation,
# against a relay this script starts (real Redis and FerretDB from scripts/with-services.sh; it
# wraps itself in it when REDIS_URL / MONGODB_URI are not set).
#
#   bash scripts/fuzz.sh                    # CI size (FUZZ_MAX_EXAMPLES=25 per operation and phase)
#   FUZZ_MAX_EXAMPLES=200 bash scripts/fuzz.sh
#   bash scripts/fuzz.sh --include-path-regex '/relay/sudo/'   # extra arguments go to schemathesis
#
# The hooks (scripts/fuzz/hooks.py) sign every request as its operation's `security` says (HMAC #1
# over the exact bytes sent, the device protocol's ECDSA signature, admin key, operator and visitor
# tokens minted by scripts/fuzz/setup.ts), so the fuzzer reaches the handlers. Checks: all of schemathesis'
# (--checks all, on positive and negative data: --mode all; FUZZ_CHECKS narrows them while iterating;
# scripts/fuzz/schemathesis.toml says what is set and why) and no response leaking a secret; afterwards the relay's
# log is searched for the same secrets. Prints the operations fuzzed and the requests per operation.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
if [[ -z "${REDIS_URL:-}" || -z "${MONGODB_URI:-}" ]]; then
	exec bash scripts/with-services.sh bash scripts/fuzz.sh "$@"
fi

venv="$(bash scripts/python-venv.sh fuzz scripts/fuzz/requirements.txt)"
work="$(mktemp -d)"
relay_pid=""
cleanup() {
	[[ -n "$relay_pid" ]] && kill -TERM "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null
	rm -rf -- "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
suffix="$$_$RANDOM"
mongo="${MONGODB_URI%/*}/fuzz_$suffix"
export PORT="$port" MONGODB_URI="$mongo" QUEUE_PREFIX="fuzz:$suffix" LOG_LEVEL=info PUSH_SYNC_WAIT_MS=0 \
	ADMIN_API_KEY="fuzz_admin_$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')" \
	SECRETS_MASTER_KEY="fuzz:$(python3 -c 'import secrets; print(secrets.token_hex(32))')" \
	CALLBACK_ALLOW_PRIVATE_NETWORKS=true
node --import tsx api/server.ts >"$work/relay.log" 2>&1 &
relay_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 150); do
	curl -sf "$base/readyz" >/dev/null 2>&1 && break
	kill -0 "$relay_pid" 2>/dev/null || {
		cat "$work/relay.log" >&2
		exit 1
	}
	sleep 0.2
done
node --import tsx scripts/fuzz/setup.ts "$base" "$work/creds.json"

examples="${FUZZ_MAX_EXAMPLES:-25}"
echo "fuzz: schemathesis $("$venv/bin/schemathesis" --version | awk '{print $NF}') on $base/api/v1/openapi.json, up to $examples examples per operation and phase"
set +e
# (run from the temporary directory: schemathesis keeps a .schemathesis/ cache in its working directory)
cd "$work"
FUZZ_CREDENTIALS="$work/creds.json" FUZZ_SUMMARY="$work/summary.json" PYTHONPATH="$ROOT/scripts/fuzz" SCHEMATHESIS_HOOKS=hooks \
	"$venv/bin/schemathesis" --config-file "$ROOT/scripts/fuzz/schemathesis.toml" run "$base/api/v1/openapi.json" --url "$base" \
	--checks "${FUZZ_CHECKS:-all}" --mode all \
	--phases examples,coverage,fuzzing --max-examples "$examples" --workers 1 --seed "${FUZZ_SEED:-20261203}" \
	--generation-database none --suppress-health-check all --request-timeout 10 --no-color \
	--warnings off --output-truncate true "$@" 2>&1 | tee "$work/fuzz.out"
status=${PIPESTATUS[0]}
set -e
cd "$ROOT"

# The figures, from the hooks' own count of what was sent.
python3 - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
calls = {k: v for k, v in s["calls"].items() if not k.startswith("(other method)")}
probes = sum(v for k, v in s["calls"].items() if k.startswith("(other method)"))
print(f"fuzz: {len(calls)} operations fuzzed with {sum(calls.values())} requests (plus {probes} with undocumented methods); per operation:")
for name, n in sorted(calls.items()):
    print(f"  {n:5d}  {name}")
print("fuzz: statuses " + ", ".join(f"{k}: {v}" for k, v in sorted(s["statuses"].items())))
PY

# And the relay's log holds none of the secrets the fuzzer used.
python3 - "$work/creds.json" "$work/relay.log" <<'PY'
import json, sys
creds = json.load(open(sys.argv[1])); log = open(sys.argv[2], encoding="utf-8", errors="replace").read()
keys = ["tenant_secret", "sacrificial_tenant_secret", "admin_key", "device_session_token", "operator_token", "visitor_token"]
leaks = [k for k in keys if creds[k] and creds[k] in log]
if creds["master_key"].split(":")[-1] in log: leaks.append("master_key")
print(f"fuzz: relay log ({log.count(chr(10))} lines) searched for {len(keys) + 1} secrets: {len(leaks)} found")
sys.exit(1 if leaks else 0)
PY
if grep -q '"level":"error".*unhandled error' "$work/relay.log"; then
	echo "fuzz: the relay logged unhandled errors:" >&2
	grep '"level":"error"' "$work/relay.log" | head -5 >&2
	status=1
fi
exit "$status"

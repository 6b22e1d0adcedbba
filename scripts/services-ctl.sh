#!/usr/bin/env bash
# Asks the scripts/with-services.sh run this command runs under to restart one of its services in
# place (same port, same data directory), and waits until it is back:
#   bash scripts/services-ctl.sh restart redis|ferretdb [term|kill] [DOWN_MS]
# `term` (default) stops it cleanly; `kill` SIGKILLs it, so Redis comes back from its AOF as after a
# crash (with appendfsync always, as with-services.sh runs it, nothing it acknowledged is lost).
# DOWN_MS keeps it down that long before starting it again (an outage callers can observe).
# Used by the chaos tests. Needs LOCAL_SERVICES_PID, which with-services.sh exports.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
verb=${1:?usage: services-ctl.sh restart redis|ferretdb [term|kill]}
name=${2:?usage: services-ctl.sh restart redis|ferretdb [term|kill]}
how=${3:-term}
down=${4:-0}
pid=${LOCAL_SERVICES_PID:?not running under scripts/with-services.sh (LOCAL_SERVICES_PID is not set)}
run="$ROOT/.data/run"
rm -f -- "$run/$pid.ctl.done"
echo "$verb $name $how $down" >"$run/$pid.ctl.req.tmp" && mv -f "$run/$pid.ctl.req.tmp" "$run/$pid.ctl.req"
kill -USR1 "$pid"
for ((i = 0; i < 600; i++)); do
	if [[ -f "$run/$pid.ctl.done" ]]; then
		result=$(cat "$run/$pid.ctl.done")
		rm -f -- "$run/$pid.ctl.done"
		[[ "$result" == ok ]] && exit 0
		echo "services-ctl: $verb $name failed" >&2
		exit 1
	fi
	sleep 0.1
done
echo "services-ctl: no answer from with-services (pid $pid) within 60 s" >&2
exit 1

#!/usr/bin/env bash
# Run a command with Redis and a MongoDB-compatible server available.
#
#   bash scripts/with-services.sh <command> [args...]
#
# Reads:
#   REDIS_URL               if set, used as is and no Redis is started
#   MONGODB_URI             if set, used as is and no FerretDB is started
#   LOCAL_SERVICES_PERSIST  1 = keep data between runs (.data/redis/dev, .data/ferretdb/dev);
#                           otherwise every run gets fresh data dirs that are deleted afterwards.
#                           Redis runs with AOF (appendfsync always) and noeviction either way, as production must.
#   LOCAL_MONGODB_DB        database name in the exported MONGODB_URI (default: bloonio)
#   LOCAL_SERVICES_TIMEOUT  seconds to wait for each service to accept connections (default: 30)
#   LOCAL_SERVICES_STOP_TIMEOUT  seconds the command's processes get to stop after SIGTERM before
#                           SIGKILL (default: 25, above the relay's WORKER_SHUTDOWN_TIMEOUT_MS of 15 s)
# Exports to the command:
#   REDIS_URL=redis://127.0.0.1:PORT            (when started here)
#   MONGODB_URI=mongodb://127.0.0.1:PORT/DB     (when started here)
#   LOCAL_SERVICES_PID      this script's pid, for scripts/services-ctl.sh (restart a service in place,
#                           same port and data: the chaos tests restart Redis from its AOF and FerretDB)
#
# Local services live under the git-ignored .data/ folder:
#   .data/redis/<run>/     redis.log, redis.pid, AOF files (persist mode)
#   .data/ferretdb/<run>/  SQLite files; log in .data/ferretdb/<run>.log
#   .data/bin/ferretdb     built from scripts/ferretdb (FerretDB v1.24.0 embedded, see main.go for why)
#   .data/run/             pid bookkeeping, so a run that was SIGKILLed gets cleaned up by the next one
# <run> is "dev" with LOCAL_SERVICES_PERSIST=1 and "test-<pid>" otherwise.
#
# The command is not exec'ed: this script stays around to stop what it started. Its exit code is
# the command's exit code (128+N if the command died from signal N). The command runs in its own
# process group; SIGINT/SIGTERM/SIGHUP are forwarded to that whole group, and Redis/FerretDB are
# stopped only after it has exited. Everything stops, within LOCAL_SERVICES_STOP_TIMEOUT plus a few
# seconds, when any one of these happens: a signal to this script, the command exiting, a service
# exiting on its own (the command is stopped: it cannot work without it), or this script's parent
# going away (e.g. `npm start`'s npm or sh killed). Whatever is left of the command's process group
# after the command exits (orphans) is stopped too. (A script started with SIGINT already ignored,
# e.g. as `cmd &` from another non-interactive script, cannot trap it; use SIGTERM there.)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DATA="$ROOT/.data"
RUN_DIR="$DATA/run"
STATE="$RUN_DIR/$$.pids"
TIMEOUT="${LOCAL_SERVICES_TIMEOUT:-30}"
STOP_TIMEOUT="${LOCAL_SERVICES_STOP_TIMEOUT:-25}"
ORIG_PPID=$PPID
PERSIST=0
[[ "${LOCAL_SERVICES_PERSIST:-}" == 1 || "${LOCAL_SERVICES_PERSIST:-}" == true ]] && PERSIST=1
if ((PERSIST)); then RUN_NAME=dev; else RUN_NAME="test-$$"; fi
MONGO_DB="${LOCAL_MONGODB_DB:-bloonio}"

# Ports are probed upward from these bases. Both are below the kernel's ephemeral range (32768+),
# so an outgoing connection can't be sitting on the port we pick, and they keep clear of the
# default 6379/27017 (Docker / system services) and of anybody's FerretDB on 37017.
REDIS_PORT_BASE=6390
FERRETDB_PORT_BASE=27030
PORT_PROBE_SPAN=200

log() { echo "with-services: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

if (($# == 0)); then
	echo "usage: bash scripts/with-services.sh <command> [args...]" >&2
	exit 2
fi

# ---------------------------------------------------------------------------------------------
# Bookkeeping and cleanup
# ---------------------------------------------------------------------------------------------
child_pid=""          # the user's command (leader of its own process group)
child_interrupted=0   # set by the signal trap so the wait loop knows to wait again
ctl_pending=0         # set by the SIGUSR1 trap: scripts/services-ctl.sh left a request
watchdog_pid=""
declare -a svc_pids=() svc_names=() svc_logs=() svc_paths=() svc_ports=()
declare -a remove_paths=() # ephemeral data dirs / logs to delete at the end

proc_cmdline() { tr "\0" " " 2>/dev/null <"/proc/$1/cmdline" || true; }

# Stop one process we started: TERM, give it 10 s to shut down cleanly (Redis flushes its AOF,
# FerretDB closes SQLite), then KILL. Our own children can be waited for, which also reaps them.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# Stop the command's whole process group: TERM, STOP_TIMEOUT seconds, then KILL. Also catches
# processes the command left behind (orphans keep its process group).
stop_group() {
	local pgid=$1 i
	kill -TERM -- "-$pgid" 2>/dev/null || return 0
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		kill -0 -- "-$pgid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 -- "-$pgid" 2>/dev/null; then
		log "warning: the command's processes did not stop within ${STOP_TIMEOUT}s; killing them"
		kill -KILL -- "-$pgid" 2>/dev/null || true
	fi
	wait "$pgid" 2>/dev/null || true
}

cleanup() {
	local rc=$? i
	# A second Ctrl-C while we tear down must not leave services behind: ignore signals from here on
	# (everything below is bounded in time).
	trap '' INT TERM HUP USR1
	trap - EXIT
	[[ -n "$watchdog_pid" ]] && { kill -TERM "$watchdog_pid" 2>/dev/null || true; }
	if [[ -n "$child_pid" ]]; then
		stop_group "$child_pid"
	fi
	for ((i = ${#svc_pids[@]} - 1; i >= 0; i--)); do
		if [[ -n "$child_pid" ]] && ! kill -0 "${svc_pids[i]}" 2>/dev/null; then
			# Died on its own while the command ran: worth a warning, the command probably saw errors.
			log "warning: ${svc_names[i]} had already exited; last log lines:"
			tail -n 15 "${svc_logs[i]}" 2>/dev/null | sed 's/^/    /' >&2 || true
		fi
		stop_pid "${svc_pids[i]}"
	done
	if ((${#remove_paths[@]})); then rm -rf -- "${remove_paths[@]}"; fi
	rm -f -- "$STATE" "$RUN_DIR/$$.ctl.req" "$RUN_DIR/$$.ctl.done"
	exit "$rc"
}
trap cleanup EXIT

# Forward INT/TERM/HUP to the command so it can shut down gracefully while the services are still up
# (they run in their own session, so a terminal Ctrl-C reaches only this script and the command).
# Before the command exists, a signal just aborts the start-up; the EXIT trap cleans up.
on_signal() {
	local sig=$1 code=$2
	if [[ -n "$child_pid" ]] && kill -0 "$child_pid" 2>/dev/null; then
		child_interrupted=1
		kill -s "$sig" -- "-$child_pid" 2>/dev/null || kill -s "$sig" "$child_pid" 2>/dev/null || true
	else
		exit "$code"
	fi
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP
trap 'ctl_pending=1; child_interrupted=1' USR1

# A run killed with SIGKILL cannot clean up after itself, and its services (own session, see below)
# keep running. Each run records its service pids in .data/run/<script pid>.pids; here we stop the
# services of runs whose script is gone and delete their ephemeral data. Pid reuse is guarded by
# checking the command lines.
reap_stale_runs() {
	local f owner pid paths
	[[ -d /proc && -d "$RUN_DIR" ]] || return 0
	for f in "$RUN_DIR"/*.pids; do
		[[ -e "$f" ]] || continue
		owner="${f##*/}"
		owner="${owner%.pids}"
		[[ "$(proc_cmdline "$owner")" == *with-services* ]] && continue
		while read -r pid paths; do
			case "$(proc_cmdline "$pid")" in
			*redis-server* | *"$DATA/bin/ferretdb"*)
				log "stopping leftover service (pid $pid) of an earlier run that did not clean up"
				kill -TERM "$pid" 2>/dev/null || true
				for _ in {1..50}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
				kill -KILL "$pid" 2>/dev/null || true
				;;
			esac
			# shellcheck disable=SC2086 # paths is a space-separated list we wrote ourselves
			[[ -n "$paths" ]] && rm -rf -- $paths
		done <"$f"
		rm -f -- "$f"
	done
}

# Start a service in its own session (setsid): a terminal Ctrl-C then reaches only the command, and
# the services stay up while it shuts down gracefully; we stop them afterwards. setsid execs in place
# here (a background job is not a process-group leader), so $! is the service's own pid.
# fds 8/9 are our locks and must not be inherited, or a service would hold them for its lifetime.
spawn() { # log_file cmd args...
	local logf=$1
	shift
	if command -v setsid >/dev/null; then
		setsid "$@" >>"$logf" 2>&1 </dev/null 8>&- 9>&- &
	else
		"$@" >>"$logf" 2>&1 </dev/null 8>&- 9>&- &
	fi
	spawned_pid=$!
}

record_service() { # name pid log port [paths to delete when a stale run is reaped]
	svc_names+=("$1")
	svc_pids+=("$2")
	svc_logs+=("$3")
	svc_ports+=("$4")
	svc_paths+=("${*:5}")
	echo "$2 ${*:5}" >>"$STATE"
}

write_state() {
	local i
	: >"$STATE"
	for i in "${!svc_pids[@]}"; do echo "${svc_pids[i]} ${svc_paths[i]}" >>"$STATE"; done
}

# After a start attempt lost a port race: the dead process is no longer ours to watch.
forget_last_service() {
	unset 'svc_names[-1]' 'svc_pids[-1]' 'svc_logs[-1]' 'svc_ports[-1]' 'svc_paths[-1]'
	write_state
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

find_free_port() { # base
	local p
	for ((p = $1; p < $1 + PORT_PROBE_SPAN; p++)); do
		port_in_use "$p" || {
			echo "$p"
			return 0
		}
	done
	die "no free port in $1..$(($1 + PORT_PROBE_SPAN - 1)) on 127.0.0.1"
}

# wait_ready name pid log check_cmd...: 0 = ready, 1 = process exited, 2 = timed out.
wait_ready() {
	local name=$1 pid=$2 logf=$3
	shift 3
	local deadline=$((SECONDS + TIMEOUT))
	while ((SECONDS < deadline)); do
		kill -0 "$pid" 2>/dev/null || return 1
		if "$@"; then
			# Still alive after answering: it is ours, not someone who grabbed the port meanwhile.
			kill -0 "$pid" 2>/dev/null && return 0
			return 1
		fi
		sleep 0.1
	done
	return 2
}

fail_start() { # name log reason
	log "error: $1 $3; last lines of $2:"
	tail -n 20 "$2" 2>/dev/null | sed 's/^/    /' >&2 || true
	exit 1
}

# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------
ensure_redis_installed() {
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
	command -v apt-get >/dev/null ||
		die "redis-server is not installed and apt-get is unavailable; install Redis or set REDIS_URL"
	local -a sudo=()
	if ((EUID != 0)); then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			sudo=(sudo -n)
		else
			die "redis-server is not installed and we are not root (no passwordless sudo): run 'sudo apt-get install redis-server' or set REDIS_URL"
		fi
	fi
	log "redis-server not found, installing the Debian package"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
	command -v redis-server >/dev/null || die "redis-server still not found after installing it"
}

redis_ready() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]; }

# Durable as production must be (SPEC §1.5), tests included: the AOF, fsynced before every answer
# (appendfsync always: nothing acknowledged is lost when Redis or the machine crashes), is what a
# restarted Redis comes back from (the chaos tests restart it); noeviction, as BullMQ requires.
spawn_redis() { # dir port
	spawn "$1/redis.log" redis-server --bind 127.0.0.1 --port "$2" --daemonize no \
		--dir "$1" --logfile "$1/redis.log" --pidfile "$1/redis.pid" \
		--maxmemory-policy noeviction --appendonly yes --appendfsync always --save ''
}

start_redis() {
	ensure_redis_installed
	local dir="$DATA/redis/$RUN_NAME" port pid rc attempt
	local -a persistence
	mkdir -p "$dir"
	((PERSIST)) || remove_paths+=("$dir")
	: >"$dir/redis.log" # one run's log only: the persistent one would otherwise grow forever
	# Retry on a fresh port only if someone outside this script grabbed ours between probe and bind.
	for attempt in 1 2 3; do
		port=$(find_free_port "$REDIS_PORT_BASE")
		spawn_redis "$dir" "$port"
		pid=$spawned_pid
		record_service redis "$pid" "$dir/redis.log" "$port" "$( ((PERSIST)) || echo "$dir")"
		wait_ready redis "$pid" "$dir/redis.log" redis_ready "$port" && rc=0 || rc=$?
		if ((rc == 0)); then
			# Make sure the PONG came from our process.
			redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null | tr -d '\r' | grep -qx "process_id:$pid" ||
				fail_start redis "$dir/redis.log" "answered on port $port but not from the process we started"
			break
		fi
		if ((rc == 1)) && grep -qi 'address already in use' "$dir/redis.log" && ((attempt < 3)); then
			forget_last_service
			continue
		fi
		((rc == 2)) && fail_start redis "$dir/redis.log" "did not answer PING on 127.0.0.1:$port within ${TIMEOUT}s"
		fail_start redis "$dir/redis.log" "exited during start-up"
	done
	redis_dir=$dir
	export REDIS_URL="redis://127.0.0.1:$port"
	summary+=("redis 127.0.0.1:$port (started)")
}

# ---------------------------------------------------------------------------------------------
# FerretDB
# ---------------------------------------------------------------------------------------------
FERRETDB_SRC="$ROOT/scripts/ferretdb"
FERRETDB_BIN="$DATA/bin/ferretdb"

ferretdb_stale() {
	local f
	[[ -x "$FERRETDB_BIN" ]] || return 0
	for f in "$FERRETDB_SRC"/{main.go,go.mod,go.sum} "$FERRETDB_SRC"/*.patch; do
		[[ "$f" -nt "$FERRETDB_BIN" ]] && return 0
	done
	return 1
}

# Copies the FerretDB module (3.4 MB) to $2/ferretdb, applies scripts/ferretdb/*.patch there, and
# writes $2/go.mod (+ go.sum): ours plus a `replace` pointing at the patched copy, for `go build
# -modfile`. Go refuses -overlay for files in the module cache, and the cache itself stays pristine.
ferretdb_patched() {
	local go_bin=$1 dir=$2 mod
	mod=$("$go_bin" list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB) || return 1
	rm -rf "$dir" && mkdir -p "$dir" && cp -r "$mod" "$dir/ferretdb" && chmod -R u+w "$dir/ferretdb" || return 1
	# The ceiling keeps git from taking .data/ for part of this repository (git apply would then
	# resolve the patch's paths against the repository's root).
	local patch
	for patch in "$FERRETDB_SRC"/*.patch; do
		GIT_CEILING_DIRECTORIES="$dir" git -C "$dir/ferretdb" apply -p1 "$patch" || return 1
	done
	cp go.mod go.sum "$dir/" && printf '\nreplace github.com/FerretDB/FerretDB => %s\n' "$dir/ferretdb" >>"$dir/go.mod"
}

build_ferretdb() {
	ferretdb_stale || return 0
	local go_bin
	go_bin=$(command -v go || true)
	[[ -z "$go_bin" && -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go
	[[ -n "$go_bin" ]] || die "Go is needed to build FerretDB (scripts/ferretdb); install Go or set MONGODB_URI"
	mkdir -p "$DATA/bin"
	# Go needs a cache dir; without HOME (some CI sandboxes) it has none, so give it one in .data.
	if [[ -z "${HOME:-}" ]]; then
		export GOCACHE="${GOCACHE:-$DATA/go/cache}" GOMODCACHE="${GOMODCACHE:-$DATA/go/mod}" GOPATH="${GOPATH:-$DATA/go}"
	fi
	# Concurrent first runs: one builds, the others wait for it and then find the binary fresh.
	exec 7>"$DATA/bin/.ferretdb.build.lock"
	command -v flock >/dev/null && flock 7
	if ferretdb_stale; then
		log "building FerretDB into .data/bin/ferretdb (first build takes ~70 s, mostly downloads)"
		local tmp="$FERRETDB_BIN.tmp.$$" t0=$SECONDS
		# CGO off: FerretDB's SQLite is pure Go (modernc.org/sqlite), so no C compiler is needed.
		# -buildvcs=false: the source sits inside this git repo; VCS stamping is noise (and fails
		# when git is missing or the repo is owned by another user).
		# The ~55 "go: downloading ..." lines of a fresh machine are noise; real errors still show.
		# (sed, unlike grep -v, succeeds on empty input, so pipefail reports only go's failure.)
		# The patches are applied to a copy of the module (ferretdb_patched): sqlite-id-pushdown.patch, as
		# FerretDB v1's SQLite backend otherwise scans a whole table for `{_id, tenant_id}` filters, which
		# made every tenant-scoped lookup O(collection); update-iterators.patch, as an update command of
		# more than 100 matching statements otherwise deadlocks on its own connection pool;
		# update-write-errors.patch, as an unordered update command otherwise stops at its first write
		# error without applying (or reporting) the statements after it. See their comments.
		if ! (cd "$FERRETDB_SRC" && CGO_ENABLED=0 "$go_bin" mod download github.com/FerretDB/FerretDB &&
			ferretdb_patched "$go_bin" "$tmp.src" &&
			CGO_ENABLED=0 "$go_bin" build -buildvcs=false -trimpath -modfile "$tmp.src/go.mod" -o "$tmp" .) 2>&1 |
			sed '/^go: downloading /d' >&2; then
			rm -rf "$tmp" "$tmp.src"
			die "building FerretDB failed (see the Go output above); or set MONGODB_URI to use another MongoDB"
		fi
		rm -rf "$tmp.src"
		mv -f "$tmp" "$FERRETDB_BIN" # atomic: a concurrent run never sees a half-written binary
		log "FerretDB built in $((SECONDS - t0)) s"
	fi
	exec 7>&-
}

spawn_ferretdb() { # dir log port
	# The SQLite URL names a directory (one .sqlite file per database) and must end with "/".
	spawn "$2" "$FERRETDB_BIN" --listen-addr "127.0.0.1:$3" --sqlite-url "file:$1/" --log-level warn
}

start_ferretdb() { # build_ferretdb has run already
	local dir="$DATA/ferretdb/$RUN_NAME" logf="$DATA/ferretdb/$RUN_NAME.log" port pid rc attempt
	mkdir -p "$dir"
	((PERSIST)) || remove_paths+=("$dir" "$logf")
	: >"$logf" # one run's log only (FerretDB logs every failed command at warn level)
	for attempt in 1 2 3; do
		port=$(find_free_port "$FERRETDB_PORT_BASE")
		spawn_ferretdb "$dir" "$logf" "$port"
		pid=$spawned_pid
		record_service ferretdb "$pid" "$logf" "$port" "$( ((PERSIST)) || echo "$dir $logf")"
		wait_ready ferretdb "$pid" "$logf" port_in_use "$port" && rc=0 || rc=$?
		((rc == 0)) && break
		if ((rc == 1)) && grep -qi 'address already in use' "$logf" && ((attempt < 3)); then
			forget_last_service
			continue
		fi
		((rc == 2)) && fail_start ferretdb "$logf" "did not accept connections on 127.0.0.1:$port within ${TIMEOUT}s"
		fail_start ferretdb "$logf" "exited during start-up"
	done
	ferretdb_dir=$dir
	ferretdb_log=$logf
	export MONGODB_URI="mongodb://127.0.0.1:$port/$MONGO_DB"
	summary+=("ferretdb 127.0.0.1:$port (started)")
}

# Describe a preset URL without credentials: drop scheme, user:password@ and path/query.
url_host() { sed -E 's#^[a-zA-Z0-9+.-]+://##; s#^[^@/]*@##; s#[/?].*$##' <<<"$1"; }

# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
summary=()
need_redis=1 need_mongo=1
[[ -n "${REDIS_URL:-}" ]] && need_redis=0
[[ -n "${MONGODB_URI:-}" ]] && need_mongo=0

if ((need_redis || need_mongo)); then
	mkdir -p "$RUN_DIR"
	# The persistent dev data can serve one run at a time (two Redis on one AOF, two FerretDB on one
	# SQLite dir would corrupt it). The lock is held by this script for its whole life.
	if ((PERSIST)) && command -v flock >/dev/null; then
		exec 8>"$RUN_DIR/dev.lock"
		flock -n 8 || die "another with-services run is using the persistent dev data (LOCAL_SERVICES_PERSIST=1); stop it first"
	fi
	# FerretDB may need a long build; do it before taking the port lock so we don't block other runs.
	((need_mongo)) && build_ferretdb
	# Serialise "probe a free port, start, wait until listening" across concurrent runs, so two runs
	# can never pick the same port.
	if command -v flock >/dev/null; then
		exec 9>"$RUN_DIR/ports.lock"
		flock 9
	fi
	reap_stale_runs
fi

if ((need_redis)); then start_redis; else summary+=("redis $(url_host "$REDIS_URL") (from REDIS_URL)"); fi
if ((need_mongo)); then start_ferretdb; else summary+=("mongodb $(url_host "$MONGODB_URI") (from MONGODB_URI)"); fi
exec 9>&- # release the port lock: our services are listening now

summary_line="${summary[0]}"
for s in "${summary[@]:1}"; do summary_line+=", $s"; done
echo "local services: $summary_line$( ((PERSIST)) && echo ' [persistent]')" >&2

# ---------------------------------------------------------------------------------------------
# Restarting a service in place (scripts/services-ctl.sh): same port, same data directory.
# ---------------------------------------------------------------------------------------------
restart_service() { # name [term|kill] [ms to stay down]: 0 = restarted
	local name=$1 how=${2:-term} down_ms=${3:-0} i rc
	for i in "${!svc_names[@]}"; do [[ "${svc_names[i]}" == "$name" ]] && break; done
	[[ "${svc_names[i]:-}" == "$name" ]] || return 1
	# The port is free while the service is down: another run probing for a free port (a test's
	# `npm start`, another test lane) would take it, and ours could not come back. Those runs probe
	# under the ports lock, so hold it until ours listens again.
	if command -v flock >/dev/null; then
		exec 9>"$RUN_DIR/ports.lock"
		flock 9
	fi
	restart_locked "$i" "$how" "$down_ms" && rc=0 || rc=$?
	exec 9>&-
	return "$rc"
}

restart_locked() { # index how down_ms
	local i=$1 how=$2 down_ms=$3 name pid port
	name=${svc_names[i]} pid=${svc_pids[i]} port=${svc_ports[i]}
	if [[ "$how" == kill ]]; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	else
		stop_pid "$pid"
	fi
	((down_ms > 0)) && sleep "$(printf '%d.%03d' $((down_ms / 1000)) $((down_ms % 1000)))"
	log "$name (pid $pid) stopped ($how, down ${down_ms} ms); starting it again on port $port"
	# The port can still be held for a moment by the old process's last connections: a start that
	# exits at once is tried again (a new process that then dies would stop the command, see below).
	local attempt rc
	for attempt in 1 2 3 4 5; do
		case "$name" in
		redis) spawn_redis "$redis_dir" "$port" ;;
		ferretdb) spawn_ferretdb "$ferretdb_dir" "$ferretdb_log" "$port" ;;
		esac
		svc_pids[i]=$spawned_pid
		write_state
		if [[ "$name" == redis ]]; then
			wait_ready redis "$spawned_pid" "${svc_logs[i]}" redis_ready "$port" && rc=0 || rc=$?
		else
			wait_ready ferretdb "$spawned_pid" "${svc_logs[i]}" port_in_use "$port" && rc=0 || rc=$?
		fi
		((rc == 0)) && return 0
		# Still starting after TIMEOUT, or the last try: the main loop sees the process as it is.
		((rc == 1 && attempt < 5)) || return 1
		wait "$spawned_pid" 2>/dev/null || true
		log "warning: $name exited while starting again on port $port (try $attempt); last log lines:"
		tail -n 5 "${svc_logs[i]}" 2>/dev/null | sed 's/^/    /' >&2 || true
		sleep 0.5
	done
	return 1
}

handle_ctl() {
	local req="$RUN_DIR/$$.ctl.req" done_file="$RUN_DIR/$$.ctl.done" verb name how down result
	[[ -f "$req" ]] || return 0
	read -r verb name how down <"$req" || true
	rm -f -- "$req"
	result=failed
	[[ "$verb" == restart ]] && restart_service "$name" "$how" "${down:-0}" && result=ok
	echo "$result" >"$done_file.tmp" && mv -f "$done_file.tmp" "$done_file"
}

# Our parent gone (npm or its sh killed): nobody would stop us, so stop everything. Polls our own
# parent pid once a second (a sleep is the only process it starts).
watch_parent() {
	local _ ppid
	trap - TERM
	trap '' INT HUP
	while sleep 1; do
		read -r _ _ _ ppid _ <"/proc/$1/stat" 2>/dev/null || break
		if [[ "$ppid" != "$ORIG_PPID" ]]; then
			log "the parent process is gone; stopping"
			kill -TERM "$1" 2>/dev/null
			break
		fi
	done
}

# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------
export LOCAL_SERVICES_PID=$$
if [[ -r "/proc/$$/stat" && "$ORIG_PPID" != 1 ]]; then
	watch_parent $$ 8>&- 9>&- </dev/null &
	watchdog_pid=$!
fi

# Run the command in the background, in its own process group (job control on), and wait, so the
# signal traps can run and forward signals to the whole group. Bash makes background commands ignore
# SIGINT/SIGQUIT when job control is off; `env --default-signal` (coreutils >= 8.31) restores them
# either way, otherwise e.g. a `bash -c` command could never be interrupted.
set -m
if env --default-signal=INT true 2>/dev/null; then
	env --default-signal=INT,QUIT -- "$@" 8>&- &
else
	"$@" 8>&- &
fi
child_pid=$!
set +m
while :; do
	child_interrupted=0
	exited=""
	# A request whose SIGUSR1 came while no `wait` ran (during the last request, between two
	# turns of this loop) is served now, not when something else happens.
	if [[ -f "$RUN_DIR/$$.ctl.req" ]]; then
		ctl_pending=0
		handle_ctl
	fi
	# Returns when the command or a service exits, or a trapped signal arrives.
	# (2>/dev/null hides bash's "Killed"/"Terminated" job notice; the exit code says it already.)
	wait -n -p exited "$child_pid" "${svc_pids[@]}" 2>/dev/null && rc=0 || rc=$?
	if ((ctl_pending)); then
		ctl_pending=0
		handle_ctl
	fi
	if [[ -n "${exited:-}" && "${exited:-}" != "$child_pid" ]]; then
		for i in "${!svc_pids[@]}"; do
			[[ "${svc_pids[i]}" == "$exited" ]] || continue
			# (cleanup prints its last log lines)
			log "error: ${svc_names[i]} exited on its own (status $rc); stopping the command"
		done
		exit 1
	fi
	[[ "${exited:-}" == "$child_pid" ]] && break
	# A trapped signal (forwarded to the command) or a control request: the command is still running.
	((child_interrupted)) && continue
	kill -0 "$child_pid" 2>/dev/null || break
done
exit "$rc"

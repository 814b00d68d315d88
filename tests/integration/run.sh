#!/bin/bash
# Runs each integration scenario (tests/integration/t*.sh) against a private
# Docker engine started for this run, and reports one TAP line per scenario.
# After every scenario the engine must hold no container at all.
set -u

SRC=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${top_builddir:-$SRC}
BIN=$BUILD/fcgi/cloudfunc-fcgi
export SRC BUILD BIN
. "$SRC/tests/integration/lib.sh"

# Without an engine nothing here can run: skip, unless told it must run.
missing_prerequisite() {
	if [ "${CLOUDFUNC_REQUIRE_ENGINE:-0}" = 1 ]; then
		echo "Bail out! $1"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

[ "$(id -u)" = 0 ] || missing_prerequisite "dockerd needs root"
for tool in dockerd nginx lighttpd spawn-fcgi jq curl ss docker-registry htpasswd python3 promtool prometheus; do
	command -v "$tool" > /dev/null || missing_prerequisite "$tool not installed"
done
[ -x /bin/busybox ] || missing_prerequisite "busybox-static not installed"
[ -x "$BIN" ] || missing_prerequisite "$BIN not built"

T=$(mktemp -d /tmp/cft.XXXXXX)
# nginx workers run as nobody and must reach the sockets in here.
chmod 0755 "$T"
SOCK=$T/docker.sock
export T SOCK

cleanup() {
	engine_stop
	rm -rf "$T" 2>/dev/null
}
trap cleanup EXIT

engine_start || { echo "Bail out! the private engine did not start"; exit 1; }
engine_import_busybox || { echo "Bail out! cannot import busybox:latest"; exit 1; }

# Stops whatever a scenario left running, and reports sanitizer findings.
scenario_teardown() {
	local f status=0
	for f in "$T"/nginx-*/pid; do
		[ -e "$f" ] && nginx_stop "$(basename "$(dirname "$f")" | sed 's/^nginx-//')"
	done
	for f in "$T"/lighttpd-*/pid; do
		[ -e "$f" ] && lighttpd_stop "$(basename "$(dirname "$f")" | sed 's/^lighttpd-//')"
	done
	registry_stop
	for f in "$T"/*.pid; do
		[ -e "$f" ] && [ "$f" != "$T/engine.pid" ] &&
			responder_stop "$(basename "$f" .pid)"
	done
	# responder_stop waits; what remains are helpers like fake engines.
	# Findings of ASan, UBSan and valgrind, in the responders' logs.
	local findings='ERROR: (Address|Leak)Sanitizer|runtime error:|ERROR SUMMARY: [1-9]|definitely lost: [1-9]'
	if grep -l -E "$findings" "$T"/*.log "$T"/lighttpd-*/error.log \
		2>/dev/null; then
		say "a sanitizer or valgrind reported an error"
		grep -h -B 5 -A 30 -E "$findings" "$T"/*.log \
			"$T"/lighttpd-*/error.log 2>/dev/null | head -n 80 >&2
		status=1
	fi
	return $status
}

# CLOUDFUNC_ONLY="t01 t04" runs just those scenarios; "t08+pool" runs
# t08 again with every function keeping a pre-started container.
POOL_VARIANTS="t08 t10"
selected() {
	[ -z "${CLOUDFUNC_ONLY:-}" ] && return 0
	case " $CLOUDFUNC_ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}
scenarios=()
for f in "$SRC"/tests/integration/t[0-9]*.sh; do
	id=$(basename "$f" | cut -d- -f1)
	selected "$id" && scenarios+=("$f")
done
for f in "$SRC"/tests/integration/t[0-9]*.sh; do
	id=$(basename "$f" | cut -d- -f1)
	case " $POOL_VARIANTS " in *" $id "*) ;; *) continue ;; esac
	selected "$id+pool" && scenarios+=("$f+pool")
done
echo "1..${#scenarios[@]}"
n=0
for scenario in "${scenarios[@]}"; do
	n=$((n + 1))
	prewarm=
	case $scenario in *+pool) scenario=${scenario%+pool}; prewarm=1 ;; esac
	name=$(basename "$scenario" .sh)${prewarm:+-pool-on}
	log="$T/scenario-$name.out"
	started=$(date +%s%N)
	(
		set -u
		trap 'scenario_teardown || exit 1' EXIT
		[ -n "$prewarm" ] && export CLOUDFUNC_PREWARM=$prewarm
		. "$scenario"
	) > "$log" 2>&1
	status=$?
	if [ $status = 0 ]; then
		left=$(engine_count_containers 2>/dev/null)
		if [ "$left" != 0 ]; then
			echo "# FAIL: ${left:-unknown number of} container(s) left" >> "$log"
			status=1
		fi
	fi
	ms=$(( ($(date +%s%N) - started) / 1000000 ))
	if [ $status = 0 ]; then
		echo "ok $n - $name (${ms} ms)"
		[ -n "${CLOUDFUNC_VERBOSE:-}" ] && sed 's/^/# /; s/^# # /# /' "$log"
	else
		echo "not ok $n - $name"
		sed 's/^/# /; s/^# # /# /' "$log" | tail -n 40
		for f in "$T"/*.log; do
			[ -e "$f" ] && tail -n 10 "$f" | sed "s|^|# $(basename "$f"): |"
		done
	fi
	# Whatever the scenario left, the next one starts from an empty engine.
	engine_api GET '/containers/json?all=1' 2>/dev/null | jq -r '.[].Id' |
		while read -r id; do
			engine_api DELETE "/containers/$id?force=1" > /dev/null 2>&1
		done
	[ -n "${CLOUDFUNC_KEEP:-}" ] && cp "$T"/*.log "$CLOUDFUNC_KEEP"/ 2>/dev/null
	rm -f "$T"/*.log
done

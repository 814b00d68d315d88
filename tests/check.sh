#!/bin/bash
# The whole test suite, as CI runs it: installs what is missing (Debian
# packages), builds with warnings as errors, runs `make check`, then builds
# again under AddressSanitizer and UndefinedBehaviorSanitizer and runs
# `make check` once more.  Ends with one line: N passed, N failed.
# Run as root: the integration tests start a private Docker engine.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)

PACKAGES="autoconf automake make gcc pkg-config libfcgi-dev libfcgi-bin
	libcurl4-openssl-dev libjson-c-dev docker.io busybox-static nginx-light
	lighttpd spawn-fcgi jq curl iproute2 procps docker-registry apache2-utils
	python3"

install_missing() {
	local missing="" p
	for p in $PACKAGES; do
		dpkg-query -W -f '${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "tests/check.sh: missing packages:$missing (run as root)" >&2
		return 1
	fi
	echo "== installing:$missing"
	apt-get update -q > /dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $missing > /dev/null
}

# Builds in build-NAME with extra configure arguments, then runs make check.
build_and_check() {
	local name=$1
	shift
	echo "== $name: configure and build"
	rm -rf "build-$name"
	mkdir -p "build-$name"
	(
		cd "build-$name" &&
		"$top/configure" -q --enable-werror "$@" &&
		make -s -j2
	) || { echo "== $name: build failed"; return 1; }
	echo "== $name: make check"
	(cd "build-$name" && make -s -j2 check) || true
	cat "build-$name"/tests/unit/*.log "build-$name"/tests/integration/*.log \
		2>/dev/null | grep -E '^(not ok|ok|# |Bail out)' | sed "s/^/[$name] /"
}

# Counts the results that automake's TAP driver recorded in both builds.
summarize() {
	local results passed failed skipped
	results=$(cat build-*/tests/unit/*.trs build-*/tests/integration/*.trs \
		2>/dev/null | sed -n 's/^:test-result: //p')
	passed=$(grep -c -E '^(PASS|XFAIL)' <<< "$results")
	failed=$(grep -c -E '^(FAIL|XPASS|ERROR)' <<< "$results")
	skipped=$(grep -c '^SKIP' <<< "$results")
	# A build that failed ran nothing, and that counts as a failure.
	failed=$((failed + build_failures))
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}

install_missing || exit 1
[ -x configure ] || ./autogen.sh > /dev/null 2>&1 || { echo "autogen.sh failed"; exit 1; }
[ "${CI:-}" = true ] && export CLOUDFUNC_REQUIRE_ENGINE=1

build_failures=0
build_and_check release || build_failures=$((build_failures + 1))
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
build_and_check sanitize CFLAGS="-g -O1 $san" LDFLAGS="$san" ||
	build_failures=$((build_failures + 1))
summarize

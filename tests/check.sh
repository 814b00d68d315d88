#!/bin/bash
# The whole test suite, as CI runs it: installs what is missing (Debian
# packages), builds with warnings as errors, runs `make check`, then builds
# again under AddressSanitizer and UndefinedBehaviorSanitizer and runs
# `make check` once more, runs a few integration scenarios under valgrind,
# and checks that the release tarball builds and tests on its own
# (`make distcheck`).  Ends with one line: N passed, N failed, N skipped.
# Run as root: the integration tests start a private Docker engine.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)

PACKAGES="autoconf automake make gcc pkg-config libfcgi-dev libfcgi-bin
	libcurl4-openssl-dev libjson-c-dev docker.io busybox-static nginx-light
	lighttpd spawn-fcgi jq curl iproute2 procps docker-registry apache2-utils
	python3 clang libclang-rt-14-dev valgrind prometheus systemd openssl"

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
	local status=0
	(cd "build-$name" && make -s -j2 check) || status=$?
	cat "build-$name"/tests/*/*.log 2>/dev/null | grep -E '^(not ok|ok|# |Bail out)' | sed "s/^/[$name] /"
	# make check fails when a test does; failing with none failed means
	# that it stopped before running them, which is a failure of its own.
	if [ "$status" != 0 ] && ! cat "build-$name"/tests/*/*.trs 2>/dev/null |
		grep -q -E '^:test-result: (FAIL|XPASS|ERROR)'; then
		echo "== $name: make check stopped before its tests ran"
		return 1
	fi
}

# Runs a few integration scenarios with the release build's responder
# under valgrind; a scenario fails on any error or definite leak.
valgrind_check() {
	echo "== valgrind: integration scenarios ${VALGRIND_SCENARIOS}"
	top_srcdir=$top top_builddir=$top/build-release \
		CLOUDFUNC_ONLY="$VALGRIND_SCENARIOS" \
		RESPONDER_WRAPPER="/usr/bin/valgrind --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=30" \
		bash tests/integration/run.sh > build-release/valgrind.tap 2>&1
	sed 's/^/[valgrind] /' build-release/valgrind.tap |
		grep -E '^\[valgrind\] (not ok|ok|# |Bail out)'
	valgrind_passed=$(grep -c '^ok ' build-release/valgrind.tap)
	valgrind_failed=$(grep -c -E '^(not ok|Bail out)' build-release/valgrind.tap)
}

# Builds the release tarball and checks that it configures, builds,
# installs and tests on its own, outside this tree; its own make check runs
# the unit tests and one integration scenario, since the full suite has
# already run on these sources.
distcheck_check() {
	echo "== distcheck: the tarball builds and tests on its own"
	if CLOUDFUNC_ONLY=t01 CLOUDFUNC_FUZZ_SECONDS=0 make -s -C build-release \
		distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
		> build-release/distcheck.log 2>&1; then
		echo "[distcheck] ok - $(grep -o 'cloudfunc-[0-9.]*\.tar\.gz' \
			build-release/distcheck.log | tail -n 1) builds and passes make check"
		distcheck_passed=1
	else
		echo "[distcheck] not ok - make distcheck failed:"
		tail -n 30 build-release/distcheck.log | sed 's/^/[distcheck] # /'
		distcheck_failed=1
	fi
}

# Counts the results that automake's TAP driver recorded in both builds.
summarize() {
	local results passed failed skipped
	results=$(cat build-*/tests/*/*.trs 2>/dev/null |
		sed -n 's/^:test-result: //p')
	passed=$(( $(grep -c -E '^(PASS|XFAIL)' <<< "$results") + valgrind_passed +
		distcheck_passed ))
	failed=$(( $(grep -c -E '^(FAIL|XPASS|ERROR)' <<< "$results") + valgrind_failed +
		distcheck_failed ))
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
# The fuzzers build their own instrumented binaries: one pass is enough.
CLOUDFUNC_FUZZ_SECONDS=0 build_and_check release ||
	build_failures=$((build_failures + 1))
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CLOUDFUNC_SANITIZED=1 CLOUDFUNC_FUZZ_SECONDS=${CLOUDFUNC_FUZZ_SECONDS:-20} \
	build_and_check sanitize CFLAGS="-g -O1 $san" LDFLAGS="$san" ||
	build_failures=$((build_failures + 1))
VALGRIND_SCENARIOS=${VALGRIND_SCENARIOS:-"t01 t04 t08 t13 t14 t20"}
valgrind_passed=0
valgrind_failed=0
[ -x build-release/fcgi/cloudfunc-fcgi ] && valgrind_check
distcheck_passed=0
distcheck_failed=0
[ -f build-release/Makefile ] && distcheck_check
summarize

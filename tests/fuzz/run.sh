#!/bin/bash
# Builds each libFuzzer target with clang and runs it for a bounded time
# (CLOUDFUNC_FUZZ_SECONDS, default 10) from its corpus in tests/fuzz/corpus.
# New inputs go to a scratch copy, never into the source tree.  TAP output.
set -u
SRC=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${top_builddir:-$SRC}
seconds=${CLOUDFUNC_FUZZ_SECONDS:-10}
targets=(stream conf route)

if [ "$seconds" = 0 ]; then
	echo "1..0 # SKIP fuzzing is off here (CLOUDFUNC_FUZZ_SECONDS=0)"
	exit 0
fi
if ! command -v clang > /dev/null; then
	echo "1..0 # SKIP clang is not installed"
	exit 0
fi

work=$(mktemp -d /tmp/cloudfunc-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-D_DEFAULT_SOURCE -I$SRC/fcgi $(pkg-config --cflags json-c)"
sources_stream="$SRC/fcgi/stream.c"
sources_conf="$SRC/fcgi/conf.c"
sources_route="$SRC/fcgi/route.c"

echo "1..${#targets[@]}"
n=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	srcs=sources_$t
	if ! clang $cflags -o "$work/fuzz_$t" "$SRC/tests/fuzz/fuzz_$t.c" \
		${!srcs} $(pkg-config --libs json-c) > "$work/$t.build" 2>&1; then
		echo "not ok $n - fuzz_$t: build failed"
		sed 's/^/# /' "$work/$t.build" | head -n 20
		continue
	fi
	mkdir -p "$work/corpus-$t"
	if "$work/fuzz_$t" -max_total_time="$seconds" -max_len=4096 \
		-timeout=10 -rss_limit_mb=1024 "$work/corpus-$t" \
		"$SRC/tests/fuzz/corpus/$t" > "$work/$t.log" 2>&1; then
		echo "ok $n - fuzz_$t: $(grep -o 'Done [0-9]* runs' "$work/$t.log" | tail -n 1) in ${seconds}s"
	else
		echo "not ok $n - fuzz_$t found a crash"
		grep -A 30 -E 'ERROR|runtime error|==[0-9]+==' "$work/$t.log" |
			head -n 40 | sed 's/^/# /'
	fi
done

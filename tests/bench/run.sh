#!/bin/bash
# Benchmarks cloudfunc against the baselines on the same private engine, in
# alternation, in one run: (a) cloudfunc behind nginx, (b) the same with
# pre-started containers, (c) `docker run --rm busybox echo`, (d) the raw
# Engine API from one long-lived process.
# Prints sequential p50/p90/p99, requests per second at concurrency 1, 4,
# 8 and 16, ratios, the responder's peak RSS and CPU per request, and
# plots latency against concurrency.  Run as root; never part of pass/fail.
# Throughput of (a) is measured twice: with one curl process a request, as
# users send them, and with one long-lived keep-alive client (http_load.py)
# of the same weight as (d), since on a small machine the clients' own CPU
# is taken from the engine.
#   BENCH_N=20 (sequential requests per round)  BENCH_C=40 (per level)
#   BENCH_OUT=DIR (where the table and the PNG go; default tests/bench/out)
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${top_builddir:-$SRC/build-release}
BIN=$BUILD/fcgi/cloudfunc-fcgi
N=${BENCH_N:-20}
C=${BENCH_C:-40}
OUT=${BENCH_OUT:-$SRC/tests/bench/out}
export SRC BUILD BIN
. "$SRC/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || { echo "bench: run as root (it starts a private engine)"; exit 1; }
[ -x "$BIN" ] || { echo "bench: build first ($BIN)"; exit 1; }
for tool in dockerd nginx spawn-fcgi gnuplot python3 jq; do
	command -v "$tool" > /dev/null || { echo "bench: $tool is missing"; exit 1; }
done

T=$(mktemp -d /tmp/cfb.XXXXXX)
chmod 0755 "$T"
SOCK=$T/docker.sock
export T SOCK
mkdir -p "$OUT"
cleanup() {
	nginx_stop cf
	nginx_stop warm
	responder_stop cf
	responder_stop warm
	engine_stop
	rm -rf "$T"
}
trap cleanup EXIT

engine_start || exit 1
engine_import_busybox || exit 1
cat > "$T/cf.json" <<JSON
{ "engine": "unix://$SOCK", "max_running": 64, "queue_ms": 60000 }
JSON
# (b): enough pre-started containers for one sequential batch.
PREWARM=$((N / 4 + 1))
cat > "$T/warm.json" <<JSON
{ "engine": "unix://$SOCK", "max_running": 64, "queue_ms": 60000,
  "functions": { "spawnTestContainer": { "prewarm": $PREWARM } } }
JSON
responder_start cf -c "$T/cf.json" -t 16 -v
responder_start warm -c "$T/warm.json" -t 16 -v
port=$(free_port)
nginx_start cf "$port"
port_b=$(free_port)
nginx_start warm "$port_b"
for name in cf warm; do
	sed -i 's/rate=5r\/s/rate=10000r\/s/; s/burst=20/burst=10000/' "$T/nginx-$name/cloudfunc.conf"
	kill -HUP "$(cat "$T/nginx-$name/pid")"
done
sleep 0.5
pid=$(cat "$T/cf.pid")
url="http://127.0.0.1:$port/spawnTestContainer"
url_b="http://127.0.0.1:$port_b/spawnTestContainer"

# Waits, a bounded time, for (b)'s pool to be full again, so that its
# refilling does not run into the next measurement.
pool_full() {
	local i
	for i in $(seq 1 600); do
		[ "$(engine_count_waiting)" -ge "$PREWARM" ] && return 0
		sleep 0.1
	done
	echo "bench: the pool did not refill within 60 s" >&2
}

# cloudfunc_seq N [URL]
cloudfunc_seq() {
	local i
	for i in $(seq 1 "$1"); do
		curl -s -o /dev/null -w '%{time_total}\n' "${2:-$url}" |
			awk '{ printf "%.2f\n", $1 * 1000 }'
	done
}

docker_seq() {
	local i s e
	for i in $(seq 1 "$1"); do
		s=$(date +%s%N)
		DOCKER_HOST="unix://$SOCK" "$DOCKER_CLI" run --rm --network none \
			busybox:latest echo "Hello from CloudFunc" > /dev/null
		e=$(date +%s%N)
		echo "$(( (e - s) / 10000 ))" | awk '{ printf "%.2f\n", $1 / 100 }'
	done
}

raw_seq() {
	python3 "$SRC/tests/bench/raw_api.py" "$SOCK" "$1" 1 | grep -v elapsed
}

# percentile FILE P: the P-th percentile of the numbers in FILE.
percentile() {
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
		i = int((NR - 1) * p / 100 + 0.5) + 1; printf "%.1f", v[i] }'
}

# log_p50 KEY FILE: the median of KEY=N over the log lines in FILE.
log_p50() {
	grep -o " $1=[0-9]*" "$2" | cut -d= -f2 > "$T/values"
	[ -s "$T/values" ] && percentile "$T/values" 50 || echo "-"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

echo "== warming up"
cloudfunc_seq 3 > /dev/null
pool_full
cloudfunc_seq 3 "$url_b" > /dev/null
pool_full
raw_seq 3 > /dev/null
docker_seq 2 > /dev/null

echo "== sequential, $N requests each, in alternating rounds"
: > "$T/a"; : > "$T/b"; : > "$T/c"; : > "$T/d"
requests_a=0
ticks0=$(cpu_ticks)
for round in 1 2 3 4; do
	cloudfunc_seq $((N / 4)) >> "$T/a"
	cloudfunc_seq $((N / 4)) "$url_b" >> "$T/b"
	pool_full
	docker_seq $((N / 4)) >> "$T/c"
	raw_seq $((N / 4)) >> "$T/d"
	requests_a=$((requests_a + N / 4))
done
ticks1=$(cpu_ticks)
# The responders' own account of the sequential requests: their phases.
sleep 1
grep 'event=request' "$T/cf.log" | tail -n "$N" > "$T/phases-a"
grep 'event=request' "$T/warm.log" | tail -n "$N" > "$T/phases-b"

echo "== throughput, $C requests per level"
: > "$T/levels"
for conc in 1 4 8 16; do
	s=$(date +%s%N)
	seq 1 "$C" | xargs -P "$conc" -I{} curl -s -o /dev/null -w '%{time_total}\n' "$url" \
		> "$T/lat-$conc"
	e=$(date +%s%N)
	rps_a=$(echo "$C $s $e" | awk '{ printf "%.2f", $1 / (($3 - $2) / 1e9) }')
	keep_out=$(python3 "$SRC/tests/bench/http_load.py" "$url" "$C" "$conc") ||
		echo "bench: (a) with one client: answers that were not 200" >&2
	rps_k=$(echo "$keep_out" | awk -v n="$C" '/elapsed/ { printf "%.2f", n / $2 }')
	raw_out=$(python3 "$SRC/tests/bench/raw_api.py" "$SOCK" "$C" "$conc")
	rps_d=$(echo "$raw_out" | awk -v n="$C" '/elapsed/ { printf "%.2f", n / $2 }')
	p50_a=$(awk '{ printf "%.2f\n", $1 * 1000 }' "$T/lat-$conc" > "$T/ms-$conc"; percentile "$T/ms-$conc" 50)
	echo "$raw_out" | grep -v elapsed > "$T/rawms-$conc"
	p50_d=$(percentile "$T/rawms-$conc" 50)
	s=$(date +%s%N)
	seq 1 "$C" | xargs -P "$conc" -I{} curl -s -o /dev/null -w '%{time_total}\n' "$url_b" \
		> "$T/latb-$conc"
	e=$(date +%s%N)
	rps_b=$(echo "$C $s $e" | awk '{ printf "%.2f", $1 / (($3 - $2) / 1e9) }')
	p50_b=$(awk '{ printf "%.2f\n", $1 * 1000 }' "$T/latb-$conc" > "$T/msb-$conc"; percentile "$T/msb-$conc" 50)
	pool_full
	echo "$conc $rps_a $rps_d $p50_a $p50_d $rps_b $p50_b $rps_k" >> "$T/levels"
	requests_a=$((requests_a + 2 * C))
done
ticks2=$(cpu_ticks)
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status")
file=$(awk '/^RssFile/ { print $2 }' "/proc/$pid/status")
hz=$(getconf CLK_TCK)
cpu_ms=$(echo "$ticks0 $ticks2 $hz $requests_a" |
	awk '{ printf "%.2f", ($2 - $1) * 1000 / $3 / $4 }')

a50=$(percentile "$T/a" 50); c50=$(percentile "$T/c" 50); d50=$(percentile "$T/d" 50)
{
	echo "cloudfunc benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(dockerd --version)"
	echo
	echo "| sequential (ms) | p50 | p90 | p99 |"
	echo "|---|---|---|---|"
	for x in a b c d; do
		case $x in
		a) name="(a) cloudfunc behind nginx, pool off" ;;
		b) name="(b) cloudfunc behind nginx, pool on" ;;
		c) name="(c) docker run --rm" ;;
		d) name="(d) raw Engine API, one process" ;;
		esac
		echo "| $name | $(percentile "$T/$x" 50) | $(percentile "$T/$x" 90) | $(percentile "$T/$x" 99) |"
	done
	echo
	echo "| concurrency | (a) req/s | (a) req/s, one client | (b) req/s | (d) req/s | (a)/(d) | (a) one client/(d) | (a) p50 ms | (b) p50 ms | (d) p50 ms |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	while read -r conc ra rd pa pd rb pb rk; do
		echo "| $conc | $ra | $rk | $rb | $rd | $(echo "$ra $rd" | awk '{ printf "%.2f", $1 / $2 }') | $(echo "$rk $rd" | awk '{ printf "%.2f", $1 / $2 }') | $pa | $pb | $pd |"
	done < "$T/levels"
	echo
	echo "| figure | value |"
	echo "|---|---|"
	echo "| p50 (b) / (d), pool on | $(echo "$(percentile "$T/b" 50) $d50" | awk '{ printf "%.3f", $1 / $2 }') |"
	echo "| p50 (a) / (d) | $(echo "$a50 $d50" | awk '{ printf "%.2f", $1 / $2 }') |"
	echo "| p50 (a) / (c) | $(echo "$a50 $c50" | awk '{ printf "%.2f", $1 / $2 }') |"
	echo "| req/s at concurrency 8, (a) / (d) | $(awk '$1 == 8 { printf "%.2f", $2 / $3 }' "$T/levels") |"
	echo "| the same, (a) from one keep-alive client | $(awk '$1 == 8 { printf "%.2f", $8 / $3 }' "$T/levels") |"
	echo "| responder peak RSS (VmHWM) | $((hwm / 1024)).$(( (hwm % 1024) * 10 / 1024 )) MiB |"
	echo "| of which its own memory after the run (RssAnon) | $((anon / 1024)).$(( (anon % 1024) * 10 / 1024 )) MiB |"
	echo "| and shared libraries' pages (RssFile) | $((file / 1024)).$(( (file % 1024) * 10 / 1024 )) MiB |"
	echo "| responder CPU per request | $cpu_ms ms |"
	echo
	echo "| where the time goes, sequential, p50 of the responder's log (ms) | create | start | run | answered | remove, after the answer |"
	echo "|---|---|---|---|---|---|"
	for x in a b; do
		echo "| ($x) $([ $x = a ] && echo "pool off" || echo "pool on") $(for k in create_ms start_ms run_ms ms remove_ms; do
			printf '| %s ' "$(log_p50 "$k" "$T/phases-$x")"; done)|"
	done
} | tee "$OUT/results.md"

gnuplot <<PLOT
set terminal png size 800,500
set output "$OUT/latency.png"
set title "p50 latency against concurrency ($C requests per level)"
set xlabel "concurrency"
set ylabel "p50 latency (ms)"
set key top left
set logscale x 2
plot "$T/levels" using 1:4 with linespoints title "(a) cloudfunc behind nginx", \
     "$T/levels" using 1:7 with linespoints title "(b) cloudfunc, pool on", \
     "$T/levels" using 1:5 with linespoints title "(d) raw Engine API"
PLOT
echo "plot: $OUT/latency.png"
responder_stop warm
left=$(engine_count_containers)
[ "$left" = 0 ] || echo "bench: $left containers left on the engine"

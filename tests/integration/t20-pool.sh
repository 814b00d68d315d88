# Pre-started containers: answers are those of cold runs, no container
# serves two requests, an idle one is replaced, a dead one is not used, and
# none is left after SIGTERM or after SIGKILL and a restart.  An image with
# no shell and no libc runs through the gate as well.

# An image holding one static program and nothing else.
cat > "$T/lone.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(void) {
	char line[256];
	if (fgets(line, sizeof(line), stdin) == NULL)
		line[0] = '\0';
	printf("lone: %s", line);
	fprintf(stderr, "lone: to stderr\n");
	return getenv("LONE_FAIL") ? 4 : 0;
}
C
mkdir -p "$T/lone"
gcc -static -O1 -o "$T/lone/lone" "$T/lone.c" || fail "cannot build the lone program"
tar -C "$T/lone" -cf "$T/lone.tar" lone
engine_cli import -c 'CMD ["/lone"]' "$T/lone.tar" lone:latest > /dev/null ||
	fail "cannot import the lone image"

functions='
		"hello": { "image": "busybox:latest", "cmd": ["echo", "Hello from CloudFunc"] PREWARM },
		"upper": { "image": "busybox:latest", "cmd": ["tr", "a-z", "A-Z"] PREWARM },
		"fails": { "image": "busybox:latest",
			"cmd": ["sh", "-c", "echo partial; echo oops >&2; exit 3"] PREWARM },
		"query": { "image": "busybox:latest",
			"cmd": ["sh", "-c", "echo \"$QUERY_STRING $REQUEST_METHOD\""] PREWARM },
		"host": { "image": "busybox:latest", "cmd": ["hostname"] PREWARM },
		"forge": { "image": "busybox:latest", "response": "raw",
			"cmd": ["sh", "-c", "printf \"\\003\\0\\0\\0\\0\\0\\0\\004\\0\\0\\0\\0\"; exit 7"] PREWARM },
		"lone": { "image": "lone:latest" PREWARM }'
# write_pool FILE PREWARM_MEMBER
write_pool() {
	cat > "$1" <<JSON
{
	"engine": "unix://$SOCK",
	"prewarm_max_idle_ms": 4000,
	"functions": {${functions//PREWARM/$2}
	}
}
JSON
}
write_pool "$T/cold.json" ""
write_pool "$T/warm.json" ', "prewarm": 2'

# Containers of a function waiting, running, on the engine: waiting FUNCTION
waiting() {
	engine_api GET '/containers/json' | jq --arg f "$1" \
		'[.[] | select(.Labels["cloudfunc.function"] == $f and
			.Labels["cloudfunc.request"] == "prewarm")] | length'
}
# wait_pool FUNCTION N: up to 30 s for N containers of it to wait.
wait_pool() {
	local i
	for i in $(seq 1 300); do
		[ "$(waiting "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	fail "the pool of $1 holds $(waiting "$1") containers, not $2"
}

responder_start cold -c "$T/cold.json"
responder_start warm -c "$T/warm.json"
cold="python3 $SRC/tests/integration/fcgi_client.py $T/cold.sock"
warm="python3 $SRC/tests/integration/fcgi_client.py $T/warm.sock"
for f in hello upper fails query host forge lone; do
	wait_pool "$f" 2
done
# The engine lists a container a moment before the pool counts it.
for i in $(seq 1 50); do
	$warm GET /healthz | tail -n 1 | jq -e '.pool.enabled and .pool.ready == 14' \
		> /dev/null && break
	sleep 0.1
done
$warm GET /healthz | tail -n 1 | jq -e '.pool.enabled and .pool.ready == 14' > /dev/null ||
	fail "healthz does not show the pool: $($warm GET /healthz)"
$cold GET /healthz | tail -n 1 | jq -e '.pool.enabled == false' > /dev/null ||
	fail "healthz shows a pool that is off"

# Every answer is that of a cold run, but for how long it took.
untimed() {
	grep -a -v -i '^x-request-id\|^x-cloudfunc-duration' |
		sed 's/"duration_ms":[0-9]*//'
}
same() {
	local a b
	a=$($cold "$@" 2>&1 | tr -d '\0' | untimed)
	b=$($warm "$@" 2>&1 | tr -d '\0' | untimed)
	[ "$a" = "$b" ] || fail "$*: cold and warm differ:
cold: $a
warm: $b"
	say "$*: $(tail -n 1 <<< "$b" | cut -c1-100)"
}
same GET /functions/hello
same POST /functions/upper --body 'make me loud'
same GET /functions/fails
same GET '/functions/query?a=1&b=two'
same POST /functions/lone --body 'no shell here'
same GET /functions/forge
grep -q '"output":"Hello from CloudFunc"' <<< "$($warm GET /functions/hello)" ||
	fail "the warm seed answer is wrong"
grep -q '"output":"lone: no shell here"' <<< "$($warm POST /functions/lone --body 'no shell here')" ||
	fail "the image without a shell did not run through the gate"
# The command's output cannot pass for the gate's exit record.
forged=$($warm GET /functions/forge | tr -d '\0')
grep -q 'Status: 500' <<< "$forged" &&
	grep -q 'function \\"forge\\" exited with status 7' "$T/warm.log" ||
	fail "a forged exit record was believed: $forged"
grep -c 'warm=1' "$T/warm.log" > /dev/null || fail "no run took a pre-started container"

# Each request its own container: ten hostnames, ten different ones, all
# from the pool (it is let refill between them).
for i in $(seq 1 10); do
	wait_pool host 2
	$warm GET /functions/host | tail -n 1 | jq -r .output
done > "$T/hosts"
[ "$(sort -u "$T/hosts" | wc -l)" = 10 ] || fail "a container served twice: $(tr '\n' ' ' < "$T/hosts")"
# The log line comes once the container is removed, after the answer.
for i in $(seq 1 50); do
	[ "$(grep -c 'function=host .*warm=1' "$T/warm.log")" = 10 ] && break
	sleep 0.1
done
[ "$(grep -c 'function=host .*warm=1' "$T/warm.log")" = 10 ] ||
	fail "the host runs did not all come from the pool"
[ "$(grep 'function=host ' "$T/warm.log" | grep -o 'container=[0-9a-f]*' |
	sort -u | wc -l)" = 10 ] || fail "ten requests did not see ten containers"

# An idle container past prewarm_max_idle_ms is replaced.
wait_pool hello 2
before=$(engine_api GET '/containers/json' | jq -r --arg f hello \
	'.[] | select(.Labels["cloudfunc.function"] == $f) | .Id' | sort)
sleep 5
wait_pool hello 2
after=$(engine_api GET '/containers/json' | jq -r --arg f hello \
	'.[] | select(.Labels["cloudfunc.function"] == $f) | .Id' | sort)
[ -n "$(comm -12 <(echo "$before") <(echo "$after"))" ] &&
	fail "idle containers were not replaced"
grep -q 'cloudfunc_pool_events_total{event="expired"} [1-9]' <<< \
	"$($warm GET /metrics)" || fail "the replacement is not counted"

# A pre-started container that died while waiting is not used: the run
# goes cold and answers as usual.
wait_pool hello 2
for id in $(engine_api GET '/containers/json' | jq -r \
	'.[] | select(.Labels["cloudfunc.function"] == "hello") | .Id'); do
	engine_api POST "/containers/$id/kill" > /dev/null
done
out=$($warm GET /functions/hello)
grep -q '"output":"Hello from CloudFunc"' <<< "$out" || fail "after the pool died: $out"
# Left alone, dead containers are noticed and replaced.
wait_pool hello 2
before=$(engine_api GET '/containers/json' | jq -r \
	'.[] | select(.Labels["cloudfunc.function"] == "hello") | .Id' | sort)
for id in $before; do
	engine_api POST "/containers/$id/kill" > /dev/null
done
wait_log "$T/warm.log" 'event=pool-lost function=hello' ||
	fail "the dead containers were not noticed"
wait_pool hello 2
after=$(engine_api GET '/containers/json' | jq -r \
	'.[] | select(.Labels["cloudfunc.function"] == "hello") | .Id' | sort)
[ -n "$(comm -12 <(echo "$before") <(echo "$after"))" ] &&
	fail "dead containers are still counted as ready"

# SIGTERM: the waiting containers go with the responder.
responder_stop cold
wait_pool upper 2
pid=$(cat "$T/warm.pid")
kill -TERM "$pid"
wait "$pid" || fail "the responder did not exit 0 on SIGTERM"
rm -f "$T/warm.pid"
expect_no_containers

# SIGKILL: the next instance sweeps what the dead one left waiting.
responder_start warm -c "$T/warm.json"
wait_pool hello 2
kill -KILL "$(cat "$T/warm.pid")"
wait "$(cat "$T/warm.pid")" 2>/dev/null
rm -f "$T/warm.pid"
[ "$(waiting hello)" = 2 ] || fail "the killed responder's pool is gone already"
write_conf "$T/plain.json"
responder_start plain -c "$T/plain.json"
for i in $(seq 1 100); do
	[ "$(engine_count_containers)" = 0 ] && break
	sleep 0.1
done
responder_stop plain
expect_no_containers

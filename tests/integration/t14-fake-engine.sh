# Faults the real engine will not produce on demand, from fake_engine.py:
# error statuses, garbage, a stream cut inside a frame header, a gate whose
# frames make no sense or whose exit record never comes, calls that never
# answer, a removal that keeps failing.  Each gets its documented
# JSON error within its time limit, and the responder keeps serving.
python3 "$SRC/tests/integration/fake_engine.py" "$T/fake.sock" 2> "$T/fake.log" &
echo $! > "$T/fake-engine.pid"
wait_socket "$T/fake.sock" || fail "the fake engine did not start"
cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$T/fake.sock",
	"engine_timeout_ms": 1000,
	"functions": {
		"ok": { "image": "fault/ok" },
		"create500": { "image": "fault/create-500" },
		"garbage": { "image": "fault/create-garbage" },
		"stall": { "image": "fault/create-stall" },
		"cut": { "image": "fault/stream-cut" },
		"waitstall": { "image": "fault/wait-stall", "timeout_ms": 1000 },
		"nodelete": { "image": "fault/delete-500" },
		"gatejunk": { "image": "fault/gate-garbage" },
		"vanish": { "image": "fault/create-vanish" }
	}
}
JSON
responder_start cf -c "$T/cf.json" -t 4
client="python3 $SRC/tests/integration/fcgi_client.py $T/cf.sock"

# expect FUNCTION STATUS CODE MAX_MS
expect() {
	local start ms out
	start=$(date +%s%N)
	out=$($client GET "/functions/$1" --timeout 30) || fail "$1: no answer"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	grep -q "Status: $2" <<< "$out" || fail "$1: $out"
	[ -z "$3" ] || grep -q "\"code\":\"$3\"" <<< "$out" || fail "$1: $out"
	[ "$ms" -lt "$4" ] || fail "$1 took $ms ms"
	say "$1: $(tail -n 1 <<< "$out" | cut -c1-160) ($ms ms)"
}

expect ok 200 "" 3000
grep -q '"output":"fake"' <<< "$($client GET /functions/ok)" ||
	fail "the gate's frames were not unpacked"
expect create500 502 engine_error 3000
grep -q 'injected failure' <<< "$($client GET /functions/create500)" ||
	fail "the engine's own message is not passed on"
expect garbage 502 engine_error 3000
expect stall 503 engine_unavailable 3000
expect cut 502 engine_error 3000
expect waitstall 502 engine_lost 9000
expect gatejunk 502 engine_error 3000
# A create that made its container but never answered: the container has
# no id we know, so the sweep finds it by the request's label.
expect vanish 503 engine_unavailable 3000
wait_log "$T/cf.log" 'reason=failed-create' ||
	wait_log "$T/cf.log" 'reason=failed-create' ||
	fail "the container of the unanswered create was not swept"
fake_left() {
	curl -s --unix-socket "$T/fake.sock" http://fake/v1.41/containers/json |
		jq '[.[] | select(.Labels["cloudfunc.function"] == "vanish")] | length'
}
for i in $(seq 1 50); do
	[ "$(fake_left)" = 0 ] && break
	sleep 0.1
done
[ "$(fake_left)" = 0 ] || fail "the unanswered create left $(fake_left) containers"
expect nodelete 200 "" 5000
wait_log "$T/cf.log" 'left to the sweep' || fail "the failed removal was not logged"
expect ok 200 "" 3000
kill "$(cat "$T/fake-engine.pid")" 2>/dev/null
rm -f "$T/fake-engine.pid"

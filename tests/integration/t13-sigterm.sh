# SIGTERM in the middle of a burst: the runs in progress complete, the
# process exits 0, and nothing is left on the engine.
cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$SOCK",
	"functions": {
		"nap": { "image": "busybox:latest", "cmd": ["sh", "-c", "sleep 2; echo done"] }
	}
}
JSON
responder_start cf -c "$T/cf.json" -t 4
client="python3 $SRC/tests/integration/fcgi_client.py $T/cf.sock"
for i in 1 2 3 4; do
	$client GET /functions/nap --timeout 30 > "$T/term-$i.out" 2>&1 &
done
for i in $(seq 1 100); do
	[ "$(engine_api GET '/containers/json' | jq length)" = 4 ] && break
	sleep 0.1
done
pid=$(cat "$T/cf.pid")
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
rm -f "$T/cf.pid"
[ "$status" = 0 ] || fail "the responder exited with $status"
wait
for i in 1 2 3 4; do
	grep -q 'Status: 200' "$T/term-$i.out" && grep -q '"output":"done"' "$T/term-$i.out" ||
		fail "run $i did not complete: $(cat "$T/term-$i.out")"
done
grep -q 'signal 15' "$T/cf.log" || fail "the stop was not logged"

# With a grace period shorter than the run, the run is cut short with 502
# interrupted (it may have done part of its work: not to be retried).
cat > "$T/cf2.json" <<JSON
{
	"engine": "unix://$SOCK",
	"stop_grace_ms": 500,
	"functions": {
		"long": { "image": "busybox:latest", "cmd": ["sleep", "30"] }
	}
}
JSON
responder_start cut -c "$T/cf2.json"
python3 "$SRC/tests/integration/fcgi_client.py" "$T/cut.sock" GET /functions/long \
	--timeout 30 > "$T/cut.out" 2>&1 &
for i in $(seq 1 100); do
	[ "$(engine_api GET '/containers/json' | jq length)" = 1 ] && break
	sleep 0.1
done
start=$(date +%s%N)
kill -TERM "$(cat "$T/cut.pid")"
wait "$(cat "$T/cut.pid")" || fail "the cut responder did not exit 0"
rm -f "$T/cut.pid"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait
grep -q 'Status: 502' "$T/cut.out" && grep -q '"code":"interrupted"' "$T/cut.out" ||
	fail "the cut run: $(cat "$T/cut.out")"
[ "$ms" -lt 5000 ] || fail "stopping took $ms ms"
expect_no_containers

# A responder killed with SIGKILL while 4 runs are in flight leaves
# containers behind; its successor removes them at start, and never
# touches the containers of a live sibling sharing the engine.
cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$SOCK",
	"sweep_interval_ms": 2000,
	"functions": {
		"slow": { "image": "busybox:latest", "cmd": ["sleep", "6"] }
	}
}
JSON
responder_start doomed -c "$T/cf.json" -t 4
responder_start sibling -c "$T/cf.json" -t 2
client="python3 $SRC/tests/integration/fcgi_client.py"

for i in 1 2 3 4; do
	$client "$T/doomed.sock" GET /functions/slow --timeout 20 \
		> "$T/doomed-$i.out" 2>&1 &
done
$client "$T/sibling.sock" GET /functions/slow --timeout 30 > "$T/sibling.out" 2>&1 &
sibling_client=$!

# Wait until all five run.
for i in $(seq 1 100); do
	[ "$(engine_api GET '/containers/json' | jq length)" = 5 ] && break
	sleep 0.1
done
[ "$(engine_api GET '/containers/json' | jq length)" = 5 ] ||
	fail "5 runs did not start"

kill -KILL "$(cat "$T/doomed.pid")"
wait "$(cat "$T/doomed.pid")" 2>/dev/null
rm -f "$T/doomed.pid"
left=$(engine_count_containers)
[ "$left" = 5 ] || fail "expected the 4 orphans and the sibling's run, saw $left"

responder_start successor -c "$T/cf.json"
for i in $(seq 1 50); do
	[ "$(engine_count_containers)" = 1 ] && break
	sleep 0.1
done
[ "$(engine_count_containers)" = 1 ] ||
	fail "$(engine_count_containers) containers 5 s after the successor started"
# The successor, or the sibling's own periodic sweep, removed each once.
removals=$(cat "$T/successor.log" "$T/sibling.log" | grep 'reason=dead-instance' |
	grep -o 'container=[0-9a-f]*' | sort -u | wc -l)
[ "$removals" = 4 ] || fail "$removals removals logged for 4 orphans"

wait $sibling_client
grep -q 'Status: 200' "$T/sibling.out" ||
	fail "the live sibling's run was disturbed: $(cat "$T/sibling.out")"
expect_no_containers

# The engine stops and comes back in the middle of a burst: every answer is
# 200 or a JSON 502/503, and once the engine is back the sweep removes
# whatever the failed requests left.
cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$SOCK",
	"engine_timeout_ms": 3000,
	"sweep_interval_ms": 2000,
	"functions": {
		"nap": { "image": "busybox:latest", "cmd": ["sleep", "1"] }
	}
}
JSON
responder_start cf -c "$T/cf.json" -t 6
port=$(free_port)
nginx_start cf "$port"

mkdir -p "$T/restart-out"
seq 1 24 | xargs -P 6 -I{} curl -sS --max-time 60 -o "$T/restart-out/{}" \
	-w '%{http_code}\n' "http://127.0.0.1:$port/functions/nap" > "$T/codes" &
burst=$!
sleep 3
engine_stop
sleep 1
engine_start || fail "the engine did not come back"
wait $burst

say "answers: $(sort "$T/codes" | uniq -c | tr '\n' ' ')"
[ "$(wc -l < "$T/codes")" = 24 ] || fail "answers lost: $(wc -l < "$T/codes") of 24"
if grep -qvE '^(200|502|503)$' "$T/codes"; then
	grep -L '"success":true' "$T"/restart-out/* | xargs grep -h -v engine_ | head -n 3 >&2
	fail "unexpected status"
fi
for f in "$T"/restart-out/*; do
	jq -e '.success == true or (.success == false and
		(.code | IN("engine_unavailable", "engine_lost", "engine_error")))' "$f" \
		> /dev/null || fail "not a JSON answer we document: $(cat "$f")"
done
grep -q '^200$' "$T/codes" || fail "no request succeeded"

code=$(http_get "http://127.0.0.1:$port/functions/nap" "$T/b")
[ "$code" = 200 ] || fail "after the restart: $code $(cat "$T/b")"
for i in $(seq 1 100); do
	[ "$(engine_count_containers)" = 0 ] && break
	sleep 0.1
done
expect_no_containers

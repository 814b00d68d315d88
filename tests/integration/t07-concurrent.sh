# 20 requests at once all succeed, each with its own container.
write_conf "$T/cf.json"
responder_start cf -c "$T/cf.json" -t 8
port=$(free_port)
nginx_start cf "$port"

mkdir -p "$T/burst-out"
seq 1 20 | xargs -P 20 -I{} curl -sS --max-time 90 -o "$T/burst-out/{}.body" \
	-w '%{http_code}\n' "http://127.0.0.1:$port/spawnTestContainer" \
	> "$T/codes"
ok=$(grep -c '^200$' "$T/codes")
[ "$ok" = 20 ] || fail "$ok of 20 answered 200: $(sort "$T/codes" | uniq -c)"
for f in "$T"/burst-out/*.body; do
	[ "$(cat "$f")" = '{"success":true,"output":"Hello from CloudFunc"}' ] ||
		fail "$f: $(cat "$f")"
done
wait_log "$T/cf.log" 'status=200' 20 || fail "20 requests were not logged"
ids=$(grep -o 'container=[0-9a-f]*' "$T/cf.log" | sort -u | wc -l)
[ "$ids" = 20 ] || fail "$ids distinct containers for 20 requests"
expect_no_containers

# The seed endpoint under spawn-fcgi behind nginx with conf/nginx, as a user
# calls it with curl: the exact JSON, HEAD, the request id, a prefix.
write_conf "$T/cf.json"
responder_start cf -c "$T/cf.json"
port=$(free_port)
nginx_start cf "$port"

code=$(http_get "http://127.0.0.1:$port/spawnTestContainer" "$T/body")
[ "$code" = 200 ] || fail "status $code, body: $(cat "$T/body")"
want='{"success":true,"output":"Hello from CloudFunc"}'
[ "$(cat "$T/body")" = "$want" ] || fail "body $(cat "$T/body"), want $want"
grep -qi '^Content-Type: application/json' "$T/body.headers" ||
	fail "no JSON content type"

# The id nginx made is the one the responder logged and echoed.
id=$(sed -n 's/^X-Request-Id: *\([0-9a-f]*\).*/\1/ip' "$T/body.headers")
[ -n "$id" ] || fail "no X-Request-Id header"
grep -q "id=$id" "$T/nginx-cf/cloudfunc.access.log" ||
	fail "request id $id is not nginx's \$request_id"
wait_log "$T/cf.log" "event=request id=$id .*status=200" ||
	fail "the responder did not log request $id"

code=$(curl -sS --max-time 60 -I -o "$T/head" -w '%{http_code}' \
	"http://127.0.0.1:$port/spawnTestContainer")
[ "$code" = 200 ] || fail "HEAD gave $code"
grep -qi '^Content-Length: 48' "$T/head" || fail "HEAD lacks GET's length"

code=$(http_get "http://127.0.0.1:$port/api/spawnTestContainer?x=1" "$T/body")
[ "$code" = 200 ] && [ "$(cat "$T/body")" = "$want" ] ||
	fail "under /api/: status $code, body $(cat "$T/body")"
expect_no_containers

# The seed endpoint behind lighttpd with conf/lighttpd/cloudfunc.conf, on a
# socket that spawn-fcgi serves.
write_conf "$T/cf.json"
responder_start cf -c "$T/cf.json"
port=$(free_port)
lighttpd_start cf "$port" cloudfunc.conf

code=$(http_get "http://127.0.0.1:$port/spawnTestContainer" "$T/body")
[ "$code" = 200 ] || fail "status $code, body: $(cat "$T/body")"
[ "$(cat "$T/body")" = '{"success":true,"output":"Hello from CloudFunc"}' ] ||
	fail "body $(cat "$T/body")"
code=$(http_get "http://127.0.0.1:$port/nothing/here" "$T/body")
[ "$code" = 404 ] || fail "unknown path gave $code"
expect_error "$T/body" not_found
expect_no_containers

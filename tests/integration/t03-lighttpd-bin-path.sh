# The seed endpoint behind lighttpd with conf/lighttpd/cloudfunc-spawn.conf:
# lighttpd starts the responder and hands it the socket on standard input.
write_conf "$T/cf.json"
port=$(free_port)
lighttpd_start spawned "$port" cloudfunc-spawn.conf "$T/cf.json"

code=$(http_get "http://127.0.0.1:$port/spawnTestContainer" "$T/body")
[ "$code" = 200 ] || fail "status $code, body: $(cat "$T/body")"
[ "$(cat "$T/body")" = '{"success":true,"output":"Hello from CloudFunc"}' ] ||
	fail "body $(cat "$T/body")"
pgrep -f "$BIN -c $T/cf.json" > /dev/null ||
	fail "lighttpd did not start the responder from bin-path"
lighttpd_stop spawned
sleep 0.2
! pgrep -f "$BIN -c $T/cf.json" > /dev/null ||
	fail "the responder outlived lighttpd"
expect_no_containers

# Unknown paths and wrong methods get JSON errors, and start no container.
write_conf "$T/cf.json"
responder_start cf -c "$T/cf.json"
port=$(free_port)
nginx_start cf "$port"

code=$(http_get "http://127.0.0.1:$port/nope" "$T/body")
[ "$code" = 404 ] || fail "unknown path gave $code"
expect_error "$T/body" not_found
grep -qi '^Content-Type: application/json' "$T/body.headers" ||
	fail "404 is not JSON"

code=$(http_get "http://127.0.0.1:$port/spawnTestContainer" "$T/body" -X POST \
	--data 'x')
[ "$code" = 405 ] || fail "POST gave $code"
expect_error "$T/body" method_not_allowed
grep -qi '^Allow: GET, HEAD' "$T/body.headers" || fail "405 without Allow"

code=$(http_get "http://127.0.0.1:$port/spawnTestContainer" "$T/body" -X DELETE)
[ "$code" = 405 ] || fail "DELETE gave $code"
wait_log "$T/cf.log" 'status=405' || fail "the 405 was not logged"
expect_no_containers

# A seed image the engine lacks gives 502 image_not_found with the engine's
# own words, and no container.
write_conf "$T/cf.json" cloudfunc-absent:latest
responder_start cf -c "$T/cf.json"
port=$(free_port)
nginx_start cf "$port"

code=$(http_get "http://127.0.0.1:$port/spawnTestContainer" "$T/body")
[ "$code" = 502 ] || fail "status $code, body $(cat "$T/body")"
expect_error "$T/body" image_not_found
jq -e '.error | test("cloudfunc-absent")' "$T/body" > /dev/null ||
	fail "the error does not name the image: $(cat "$T/body")"
expect_no_containers

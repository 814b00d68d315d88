# With the engine stopped the answer is 503 engine_unavailable, quickly;
# once it is back, requests succeed again without restarting anything.
write_conf "$T/cf.json"
responder_start cf -c "$T/cf.json"
port=$(free_port)
nginx_start cf "$port"

code=$(http_get "http://127.0.0.1:$port/spawnTestContainer" "$T/body")
[ "$code" = 200 ] || fail "before the stop: $code"
# Its container is removed just after the answer: let that finish.
wait_log "$T/cf.log" 'status=200' || fail "the first request was not logged"

engine_stop
start=$(date +%s%N)
code=$(http_get "http://127.0.0.1:$port/spawnTestContainer" "$T/body")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$code" = 503 ] || fail "engine stopped: status $code, body $(cat "$T/body")"
expect_error "$T/body" engine_unavailable
[ "$ms" -lt 2000 ] || fail "the 503 took $ms ms"
say "503 after $ms ms: $(jq -r .error "$T/body")"

engine_start || fail "the engine did not come back"
code=$(http_get "http://127.0.0.1:$port/spawnTestContainer" "$T/body")
[ "$code" = 200 ] || fail "after the restart: $code, $(cat "$T/body")"
expect_no_containers

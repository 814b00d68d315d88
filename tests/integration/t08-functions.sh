# Configured functions behind nginx and lighttpd: stdin to stdout in JSON
# and raw modes, exit codes, time, output and memory limits, isolation
# inside the container, invalid UTF-8, body limits, listing and errors.
cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$SOCK",
	"functions": {
		"upper": { "image": "busybox:latest", "cmd": ["tr", "a-z", "A-Z"],
			"env": { "LANG": "C" }, "timeout_ms": 10000 },
		"cat": { "image": "busybox:latest", "cmd": ["cat"],
			"response": "raw", "content_type": "application/octet-stream",
			"max_body_bytes": 2097152, "max_output_bytes": 2097152 },
		"fail3": { "image": "busybox:latest",
			"cmd": ["sh", "-c", "echo partial; echo oops >&2; exit 3"] },
		"sleepy": { "image": "busybox:latest", "cmd": ["sleep", "60"],
			"timeout_ms": 1000 },
		"flood": { "image": "busybox:latest", "cmd": ["yes", "0123456789"],
			"max_output_bytes": 65536 },
		"hog": { "image": "busybox:latest", "cmd": ["tail", "/dev/zero"],
			"memory_mb": 16, "timeout_ms": 20000 },
		"inside": { "image": "busybox:latest", "memory_mb": 48,
			"env": { "LANG": "C" },
			"cmd": ["sh", "-c", "id -u; if touch /x 2>/dev/null; then echo writable; else echo read-only; fi; ls /sys/class/net; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; echo \"\$CLOUDFUNC_FUNCTION \$REQUEST_METHOD \$QUERY_STRING \$LANG \$CLOUDFUNC_REQUEST_ID\"; echo tmp > /tmp/ok && cat /tmp/ok"] },
		"badutf": { "image": "busybox:latest",
			"cmd": ["printf", "ok\\\\377\\\\376end"] },
		"small": { "image": "busybox:latest", "cmd": ["cat"],
			"max_body_bytes": 10 }
	}
}
JSON
"$BIN" -n -c "$T/cf.json" > /dev/null || fail "the test configuration is refused"
responder_start cf -c "$T/cf.json" -t 4

check_functions() {
	local base=$1 code start ms
	say "front-end at $base"

	code=$(http_get "$base/functions/upper" "$T/b" --data-binary 'hello world')
	[ "$code" = 200 ] || fail "upper: $code $(cat "$T/b")"
	jq -e '.success == true and .output == "HELLO WORLD" and .stderr == ""
		and .exit_code == 0 and .truncated == false and
		(.duration_ms | type == "number")' "$T/b" > /dev/null ||
		fail "upper: $(cat "$T/b")"

	code=$(http_get "$base/functions/upper" "$T/b")
	[ "$code" = 200 ] && jq -e '.output == ""' "$T/b" > /dev/null ||
		fail "GET runs with empty stdin: $code $(cat "$T/b")"

	head -c 1048576 /dev/urandom > "$T/in.bin"
	code=$(http_get "$base/functions/cat" "$T/out.bin" \
		-H 'Content-Type: application/octet-stream' --data-binary @"$T/in.bin")
	[ "$code" = 200 ] || fail "cat: $code"
	cmp -s "$T/in.bin" "$T/out.bin" || fail "1 MiB through cat came back changed"
	grep -qi '^X-Cloudfunc-Exit-Code: 0' "$T/out.bin.headers" ||
		fail "raw reply without the exit code header"
	grep -qi '^X-Cloudfunc-Truncated: false' "$T/out.bin.headers" ||
		fail "raw reply without the truncation header"
	grep -qi '^Content-Type: application/octet-stream' "$T/out.bin.headers" ||
		fail "raw reply without its content type"

	code=$(http_get "$base/functions/fail3" "$T/b")
	[ "$code" = 500 ] || fail "fail3: $code"
	expect_error "$T/b" function_failed
	jq -e '.exit_code == 3 and .output == "partial" and .stderr == "oops\n"' \
		"$T/b" > /dev/null || fail "fail3: $(cat "$T/b")"

	start=$(date +%s%N)
	code=$(http_get "$base/functions/sleepy" "$T/b")
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$code" = 504 ] || fail "sleepy: $code $(cat "$T/b")"
	expect_error "$T/b" timeout
	[ "$ms" -lt 2000 ] || fail "a 1 s limit answered after $ms ms"

	code=$(http_get "$base/functions/flood" "$T/b")
	[ "$code" = 200 ] || fail "flood: $code"
	jq -e '.truncated == true and (.output | length) <= 65536 and
		(.output | length) > 60000' "$T/b" > /dev/null ||
		fail "flood was not cut at its cap: $(head -c 300 "$T/b")"

	code=$(http_get "$base/functions/hog" "$T/b")
	[ "$code" = 500 ] || fail "hog: $code $(head -c 300 "$T/b")"
	expect_error "$T/b" out_of_memory

	code=$(http_get "$base/functions/inside?q=1" "$T/b")
	[ "$code" = 200 ] || fail "inside: $code $(cat "$T/b")"
	jq -r .output "$T/b" > "$T/inside"
	[ "$(sed -n 1p "$T/inside")" = 65534 ] || fail "uid: $(cat "$T/inside")"
	[ "$(sed -n 2p "$T/inside")" = read-only ] || fail "root fs is writable"
	[ "$(sed -n 3p "$T/inside")" = lo ] || fail "interfaces: $(cat "$T/inside")"
	[ "$(sed -n 4p "$T/inside")" = $((48 * 1024 * 1024)) ] ||
		fail "memory limit: $(sed -n 4p "$T/inside")"
	sed -n 5p "$T/inside" | grep -Eq '^inside GET q=1 C [0-9a-f]+$' ||
		fail "environment: $(sed -n 5p "$T/inside")"
	[ "$(sed -n 6p "$T/inside")" = tmp ] || fail "/tmp is not writable"

	code=$(http_get "$base/functions/badutf" "$T/b")
	[ "$code" = 200 ] || fail "badutf: $code"
	jq -e '.output == "ok\ufffd\ufffdend"' "$T/b" > /dev/null ||
		fail "invalid UTF-8: $(cat "$T/b")"

	code=$(http_get "$base/functions/small" "$T/b" --data-binary '12345678901')
	[ "$code" = 413 ] || fail "small: $code"
	expect_error "$T/b" body_too_large

	code=$(http_get "$base/functions" "$T/b")
	[ "$code" = 200 ] || fail "list: $code"
	jq -e '(.functions | index("upper")) and (.functions |
		index("spawnTestContainer")) and (tostring | test("busybox") | not)' \
		"$T/b" > /dev/null || fail "list: $(cat "$T/b")"

	code=$(http_get "$base/functions/nosuch" "$T/b")
	[ "$code" = 404 ] || fail "unknown function: $code"
	expect_error "$T/b" not_found

	code=$(http_get "$base/functions/upper" "$T/b" -X PUT --data x)
	[ "$code" = 405 ] || fail "PUT: $code"
	grep -qi '^Allow: GET, HEAD, POST' "$T/b.headers" || fail "405 without Allow"
	expect_no_containers
}

port=$(free_port)
nginx_start cf "$port"
check_functions "http://127.0.0.1:$port"
port=$(free_port)
lighttpd_start cf "$port" cloudfunc.conf
check_functions "http://127.0.0.1:$port"
# The body over its limit never reached the engine.
! grep 'function=small container=[0-9a-f]' "$T/cf.log" ||
	fail "a container was made for a body over its limit"

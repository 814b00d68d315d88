# What reaches the responder directly, with no web server in between: a
# body that stalls past the time limit gets 408, a declared length over the
# limit gets 413 at once, and neither leaves a container.  Bad
# configurations stop start-up with the file, the key and the reason.
cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$SOCK",
	"functions": {
		"cat": { "image": "busybox:latest", "cmd": ["cat"],
			"timeout_ms": 1000, "max_body_bytes": 100 }
	}
}
JSON
responder_start cf -c "$T/cf.json"
client="python3 $SRC/tests/integration/fcgi_client.py $T/cf.sock"

out=$($client POST /functions/cat --body 'sent whole') || fail "no answer"
grep -q 'Status: 200' <<< "$out" && grep -q '"output":"sent whole"' <<< "$out" ||
	fail "a whole body: $out"

start=$(date +%s%N)
out=$($client POST /functions/cat --body 'half of this body' --stall 4) ||
	fail "no answer to a stalled body: $out"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q 'Status: 408' <<< "$out" && grep -q '"code":"request_timeout"' <<< "$out" ||
	fail "a stalled body: $out"
[ "$ms" -lt 3500 ] || fail "a stalled body was answered after $ms ms"

out=$($client POST /functions/cat --content-length 5000000 --stall 2) ||
	fail "no answer to an oversized length"
grep -q 'Status: 413' <<< "$out" || fail "an oversized length: $out"
! grep -E 'function=cat container=[0-9a-f].*status=(408|413)' "$T/cf.log" ||
	fail "a container was made for a body that never came whole"

# Each bad configuration is refused, naming the key.
bad_conf() {
	local want=$1
	cat > "$T/bad.json"
	if "$BIN" -n -c "$T/bad.json" > "$T/bad.out" 2>&1; then
		fail "accepted: $(cat "$T/bad.json")"
	fi
	grep -qF "$T/bad.json" "$T/bad.out" && grep -qF "$want" "$T/bad.out" ||
		fail "the message lacks \"$want\": $(cat "$T/bad.out")"
}
bad_conf 'functions.f.memroy' <<< '{"functions": {"f": {"image": "x", "memroy": 1}}}'
bad_conf 'functions.f.timeout_ms' <<< '{"functions": {"f": {"image": "x", "timeout_ms": "5"}}}'
bad_conf 'functions.f.memory_mb' <<< '{"functions": {"f": {"image": "x", "memory_mb": 1}}}'
bad_conf 'functions.f.cpus' <<< '{"functions": {"f": {"image": "x", "cpus": 0}}}'
bad_conf 'functions.a b' <<< '{"functions": {"a b": {"image": "x"}}}'
bad_conf 'functions.f.response' <<< '{"functions": {"f": {"image": "x", "response": "xml"}}}'
bad_conf 'functions.f.env' <<< '{"functions": {"f": {"image": "x", "env": {"A": 1}}}}'
bad_conf 'ends inside' <<< '{"functions": '
"$BIN" -c "$T/bad.json" -s "$T/never.sock" > "$T/bad.out" 2>&1 &&
	fail "a bad configuration did not stop start-up"
[ ! -e "$T/never.sock" ] || fail "a socket was opened with a bad configuration"
expect_no_containers

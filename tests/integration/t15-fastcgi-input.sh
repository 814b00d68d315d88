# Raw FastCGI clients: cgi-fcgi from libfcgi-bin, and records no web server
# would send.  Each gets an answer or a closed connection, and the
# responder keeps answering valid requests all along.
write_conf "$T/cf.json"
responder_start cf -c "$T/cf.json" -t 2
client="python3 $SRC/tests/integration/fcgi_client.py $T/cf.sock"

valid() {
	local out
	out=$(REQUEST_METHOD=GET REQUEST_URI=/spawnTestContainer \
		SCRIPT_NAME=/spawnTestContainer timeout 30 \
		cgi-fcgi -bind -connect "$T/cf.sock") || fail "cgi-fcgi failed after $1"
	grep -q '"output":"Hello from CloudFunc"' <<< "$out" ||
		fail "no valid answer after $1: $out"
}

valid "nothing"
for kind in garbage version truncated novalue huge-params half-body unknown-type; do
	out=$(timeout 30 $client GET /spawnTestContainer --malformed "$kind" --timeout 10) ||
		fail "$kind: the client failed"
	say "$kind: $out"
	kill -0 "$(cat "$T/cf.pid")" || fail "the responder died on $kind"
	valid "$kind"
done
awk 'length($0) > 1000 { exit 1 }' "$T/cf.log" || fail "a log line holds the whole 600 KiB path"
expect_no_containers

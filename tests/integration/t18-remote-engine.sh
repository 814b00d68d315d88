# A second private engine on 127.0.0.1 with TLS client authentication:
# a responder reaches it with client certificates and refuses one signed
# by another CA; plain TCP needs allow_plain_tcp.  Then both engines, each
# with its responder, behind one nginx with conf/nginx/cloudfunc-cluster.conf:
# requests spread over both, and with one engine stopped mid-burst every
# request that had not started there is retried and answered by the other.
make_certs "$T/pki" good
make_certs "$T/pki-other" other
tport=$(free_port)
tls_engine_start tls "$tport" "$T/pki"
tls_import() {
	DOCKER_CONFIG="$T/docker-cli" sh "$SRC/conf/busybox-image.sh" --tlsverify \
		--tlscacert "$T/pki/ca.pem" --tlscert "$T/pki/cert.pem" \
		--tlskey "$T/pki/key.pem" -H "tcp://127.0.0.1:$tport"
}
tls_import || fail "cannot import busybox into the TLS engine"

cat > "$T/tls.json" <<JSON
{
	"engine": "tcp://127.0.0.1:$tport",
	"tls_ca": "$T/pki/ca.pem", "tls_cert": "$T/pki/cert.pem",
	"tls_key": "$T/pki/key.pem",
	"functions": { "upper": { "image": "busybox:latest", "cmd": ["tr", "a-z", "A-Z"] } }
}
JSON
responder_start tlscf -c "$T/tls.json"
client="python3 $SRC/tests/integration/fcgi_client.py"
out=$($client "$T/tlscf.sock" GET /spawnTestContainer) || fail "no answer"
grep -q '"output":"Hello from CloudFunc"' <<< "$out" || fail "seed over TLS: $out"
out=$($client "$T/tlscf.sock" POST /functions/upper --body 'over tls') || fail "no answer"
grep -q '"output":"OVER TLS"' <<< "$out" || fail "stdin over TLS: $out"

# The engine's certificate does not chain to this CA: refused.
sed "s#$T/pki/ca.pem#$T/pki-other/ca.pem#" "$T/tls.json" > "$T/wrong-ca.json"
responder_start wrongca -c "$T/wrong-ca.json"
out=$($client "$T/wrongca.sock" GET /spawnTestContainer) || fail "no answer"
grep -q 'Status: 503' <<< "$out" && grep -q '"code":"engine_unavailable"' <<< "$out" ||
	fail "a wrong CA: $out"
grep -qi 'certificate' <<< "$out" || fail "the error does not say why: $out"
# A client certificate of another CA: the engine refuses us.
sed -e "s#$T/pki/cert.pem#$T/pki-other/cert.pem#" \
	-e "s#$T/pki/key.pem#$T/pki-other/key.pem#" "$T/tls.json" > "$T/wrong-cert.json"
responder_start wrongcert -c "$T/wrong-cert.json"
out=$($client "$T/wrongcert.sock" GET /spawnTestContainer) || fail "no answer"
grep -q 'Status: 503' <<< "$out" || fail "a client certificate of another CA: $out"
responder_stop wrongca
responder_stop wrongcert

# Plain TCP only when asked for, and then with a warning.
printf '{"engine": "tcp://127.0.0.1:%s"}\n' "$tport" > "$T/plain.json"
! "$BIN" -n -c "$T/plain.json" > "$T/plain.out" 2>&1 || fail "plain TCP was accepted"
grep -q 'allow_plain_tcp' "$T/plain.out" || fail "no reason given: $(cat "$T/plain.out")"
printf '{"engine": "tcp://127.0.0.1:%s", "allow_plain_tcp": true}\n' "$tport" > "$T/plain.json"
"$BIN" -n -c "$T/plain.json" > /dev/null || fail "allow_plain_tcp was refused"

# Two engines behind one nginx.
write_conf "$T/local.json"
responder_start localcf -c "$T/local.json" -t 4
responder_stop tlscf
responder_start tlscf -c "$T/tls.json" -t 4
port=$(free_port)
nginx_start cluster "$port" cloudfunc-cluster.conf \
	-e "s#unix:/run/cloudfunc/engine-a.sock#unix:$T/localcf.sock#" \
	-e "s#unix:/run/cloudfunc/engine-b.sock#unix:$T/tlscf.sock#"

mkdir -p "$T/cluster-out"
seq 1 16 | xargs -P 4 -I{} curl -sS --max-time 60 -o "$T/cluster-out/{}" \
	-w '%{http_code}\n' "http://127.0.0.1:$port/spawnTestContainer" > "$T/codes"
[ "$(grep -c '^200$' "$T/codes")" = 16 ] || fail "spread: $(sort "$T/codes" | uniq -c)"
for i in $(seq 1 100); do
	[ $(( $(grep -c 'status=200' "$T/localcf.log") +
		$(grep -c 'status=200' "$T/tlscf.log") )) -ge 16 ] && break
	sleep 0.05
done
a=$(grep -c 'status=200' "$T/localcf.log")
b=$(grep -c 'status=200' "$T/tlscf.log")
say "spread: $a on the local engine, $b on the TLS engine"
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] || fail "requests did not spread: $a and $b"

# Stop the TLS engine in the middle of a burst.
mkdir -p "$T/stop-out"
seq 1 24 | xargs -P 4 -I{} curl -sS --max-time 60 -o "$T/stop-out/{}" \
	-w '%{http_code}\n' "http://127.0.0.1:$port/spawnTestContainer" > "$T/codes" &
burst=$!
sleep 1
responder_stop tls
wait $burst
say "with one engine stopped: $(sort "$T/codes" | uniq -c | tr '\n' ' ')"
[ "$(wc -l < "$T/codes")" = 24 ] || fail "answers lost"
for f in "$T"/stop-out/*; do
	jq -e '.success == true or (.code | IN("engine_lost", "engine_error"))' \
		"$f" > /dev/null || fail "neither 200 nor a run that had started: $(cat "$f")"
done
grep -q 'upstream_status=503, ' "$T/nginx-cluster/cloudfunc.access.log" ||
	say "no request needed a retry this time"

seq 1 8 | xargs -P 4 -I{} curl -sS --max-time 60 -o /dev/null \
	-w '%{http_code}\n' "http://127.0.0.1:$port/spawnTestContainer" > "$T/codes"
[ "$(grep -c '^200$' "$T/codes")" = 8 ] ||
	fail "after the stop: $(sort "$T/codes" | uniq -c | tr '\n' ' ')"
expect_no_containers

# The TLS engine, back, holds nothing either once the sweep has run.
tls_engine_start tls "$tport" "$T/pki"
responder_stop tlscf
responder_start tlscf -c "$T/tls.json"
for i in $(seq 1 50); do
	[ "$(tls_api "$tport" "$T/pki" GET '/containers/json?all=1' | jq length)" = 0 ] && break
	sleep 0.2
done
n=$(tls_api "$tport" "$T/pki" GET '/containers/json?all=1' | jq length)
[ "$n" = 0 ] || fail "$n containers left on the TLS engine"
# Responders first, so that their last sweep still reaches the engine.
responder_stop tlscf
responder_stop localcf

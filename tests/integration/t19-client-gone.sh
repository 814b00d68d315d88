# A client that goes away in the middle of a run: the run is stopped, its
# container removed at once, and the responder logs why.
cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$SOCK",
	"functions": { "long": { "image": "busybox:latest", "cmd": ["sleep", "30"] } }
}
JSON
responder_start cf -c "$T/cf.json"
start=$(date +%s%N)
python3 "$SRC/tests/integration/fcgi_client.py" "$T/cf.sock" GET /functions/long \
	--timeout 1.5 > "$T/gone.out" 2>&1
grep -q 'no answer' "$T/gone.out" || fail "the client got an answer: $(cat "$T/gone.out")"
wait_log "$T/cf.log" 'function=long .*code=client_gone' ||
	fail "the run was not stopped for the client: $(tail -n 3 "$T/cf.log")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 6000 ] || fail "the run went on for $ms ms after the client left"
expect_no_containers

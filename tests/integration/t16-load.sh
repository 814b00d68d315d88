# 500 requests at concurrency 16 against a limit of 4 containers at once:
# every answer is 200 or 503 busy, none is lost, the responder's memory
# stays flat, and no container is left.
cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$SOCK",
	"max_running": 4,
	"queue_ms": 300,
	"functions": { "hi": { "image": "busybox:latest", "cmd": ["echo", "hi"] } }
}
JSON
responder_start cf -c "$T/cf.json" -t 16
pid=$(cat "$T/cf.pid")
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }

mkdir -p "$T/load"
# burst FIRST LAST: requests numbered FIRST to LAST, 16 at a time; each
# answer's status and code go to a file of its own.
burst() {
	seq "$1" "$2" | xargs -P 16 -I{} sh -c 'REQUEST_METHOD=GET \
		REQUEST_URI=/functions/hi timeout 60 cgi-fcgi -bind \
		-connect "$0" > "$1/{}.raw" 2>&1; status=$(sed -n \
		"s/^Status: \([0-9]*\).*/\1/p" "$1/{}.raw"); code=$(sed -n \
		"s/.*\"code\":\"\([a-z_]*\)\".*/\1/p" "$1/{}.raw"); \
		echo "$status $code" > "$1/{}"' "$T/cf.sock" "$T/load"
}

burst 1 100
warm=$(rss)
burst 101 500
cat "$T"/load/*[0-9] > "$T/answers"
end=$(rss)
say "RSS after 100: ${warm} KiB, after 500: ${end} KiB"
say "answers: $(sort "$T/answers" | uniq -c | tr '\n' ' ')"

[ "$(wc -l < "$T/answers")" = 500 ] || fail "$(wc -l < "$T/answers") answers for 500"
for f in "$T"/load/*[0-9]; do
	grep -qE '^(200 |503 busy)$' "$f" || say "odd answer: $(head -c 300 "$f.raw")"
done
bad=$(grep -cvE '^(200 |503 busy)$' "$T/answers")
[ "$bad" = 0 ] || fail "$bad answers neither 200 nor 503 busy: $(grep -vE '^(200 |503 busy)$' "$T/answers" | head -3)"
grep -q '^200 $' "$T/answers" || fail "nothing succeeded"
# ASan keeps freed memory in quarantine, so RSS says nothing there.
if [ -n "${CLOUDFUNC_SANITIZED:-}" ]; then
	say "RSS is not checked under AddressSanitizer"
else
	[ "$end" -lt $((warm + 4096)) ] || fail "RSS grew from $warm to $end KiB"
fi
expect_no_containers

# Images from a registry on 127.0.0.1 that asks for credentials: eight
# concurrent first requests wait on one pull; a pull that fails and an
# image with "pull": "never" get their own errors.
port=$(free_port)
registry_start "$port"
reg="127.0.0.1:$port"
engine_cli login -u cf --password-stdin "$reg" <<< cf-secret > /dev/null ||
	fail "cannot log in to the test registry"
engine_cli tag busybox:latest "$reg/cloudfunc/pulltest:1"
engine_cli push "$reg/cloudfunc/pulltest:1" > /dev/null || fail "push failed"
engine_cli rmi "$reg/cloudfunc/pulltest:1" > /dev/null
engine_api GET "/images/$reg/cloudfunc/pulltest:1/json" -o /dev/null -w '%{http_code}' |
	grep -q 404 || fail "the pushed image is still on the engine"

cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$SOCK",
	"registry_auth_file": "$T/docker-cli/config.json",
	"functions": {
		"pulled": { "image": "$reg/cloudfunc/pulltest:1",
			"cmd": ["echo", "pulled"] },
		"absent": { "image": "$reg/cloudfunc/absent:1", "cmd": ["true"] },
		"never": { "image": "$reg/cloudfunc/never:1", "cmd": ["true"],
			"pull": "never" }
	}
}
JSON
grep -q '"auth"' "$T/docker-cli/config.json" ||
	fail "docker login kept no credentials in its config file"
responder_start cf -c "$T/cf.json" -t 8
nginx_port=$(free_port)
nginx_start cf "$nginx_port"

since=$(date +%s)
mkdir -p "$T/pull-out"
seq 1 8 | xargs -P 8 -I{} curl -sS --max-time 90 -o "$T/pull-out/{}" \
	-w '%{http_code}\n' "http://127.0.0.1:$nginx_port/functions/pulled" > "$T/codes"
[ "$(grep -c '^200$' "$T/codes")" = 8 ] ||
	fail "8 first requests: $(sort "$T/codes" | uniq -c | tr '\n' ' ') $(cat "$T/pull-out/1")"
for f in "$T"/pull-out/*; do
	jq -e '.output == "pulled"' "$f" > /dev/null || fail "$(cat "$f")"
done
pulls=$(grep -c "event=pull image=$reg/cloudfunc/pulltest:1\$" "$T/cf.log")
[ "$pulls" = 1 ] || fail "$pulls pulls for 8 concurrent requests"
events=$(engine_api GET "/events?since=$since&until=$(($(date +%s) + 1))&filters=%7B%22event%22%3A%5B%22pull%22%5D%7D" |
	grep -c pulltest)
[ "$events" = 1 ] || fail "the engine saw $events pulls"

code=$(http_get "http://127.0.0.1:$nginx_port/functions/absent" "$T/b")
[ "$code" = 502 ] || fail "absent: $code $(cat "$T/b")"
expect_error "$T/b" image_pull_failed
say "absent: $(jq -r .error "$T/b")"

start=$(date +%s%N)
code=$(http_get "http://127.0.0.1:$nginx_port/functions/never" "$T/b")
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$code" = 502 ] || fail "never: $code $(cat "$T/b")"
expect_error "$T/b" image_not_found
[ "$ms" -lt 1000 ] || fail "\"pull\": \"never\" took $ms ms to refuse"
! grep -q "event=pull image=$reg/cloudfunc/never" "$T/cf.log" ||
	fail "a \"never\" image was pulled"
expect_no_containers

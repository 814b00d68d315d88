# What operators use: /healthz (200, then 503 with the engine stopped),
# /metrics checked by promtool and scraped by a real Prometheus server,
# the request id on the container's labels, the systemd units, the
# configuration check, and what make install puts where.
cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$SOCK",
	"functions": {
		"nap": { "image": "busybox:latest", "cmd": ["sleep", "2"] }
	}
}
JSON
responder_start cf -c "$T/cf.json"
port=$(free_port)
nginx_start cf "$port"
base="http://127.0.0.1:$port"

code=$(http_get "$base/healthz" "$T/b")
[ "$code" = 200 ] || fail "healthz: $code $(cat "$T/b")"
jq -e '.success == true and .engine.api_version == "1.41" and
	(.pool | type == "object")' "$T/b" > /dev/null || fail "healthz: $(cat "$T/b")"

# The request id nginx passes is echoed and labels the container.
http_get "$base/functions/nap" "$T/nap" > "$T/nap.code" &
nap=$!
for i in $(seq 1 50); do
	[ "$(engine_api GET '/containers/json' | jq length)" = 1 ] && break
	sleep 0.1
done
label=$(engine_api GET '/containers/json' | jq -r '.[0].Labels["cloudfunc.request"]')
wait $nap
id=$(sed -n 's/^X-Request-Id: *\([0-9a-f]*\).*/\1/ip' "$T/nap.headers")
[ -n "$id" ] && [ "$label" = "$id" ] ||
	fail "container label \"$label\", X-Request-Id \"$id\""
grep -q "id=$id" "$T/nginx-cf/cloudfunc.access.log" || fail "not nginx's id"

# The run is counted once its container is gone, just after the answer.
wait_log "$T/cf.log" 'function=nap .*status=200' || fail "the run was not logged"
code=$(http_get "$base/metrics" "$T/metrics")
[ "$code" = 200 ] || fail "metrics: $code"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/metrics.headers" ||
	fail "metrics content type"
promtool check metrics < "$T/metrics" > "$T/promtool.out" 2>&1 ||
	fail "promtool: $(cat "$T/promtool.out")"
grep -q '^cloudfunc_requests_total{function="nap",status="200"} 1$' "$T/metrics" ||
	fail "the run is not counted: $(grep requests_total "$T/metrics" | grep -v ' 0$')"
grep -q '^cloudfunc_phase_duration_seconds_count{phase="start"} 1$' "$T/metrics" ||
	fail "the phases are not timed"

# A real Prometheus server scrapes it once.
prom_port=$(free_port)
mkdir -p "$T/prom"
cat > "$T/prom/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: cloudfunc
    static_configs:
      - targets: ["127.0.0.1:$port"]
YAML
prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
	--web.listen-address="127.0.0.1:$prom_port" > "$T/prom/log" 2>&1 &
prom=$!
scraped=""
for i in $(seq 1 60); do
	scraped=$(curl -s --max-time 2 "http://127.0.0.1:$prom_port/api/v1/query?query=cloudfunc_requests_total%7Bfunction%3D%22nap%22%2Cstatus%3D%22200%22%7D" |
		jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
	[ -n "$scraped" ] && break
	sleep 0.5
done
kill "$prom" 2>/dev/null
wait "$prom" 2>/dev/null
[ "$scraped" = 1 ] || fail "Prometheus did not scrape the count: \"$scraped\" $(tail -n 5 "$T/prom/log")"

engine_stop
code=$(http_get "$base/healthz" "$T/b")
[ "$code" = 503 ] || fail "healthz with the engine stopped: $code"
expect_error "$T/b" engine_unavailable
engine_start || fail "the engine did not come back"

# The configuration check.
"$BIN" -n -c "$T/cf.json" | grep -q 'configuration ok' || fail "-n on a good file"

# make install, and the systemd units against what it installed.
dest="$T/install"
make -s -C "$BUILD" install DESTDIR="$dest" prefix=/usr/local > "$T/install.log" 2>&1 ||
	fail "make install: $(tail -n 5 "$T/install.log")"
for f in sbin/cloudfunc-fcgi etc/cloudfunc/cloudfunc.json \
	etc/cloudfunc/nginx/cloudfunc.conf etc/cloudfunc/systemd/cloudfunc.service \
	share/man/man8/cloudfunc-fcgi.8 share/man/man5/cloudfunc.json.5 \
	share/doc/cloudfunc/README.md; do
	[ -e "$dest/usr/local/$f" ] || fail "make install put no $f"
done
"$dest/usr/local/sbin/cloudfunc-fcgi" -n -c "$dest/usr/local/etc/cloudfunc/cloudfunc.json" \
	> /dev/null || fail "the installed configuration does not pass -n"
if command -v systemd-analyze > /dev/null; then
	mkdir -p "$T/units"
	sed "s#/usr/local/#$dest/usr/local/#g" "$SRC/conf/systemd/cloudfunc.service" \
		> "$T/units/cloudfunc.service"
	cp "$SRC/conf/systemd/cloudfunc.socket" "$T/units/"
	MANPATH="$dest/usr/local/share/man" systemd-analyze verify \
		"$T/units/cloudfunc.socket" "$T/units/cloudfunc.service" > "$T/verify" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$T/verify")"
	[ ! -s "$T/verify" ] || fail "systemd-analyze warns: $(cat "$T/verify")"
else
	say "systemd-analyze is not installed: units not verified"
fi
expect_no_containers

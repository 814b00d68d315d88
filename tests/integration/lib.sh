# Helpers for the integration scenarios: a private Docker engine, the
# responder under spawn-fcgi, nginx and lighttpd, all in one scratch folder.
# Sourced by run.sh; every scenario runs in a subshell with these set:
#   T        the scratch folder      SOCK    the private engine's socket
#   BIN      the responder binary    SRC     the source tree

DOCKER_CLI=/usr/bin/docker
[ -x "$DOCKER_CLI" ] || DOCKER_CLI=docker

say() { printf '# %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

# Calls the private engine's API: engine_api METHOD PATH [curl args...]
engine_api() {
	local method=$1 path=$2
	shift 2
	curl -sS --max-time 20 --unix-socket "$SOCK" -X "$method" \
		"http://engine/v1.41$path" "$@"
}

# Starts a private dockerd with its state under DIR, its pid in PIDFILE:
# dockerd_launch DIR PIDFILE HOST_ARGS...
dockerd_launch() {
	local dir=$1 pidfile=$2
	shift 2
	mkdir -p "$dir"
	printf '{}\n' > "$dir/daemon.json"
	# Tests reach no registry but one on 127.0.0.1: a dead proxy makes
	# any other pull fail here, without a packet leaving the machine.
	HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
		NO_PROXY=127.0.0.1,localhost \
		dockerd "$@" --data-root "$dir/data" --exec-root "$dir/exec" \
		--pidfile "$dir/docker.pid" --config-file "$dir/daemon.json" \
		--bridge=none --iptables=false --ip6tables=false \
		>> "$dir/engine.log" 2>&1 &
	echo $! > "$pidfile"
}

engine_start() {
	local i
	dockerd_launch "$T/engine" "$T/engine.pid" --host "unix://$SOCK"
	for i in $(seq 1 150); do
		curl -s --max-time 1 --unix-socket "$SOCK" http://engine/_ping \
			2>/dev/null | grep -q OK && return 0
		sleep 0.2
	done
	say "the private engine did not start; its log:"
	tail -n 20 "$T/engine/engine.log" >&2
	return 1
}

# Stops the process whose pid PIDFILE holds: SIGNAL first, SIGKILL after
# SECONDS, then forgets it: stop_pidfile PIDFILE SIGNAL SECONDS
stop_pidfile() {
	local pid i
	pid=$(cat "$1" 2>/dev/null) || return 0
	kill -"$2" "$pid" 2>/dev/null
	for i in $(seq 1 $(($3 * 20))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$1"
	return 0
}

engine_stop() {
	stop_pidfile "$T/engine.pid" TERM 15
}

# busybox:latest from Debian's busybox-static, as the quick start makes it.
engine_import_busybox() {
	DOCKER_CONFIG="$T/docker-cli" sh "$SRC/conf/busybox-image.sh" \
		-H "unix://$SOCK"
}

# How many containers the engine has, running or not.
engine_count_containers() {
	engine_api GET '/containers/json?all=1' | jq length
}

# With CLOUDFUNC_PREWARM=N, every function a scenario configures keeps N
# pre-started containers: the scenario's answers must not change.  Rewrites
# the file after -c in the responder's arguments.
prewarm_conf() {
	local conf=
	while [ $# -gt 0 ]; do
		[ "$1" = -c ] && conf=$2
		shift
	done
	[ -n "$conf" ] || return 0
	jq --argjson n "$CLOUDFUNC_PREWARM" \
		'.functions = ((.functions // {spawnTestContainer: {}}) | map_values(. + {prewarm: $n}))' \
		"$conf" > "$conf.prewarm" && mv "$conf.prewarm" "$conf" ||
		fail "cannot add prewarm to $conf"
}

# Pre-started containers waiting in a pool, running.
engine_count_waiting() {
	engine_api GET '/containers/json' |
		jq '[.[] | select(.Labels["cloudfunc.request"] == "prewarm")] | length'
}

# Containers that are not waiting in a pool, running or not.
engine_count_runs() {
	engine_api GET '/containers/json?all=1' |
		jq '[.[] | select(.Labels["cloudfunc.request"] != "prewarm")] | length'
}

# Fails unless the engine holds no container at all but, with
# CLOUDFUNC_PREWARM, those waiting in a pool.  A run's container is
# removed just after its answer, so this waits up to 5 s for that.
expect_no_containers() {
	local n i count=engine_count_containers
	[ -n "${CLOUDFUNC_PREWARM:-}" ] && count=engine_count_runs
	for i in $(seq 1 100); do
		n=$($count) || fail "cannot list containers"
		[ "$n" = 0 ] && return 0
		sleep 0.05
	done
	engine_api GET '/containers/json?all=1' | jq -c \
		'.[] | {Id: .Id[0:12], State, Labels}' >&2
	fail "$n container(s) left on the engine"
}

free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 30000))
		ss -Hltn "sport = :$port" | grep -q . || { echo "$port"; return; }
	done
}

# A configuration for the responder: write_conf FILE [seed image]
write_conf() {
	local image=${2:-busybox:latest}
	cat > "$1" <<JSON
{
	"engine": "unix://$SOCK",
	"engine_timeout_ms": 5000,
	"functions": { "spawnTestContainer": { "image": "$image" } }
}
JSON
}

# Starts the responder under spawn-fcgi on a Unix socket:
# responder_start NAME [responder args...]; its pid goes in $T/NAME.pid
responder_start() {
	local name=$1
	shift
	[ -n "${CLOUDFUNC_PREWARM:-}" ] && prewarm_conf "$@"
	rm -f "$T/$name.sock"
	spawn-fcgi -n -s "$T/$name.sock" -M 0666 -- \
		${RESPONDER_WRAPPER:-} "$BIN" "$@" 2>> "$T/$name.log" &
	echo $! > "$T/$name.pid"
	wait_socket "$T/$name.sock" || fail "responder $name did not open its socket"
	[ -n "${CLOUDFUNC_PREWARM:-}" ] && wait_prewarm "$@"
	return 0
}

# Waits, up to 30 s, for the pools of the configuration after -c to fill.
wait_prewarm() {
	local conf= want i
	while [ $# -gt 0 ]; do
		[ "$1" = -c ] && conf=$2
		shift
	done
	[ -n "$conf" ] || return 0
	want=$(jq '[.functions[].prewarm // 0] | add' "$conf")
	for i in $(seq 1 300); do
		[ "$(engine_count_waiting)" -ge "$want" ] && return 0
		sleep 0.1
	done
	fail "the pools did not fill: $want containers wanted"
}

responder_stop() {
	# Under valgrind the leak check at exit takes a while.
	stop_pidfile "$T/$1.pid" TERM 20
}

# Starts nginx with a shipped file of conf/nginx (cloudfunc.conf unless
# named), pointed at the responder socket $T/NAME.sock, with more sed
# expressions applied to it if given: nginx_start NAME PORT [FILE [-e EXPR]...]
nginx_start() {
	local name=$1 port=$2 file=${3:-cloudfunc.conf} dir="$T/nginx-$1"
	shift 3 2>/dev/null || shift $#
	mkdir -p "$dir/tmp"
	cp /etc/nginx/fastcgi_params "$dir/"
	sed -e "s#unix:/run/cloudfunc/cloudfunc.sock#unix:$T/$name.sock#" \
		-e "s#listen 3000;#listen 127.0.0.1:$port;#" \
		-e "s#/var/log/nginx/#$dir/#" "$@" \
		"$SRC/conf/nginx/$file" > "$dir/cloudfunc.conf"
	cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 256; }
http {
	client_body_temp_path $dir/tmp/body;
	fastcgi_temp_path $dir/tmp/fastcgi;
	proxy_temp_path $dir/tmp/proxy;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	include $dir/cloudfunc.conf;
}
CONF
	nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' \
		2>> "$dir/error.log" &
	echo $! > "$dir/pid"
	wait_port "$port" || { cat "$dir/error.log" >&2; fail "nginx did not start"; }
}

nginx_stop() {
	stop_pidfile "$T/nginx-$1/pid" QUIT 5
}

# Starts lighttpd with one of the shipped conf/lighttpd files:
# lighttpd_start NAME PORT CONF_FILE [responder conf]
lighttpd_start() {
	local dir="$T/lighttpd-$1"
	mkdir -p "$dir/www"
	sed -e "s#/run/cloudfunc/cloudfunc.sock#$T/$1.sock#" \
		-e "s#/run/cloudfunc/lighttpd.sock#$dir/spawned.sock#" \
		-e "s#/usr/local/sbin/cloudfunc-fcgi -c /usr/local/etc/cloudfunc/cloudfunc.json#$BIN -c ${4:-/dev/null}#" \
		"$SRC/conf/lighttpd/$3" > "$dir/cloudfunc.conf"
	cat > "$dir/lighttpd.conf" <<CONF
server.document-root = "$dir/www"
server.bind = "127.0.0.1"
server.port = $2
server.errorlog = "$dir/error.log"
include "$dir/cloudfunc.conf"
CONF
	lighttpd -D -f "$dir/lighttpd.conf" 2>> "$dir/error.log" &
	echo $! > "$dir/pid"
	wait_port "$2" || { cat "$dir/error.log" >&2; fail "lighttpd did not start"; }
}

lighttpd_stop() {
	stop_pidfile "$T/lighttpd-$1/pid" TERM 5
}

# Waits up to 5 s for a Unix socket to appear: wait_socket PATH
wait_socket() {
	local i
	for i in $(seq 1 100); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

wait_port() {
	local i
	for i in $(seq 1 100); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# GETs a URL: http_get URL OUT [curl args...]; prints the status code,
# with the body in OUT and the headers in OUT.headers.
http_get() {
	local url=$1 out=$2
	shift 2
	curl -sS --max-time 60 -o "$out" -D "$out.headers" -w '%{http_code}' \
		"$@" "$url"
}

# Checks a JSON error body: expect_error FILE CODE
expect_error() {
	jq -e --arg code "$2" '.success == false and .code == $code and
		(.error | type == "string" and length > 0)' "$1" > /dev/null || {
		say "body: $(cat "$1")"
		fail "expected a JSON error with code $2"
	}
}

# Starts Debian's docker-registry on 127.0.0.1:PORT, with basic auth for
# user "cf" (password "cf-secret"): registry_start PORT
registry_start() {
	local dir="$T/registry"
	mkdir -p "$dir/data"
	htpasswd -Bbn cf cf-secret > "$dir/htpasswd"
	cat > "$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$1
auth:
  htpasswd:
    realm: cloudfunc-test
    path: $dir/htpasswd
YAML
	docker-registry serve "$dir/config.yml" >> "$dir/log" 2>&1 &
	echo $! > "$dir/pid"
	wait_port "$1" || { cat "$dir/log" >&2; fail "the registry did not start"; }
}

registry_stop() {
	stop_pidfile "$T/registry/pid" TERM 5
}

# Runs Debian's docker CLI against the private engine.
engine_cli() {
	DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$T/docker-cli" \
		"$DOCKER_CLI" "$@"
}

# Makes a CA, a server certificate for 127.0.0.1 and a client certificate
# in DIR, as dockerd's --tlsverify and the docker CLI expect them:
# make_certs DIR NAME
make_certs() {
	local dir=$1
	mkdir -p "$dir"
	(
		cd "$dir" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
			-subj "/CN=cloudfunc test CA $2" -keyout ca-key.pem -out ca.pem
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
			-keyout server-key.pem -out server.csr
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem \
			-CAcreateserial -days 2 -extfile server.ext -out server-cert.pem
		openssl req -newkey rsa:2048 -nodes -subj "/CN=cloudfunc" \
			-keyout key.pem -out client.csr
		printf 'extendedKeyUsage=clientAuth\n' > client.ext
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem \
			-CAcreateserial -days 2 -extfile client.ext -out cert.pem
	) > "$dir/openssl.log" 2>&1 || fail "openssl: $(tail -n 5 "$dir/openssl.log")"
}

# A second private engine on 127.0.0.1:PORT with TLS client
# authentication, its files under $T/NAME: tls_engine_start NAME PORT CERTS
tls_engine_start() {
	local i
	dockerd_launch "$T/$1" "$T/$1.pid" --host "tcp://127.0.0.1:$2" \
		--tlsverify --tlscacert "$3/ca.pem" --tlscert "$3/server-cert.pem" \
		--tlskey "$3/server-key.pem"
	for i in $(seq 1 150); do
		curl -s --max-time 1 --cacert "$3/ca.pem" --cert "$3/cert.pem" \
			--key "$3/key.pem" "https://127.0.0.1:$2/_ping" 2>/dev/null |
			grep -q OK && return 0
		sleep 0.2
	done
	tail -n 20 "$T/$1/engine.log" >&2
	fail "the TLS engine $1 did not start"
}

# The engine API of a TLS engine: tls_api PORT CERTS METHOD PATH
tls_api() {
	curl -sS --max-time 20 --cacert "$2/ca.pem" --cert "$2/cert.pem" \
		--key "$2/key.pem" -X "$3" "https://127.0.0.1:$1/v1.41$4"
}

# A request's log line comes after its container is removed, which is
# after the client has its answer: wait_log FILE REGEX [COUNT] waits up to
# 5 s for COUNT lines (default 1) to match.
wait_log() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -c -E -- "$2" "$1" 2>/dev/null)" -ge "${3:-1}" ] && return 0
		sleep 0.05
	done
	return 1
}

# The log options: -v adds the phases to the request line, -q keeps the
# failures alone, and --syslog sends the lines to syslog, none to stderr.
cat > "$T/cf.json" <<JSON
{
	"engine": "unix://$SOCK",
	"functions": {
		"spawnTestContainer": { "image": "busybox:latest" },
		"three": { "image": "busybox:latest", "cmd": ["sh", "-c", "exit 3"] }
	}
}
JSON
client="python3 $SRC/tests/integration/fcgi_client.py"

# Asks NAME's socket for PATH and checks the status: ask NAME PATH STATUS
ask() {
	local out
	out=$($client "$T/$1.sock" GET "$2") || fail "$1: no answer for $2"
	grep -q "^Status: $3" <<< "$out" || fail "$1: $2 gave $(head -n 1 <<< "$out")"
}

responder_start verbose -c "$T/cf.json" -v
ask verbose /spawnTestContainer 200
wait_log "$T/verbose.log" \
	'event=request .* status=200 .* create_ms=[0-9]+ start_ms=[0-9]+ run_ms=[0-9]+ remove_ms=[0-9]+' ||
	fail "-v gave no phases: $(grep event=request "$T/verbose.log")"

# The failure comes second, so that the success's line, if it were
# written, would be there by the time the failure's is.
responder_start quiet -c "$T/cf.json" -q
ask quiet /spawnTestContainer 200
expect_no_containers
ask quiet /functions/three 500
wait_log "$T/quiet.log" 'level=error .*failed: .*status 3' ||
	fail "-q hid the failure: $(cat "$T/quiet.log")"
! grep -q 'level=info' "$T/quiet.log" ||
	fail "-q let info through: $(grep 'level=info' "$T/quiet.log" | head -n 3)"

# A datagram listener stands in for the syslog daemon.  Where the machine
# has /dev/log, the responder sees ours there through a mount namespace of
# its own; where it has none, ours takes the path for the test's length.
if [ -e /dev/log ]; then
	logsock=$T/syslog.sock
	cat > "$T/in-ns" <<SH
#!/bin/sh
exec unshare -m --propagation private sh -c \
	'mount --bind "$logsock" /dev/log && exec "\$@"' sh "\$@"
SH
	chmod +x "$T/in-ns"
	wrapper="$T/in-ns ${RESPONDER_WRAPPER:-}"
else
	logsock=/dev/log
	wrapper=${RESPONDER_WRAPPER:-}
fi
python3 - "$logsock" "$T/syslog.out" <<'PY' &
import os, signal, socket, sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)

def stop(*_):
    os.unlink(path)
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
with open(out, "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
PY
echo $! > "$T/syslog.pid"
wait_socket "$logsock" || fail "the syslog listener did not start"

RESPONDER_WRAPPER=$wrapper responder_start sys -c "$T/cf.json" --syslog
ask sys /spawnTestContainer 200
wait_log "$T/syslog.out" \
	'^<30>.*cloudfunc-fcgi\[[0-9]+\]: level=info event=request .* status=200' ||
	fail "no request line in syslog: $(cat "$T/syslog.out")"
! grep -q 'event=request' "$T/sys.log" ||
	fail "--syslog still wrote to stderr: $(cat "$T/sys.log")"
responder_stop sys
stop_pidfile "$T/syslog.pid" TERM 5
[ ! -e "$logsock" ] || fail "the syslog listener left $logsock"
expect_no_containers

#!/usr/bin/env python3
"""Checks cloudfunc-gate on its own, outside any container: its header,
its frames, the exit record, and what it does with signals.  TAP output.

Usage: test_gate.py [GATE]   (default: $top_builddir/fcgi/cloudfunc-gate)
"""
import os
import signal
import struct
import subprocess
import sys
import time

GATE = sys.argv[1] if len(sys.argv) > 1 else \
    os.path.join(os.environ.get("top_builddir", "."), "fcgi", "cloudfunc-gate")
count = 0
failed = 0


def ok(cond, what, detail=""):
    global count, failed
    count += 1
    if not cond:
        failed += 1
        print("not ok %d - %s" % (count, what))
        if detail:
            print("#   %s" % detail)
    else:
        print("ok %d - %s" % (count, what))


def header(env=()):
    payload = b"".join(e.encode() + b"\0" for e in env)
    return b"cfg1" + struct.pack(">I", len(payload)) + payload


def frames(data):
    """The gate's frames as (type, payload); None if they do not parse."""
    out = []
    while data:
        if len(data) < 8 or data[1:4] != b"\0\0\0":
            return None
        kind, size = data[0], struct.unpack(">I", data[4:8])[0]
        if len(data) < 8 + size:
            return None
        out.append((kind, data[8:8 + size]))
        data = data[8 + size:]
    return out


def run(argv, stdin, env=None, timeout=10):
    p = subprocess.run([GATE] + argv, input=stdin, capture_output=True,
                       timeout=timeout, env=env if env is not None else {"PATH": os.environ["PATH"]})
    return p.returncode, frames(p.stdout), p.stderr


def joined(fr, kind):
    return b"".join(d for k, d in fr if k == kind)


def exit_record(fr):
    if not fr or fr[-1][0] != 3 or len(fr[-1][1]) != 4:
        return None
    return struct.unpack(">I", fr[-1][1])[0]


rc, fr, _ = run(["sh", "-c", 'echo "$GREETING"; cat'],
                header(["GREETING=hello"]) + b"from stdin")
ok(fr is not None and joined(fr, 1) == b"hello\nfrom stdin",
   "the header's variables and the rest of stdin reach the command", fr)
ok(exit_record(fr) == 0 and rc == 0, "a clean exit is recorded as 0")

rc, fr, _ = run(["sh", "-c", "echo out; echo err >&2; exit 3"], header())
ok(joined(fr, 1) == b"out\n" and joined(fr, 2) == b"err\n",
   "stdout and stderr stay apart", fr)
ok(exit_record(fr) == 3 and rc == 3, "the exit status is recorded, and is the gate's own")

rc, fr, _ = run(["no-such-command"], header())
ok(exit_record(fr) == 127 and b"not found" in joined(fr, 2),
   "a command not found is 127, with a message", fr)

forged = b"\x03\0\0\0\0\0\0\x04\0\0\0\0"
rc, fr, _ = run(["sh", "-c", "printf '\\003\\0\\0\\0\\0\\0\\0\\004\\0\\0\\0\\0'; exit 7"], header())
ok(fr is not None and joined(fr, 1) == forged and exit_record(fr) == 7 and
   [k for k, _ in fr].count(3) == 1,
   "output that looks like an exit record is only payload", fr)

rc, fr, _ = run(["sh", "-c", "kill -9 $$"], header())
ok(exit_record(fr) == 137, "a command killed by a signal is 128 plus it", fr)

rc, fr, err = run(["echo", "never"], b"xx")
ok(rc == 125 and fr == [] and b"header" in err,
   "without a header nothing runs", (rc, fr, err))

rc, fr, _ = run(["sh", "-c", "env"], header(["A=1", "A=2", "PATH=" + os.environ["PATH"]]),
                env={"A": "0", "B": "b", "PATH": "/nowhere"})
lines = joined(fr, 1).decode().splitlines()
ok("A=2" in lines and "A=0" not in lines and "A=1" not in lines and "B=b" in lines,
   "the header's variables replace the container's of the same name", lines)

start = time.monotonic()
rc, fr, _ = run(["sh", "-c", "(sleep 5 > /dev/null 2>&1 &) ; (sleep 5 &) ; echo done"], header())
ok(exit_record(fr) == 0 and joined(fr, 1) == b"done\n" and time.monotonic() - start < 3,
   "a process left behind holding the output does not hold up the record",
   time.monotonic() - start)

p = subprocess.Popen([GATE, "sleep", "30"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
p.stdin.write(header())
p.stdin.close()
time.sleep(0.3)
p.send_signal(signal.SIGTERM)
try:
    p.wait(timeout=5)
    out = p.stdout.read()
    ok(exit_record(frames(out)) == 143, "SIGTERM is passed on to the command",
       frames(out))
except subprocess.TimeoutExpired:
    p.kill()
    ok(False, "SIGTERM is passed on to the command", "no exit within 5 s")

big = os.urandom(300000)
rc, fr, _ = run(["cat"], header() + big)
ok(joined(fr, 1) == big and exit_record(fr) == 0, "a large body passes through whole")

print("1..%d" % count)
sys.exit(1 if failed else 0)

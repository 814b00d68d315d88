#!/usr/bin/env python3
"""A raw FastCGI client for tests: sends what a web server would, or less.

Usage: fcgi_client.py SOCKET METHOD URI [--body DATA] [--stall SECONDS]
                      [--content-length N] [--timeout SECONDS]

With --stall, only the first half of the body is sent and the stream stays
open: the client sends nothing more and waits up to that long for an answer.

With --malformed KIND it sends what no web server would and prints what
came back, if anything; it exits 0 either way, since a closed connection
is a fine answer to these:
  garbage      bytes that are no FastCGI record
  version      a record of protocol version 9
  truncated    half a record header, then the connection closes
  novalue      params with names and no values, then a normal request
  huge-params  a 600 KiB REQUEST_URI in many PARAMS records
  half-body    half the declared body, then the connection closes
  unknown-type a record of type 42 in the middle of a request  Prints
the status line of the answer and the body, and exits 0 when an answer came.
"""
import argparse
import socket
import struct
import sys
import time

BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7


def record(rtype, content, request_id=1):
    pad = (8 - len(content) % 8) % 8
    return struct.pack("!BBHHBx", 1, rtype, request_id, len(content), pad) + \
        content + b"\0" * pad


def pair(name, value):
    def length(n):
        return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 1 << 31)
    return length(len(name)) + length(len(value)) + name + value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("method")
    ap.add_argument("uri")
    ap.add_argument("--body", default="")
    ap.add_argument("--stall", type=float, default=0)
    ap.add_argument("--content-length", type=int)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--malformed")
    args = ap.parse_args()
    if args.malformed:
        return malformed(args)

    body = args.body.encode()
    length = args.content_length if args.content_length is not None else len(body)
    params = {
        "REQUEST_METHOD": args.method, "REQUEST_URI": args.uri,
        "SCRIPT_NAME": args.uri.split("?")[0], "CONTENT_LENGTH": str(length),
        "CONTENT_TYPE": "text/plain", "QUERY_STRING": "",
    }
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(args.timeout)
    s.connect(args.socket)
    s.sendall(record(BEGIN_REQUEST, struct.pack("!HB5x", 1, 0)))
    s.sendall(record(PARAMS, b"".join(pair(k.encode(), v.encode())
                                      for k, v in params.items())))
    s.sendall(record(PARAMS, b""))
    if args.stall:
        s.sendall(record(STDIN, body[:len(body) // 2]))
        s.settimeout(args.stall)
    else:
        if body:
            s.sendall(record(STDIN, body))
        s.sendall(record(STDIN, b""))

    out = b""
    started = time.time()
    while True:
        try:
            header = s.recv(8, socket.MSG_WAITALL)
        except socket.timeout:
            print("no answer within %.1f s" % (time.time() - started))
            return 1
        if len(header) < 8:
            break
        _, rtype, _, clen, plen = struct.unpack("!BBHHBx", header)
        content = s.recv(clen + plen, socket.MSG_WAITALL)[:clen] if clen + plen else b""
        if rtype == STDOUT:
            out += content
        elif rtype == END_REQUEST:
            break
    head, _, rest = out.partition(b"\r\n\r\n")
    status = [l for l in head.split(b"\r\n") if l.lower().startswith(b"status:")]
    print((status[0].decode() if status else "Status: none"))
    print(rest.decode(errors="replace"))
    return 0 if out else 1


def begin():
    return record(BEGIN_REQUEST, struct.pack("!HB5x", 1, 0))


def params_record(params):
    return record(PARAMS, b"".join(pair(k, v) for k, v in params))


def malformed(args):
    base = [(b"REQUEST_METHOD", b"GET"), (b"REQUEST_URI", args.uri.encode())]
    kind = args.malformed
    if kind == "garbage":
        data = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 4
    elif kind == "version":
        data = struct.pack("!BBHHBx", 9, BEGIN_REQUEST, 1, 8, 0) + b"\0" * 8
    elif kind == "truncated":
        data = begin()[:4]
    elif kind == "novalue":
        data = begin() + params_record(base + [(b"EMPTY", b""), (b"X", b"")]) + \
            record(PARAMS, b"") + record(STDIN, b"")
    elif kind == "huge-params":
        uri = b"/" + b"a" * (600 * 1024)
        blob = pair(b"REQUEST_URI", uri) + pair(b"REQUEST_METHOD", b"GET")
        data = begin() + b"".join(record(PARAMS, blob[i:i + 65000])
                                  for i in range(0, len(blob), 65000))
        data += record(PARAMS, b"") + record(STDIN, b"")
    elif kind == "half-body":
        data = begin() + params_record(
            [(b"REQUEST_METHOD", b"POST"), (b"REQUEST_URI", args.uri.encode()),
             (b"CONTENT_LENGTH", b"1000")]) + record(PARAMS, b"") + \
            record(STDIN, b"x" * 500)
    elif kind == "unknown-type":
        data = begin() + record(42, b"whatever") + params_record(base) + \
            record(PARAMS, b"") + record(STDIN, b"")
    else:
        print("unknown kind", kind)
        return 2
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(args.timeout)
    s.connect(args.socket)
    try:
        s.sendall(data)
        if kind in ("truncated", "half-body"):
            s.shutdown(socket.SHUT_WR)
        got = s.recv(65536)
        print("answer: %d bytes: %r" % (len(got), got[:120]))
    except (socket.timeout, ConnectionError) as e:
        print("no answer: %s" % e)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A raw FastCGI client for tests: sends what a web server would, or less.

Usage: fcgi_client.py SOCKET METHOD URI [--body DATA] [--stall SECONDS]
                      [--content-length N] [--timeout SECONDS]

With --stall, only the first half of the body is sent and the stream stays
open: the client sends nothing more and waits up to that long for an answer.  Prints
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
    args = ap.parse_args()

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


if __name__ == "__main__":
    sys.exit(main())

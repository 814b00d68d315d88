#!/usr/bin/env python3
"""The baseline: one long-lived process driving the Engine API itself,
create, attach, start, wait, remove, as any careful client would, over
keep-alive connections on the engine's Unix socket.

Usage: raw_api.py SOCKET REQUESTS CONCURRENCY
Prints one latency in milliseconds per line, then "elapsed SECONDS".
"""
import http.client
import json
import socket
import sys
import threading
import time

CREATE = json.dumps({
    "Image": "busybox:latest", "Cmd": ["echo", "Hello from CloudFunc"],
    "Tty": False, "AttachStdout": True, "AttachStderr": True,
    "HostConfig": {"NetworkMode": "none"},
    "Labels": {"cloudfunc.bench": "raw"},
})


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("docker", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


def call(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, "/v1.41" + path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def attach(path, cid):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    s.sendall(("POST /v1.41/containers/%s/attach?stream=1&stdout=1&stderr=1 "
               "HTTP/1.1\r\nHost: docker\r\nUpgrade: tcp\r\n"
               "Connection: Upgrade\r\nContent-Length: 0\r\n\r\n" % cid).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    return s, head.split(b"\r\n\r\n", 1)[1]


def one(path, conn):
    t0 = time.monotonic()
    status, data = call(conn, "POST", "/containers/create", CREATE)
    cid = json.loads(data)["Id"]
    s, out = attach(path, cid)
    call(conn, "POST", "/containers/%s/start" % cid)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    call(conn, "POST", "/containers/%s/wait" % cid)
    call(conn, "DELETE", "/containers/%s?force=1" % cid)
    if b"Hello from CloudFunc" not in out:
        raise RuntimeError("no output")
    return (time.monotonic() - t0) * 1000


def run_load(n, conc, connect, one):
    """Sends n requests from conc threads, each with its own connection
    from connect(); one(conn) sends one and returns its milliseconds and a
    result.  Prints the milliseconds and the elapsed seconds, and returns
    the results in the order the requests ended."""
    lock = threading.Lock()
    left = [n]
    results = []

    def worker():
        conn = connect()
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            ms, result = one(conn)
            with lock:
                results.append((ms, result))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for ms, _ in results:
        print("%.2f" % ms)
    print("elapsed %.3f" % (time.monotonic() - t0))
    return [result for _, result in results]


def main():
    path, n, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    run_load(n, conc, lambda: UnixConnection(path),
             lambda conn: (one(path, conn), None))


if __name__ == "__main__":
    main()

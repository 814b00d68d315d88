#!/usr/bin/env python3
"""A load generator of one long-lived process, like raw_api.py, so that
throughput against cloudfunc and against the raw Engine API is measured
with clients of the same weight: CONCURRENCY threads, each with its own
keep-alive HTTP connection, send REQUESTS GETs in all.

Usage: http_load.py URL REQUESTS CONCURRENCY
Prints one latency in milliseconds per line, then "elapsed SECONDS".
Exits 1 when an answer is not 200.
"""
import http.client
import sys
import threading
import time
import urllib.parse


def main():
    url, n, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    parts = urllib.parse.urlsplit(url)
    lock = threading.Lock()
    left = [n]
    times = []
    failures = []

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port,
                                          timeout=120)
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            t0 = time.monotonic()
            conn.request("GET", parts.path)
            r = conn.getresponse()
            r.read()
            ms = (time.monotonic() - t0) * 1000
            with lock:
                times.append(ms)
                if r.status != 200:
                    failures.append(r.status)

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for ms in times:
        print("%.2f" % ms)
    print("elapsed %.3f" % (time.monotonic() - t0))
    if failures:
        print("http_load: %d answers were not 200: %s"
              % (len(failures), sorted(set(failures))), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

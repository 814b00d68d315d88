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
import time
import urllib.parse

from raw_api import run_load


def main():
    url, n, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    parts = urllib.parse.urlsplit(url)

    def connect():
        return http.client.HTTPConnection(parts.hostname, parts.port,
                                          timeout=120)

    def one(conn):
        t0 = time.monotonic()
        conn.request("GET", parts.path)
        r = conn.getresponse()
        r.read()
        return (time.monotonic() - t0) * 1000, r.status

    statuses = run_load(n, conc, connect, one)
    failures = [s for s in statuses if s != 200]
    if failures:
        print("http_load: %d answers were not 200: %s"
              % (len(failures), sorted(set(failures))), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

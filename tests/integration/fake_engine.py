#!/usr/bin/env python3
"""A Docker engine that misbehaves on demand, for faults the real one will
not produce when asked.  Listens on a Unix socket; the image name of each
create call picks the fault for that container:

  fault/create-500      create answers 500 {"message": "injected failure"}
  fault/create-garbage  create answers 201 with a body that is not JSON
  fault/create-stall    create never answers
  fault/create-vanish   create makes the container, then closes the
                        connection without an answer
  fault/stream-cut      the output stream ends inside a frame header
  fault/wait-stall      output arrives, but not the gate's exit record,
                        and wait never answers
  fault/gate-garbage    the gate's frames are not frames
  fault/delete-500      all is well until removal, which answers 500
  anything else         all is well: prints "fake", exits 0

Usage: fake_engine.py SOCKET
"""
import itertools
import json
import os
import socketserver
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

containers = {}
labels = {}
lock = threading.Lock()
ids = itertools.count(1)


def frame(kind, data):
    return struct.pack(">BxxxI", kind, len(data)) + data


def gate_exit(status):
    """The gate's last frame: the command's exit status."""
    return frame(3, struct.pack(">I", status))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Api-Version", "1.41")
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def container(self):
        parts = self.path.split("?")[0].split("/")
        cid = parts[3] if len(parts) > 3 else ""
        with lock:
            return cid, containers.get(cid)

    def do_GET(self):
        if self.path.endswith("/_ping"):
            return self.reply(200, b"OK", "text/plain")
        if "/containers/json" in self.path:
            with lock:
                return self.reply(200, [{"Id": cid, "Labels": labels.get(cid, {})}
                                        for cid in containers])
        if self.path.startswith("/v1.41/images/"):
            return self.reply(200, {"Config": {"Entrypoint": None,
                                               "Cmd": ["fake"]}})
        cid, mode = self.container()
        if mode is None:
            return self.reply(404, {"message": "No such container"})
        return self.reply(200, {"Id": cid, "State": {"OOMKilled": False}})

    def do_POST(self):
        path = self.path.split("?")[0]
        body = self.body()
        if path.endswith("/containers/create"):
            image = json.loads(body or b"{}").get("Image", "")
            mode = image.split("/", 1)[1].split(":")[0] if image.startswith("fault/") else "ok"
            if mode == "create-500":
                return self.reply(500, {"message": "injected failure"})
            if mode == "create-garbage":
                return self.reply(201, b"{this is not json", "application/json")
            if mode == "create-stall":
                time.sleep(3600)
                return
            cid = "%064x" % next(ids)
            with lock:
                containers[cid] = mode
                labels[cid] = json.loads(body).get("Labels") or {}
            if mode == "create-vanish":
                self.close_connection = True
                return
            return self.reply(201, {"Id": cid, "Warnings": []})
        cid, mode = self.container()
        if mode is None:
            return self.reply(404, {"message": "No such container"})
        if path.endswith("/attach"):
            return self.attach(mode)
        if path.endswith("/start"):
            return self.reply(204)
        if path.endswith("/wait"):
            if mode == "wait-stall":
                time.sleep(3600)
                return
            return self.reply(200, {"StatusCode": 0, "Error": None})
        return self.reply(404, {"message": "page not found"})

    def do_DELETE(self):
        cid, mode = self.container()
        if mode is None:
            return self.reply(404, {"message": "No such container"})
        if mode == "delete-500":
            return self.reply(500, {"message": "removal of container is already in progress"})
        with lock:
            del containers[cid]
            labels.pop(cid, None)
        return self.reply(204)

    def drain_stdin(self):
        """Reads what the client sends for stdin (the gate's header, the
        body) as a container would, so that closing the connection ends
        the stream rather than resetting it."""
        self.connection.settimeout(0.05)
        try:
            while self.connection.recv(65536):
                pass
        except OSError:
            pass
        self.connection.settimeout(None)

    def attach(self, mode):
        self.wfile.write(b"HTTP/1.1 101 UPGRADED\r\n"
                         b"Content-Type: application/vnd.docker.raw-stream\r\n"
                         b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
        self.wfile.flush()
        self.drain_stdin()
        if mode == "stream-cut":
            self.wfile.write(frame(1, b"partial ")[:0] + b"\x01\x00\x00")
        elif mode == "wait-stall":
            self.wfile.write(frame(1, frame(1, b"fake\n")))
        elif mode == "gate-garbage":
            self.wfile.write(frame(1, b"\x09garbage that is no frame"))
        else:
            self.wfile.write(frame(1, frame(1, b"fake\n") + gate_exit(0)))
        self.wfile.flush()
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    server = Server(path, Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()

"""The LINE Messaging API as the load bench needs it, in a process of its own (so it takes no CPU
from the load generator): answers every request 200 on keep-alive connections and remembers when
each reply token arrived. GET /__replies returns {reply token: time.monotonic()}.

Each answer takes about 40 ms on loopback (headers and body are written apart, and Nagle's
algorithm meets the client's delayed ACK), which is about a remote API's round trip: the sender
needs its parallel sends to keep up, as it would with LINE.

    python bench/mock_line.py PORT
"""
from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLIES: dict[str, float] = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path.startswith("/v2/bot/message/reply"):
            token = json.loads(raw).get("replyToken")
            with LOCK:
                REPLIES.setdefault(token, time.monotonic())
        self._answer({"sentMessages": []})

    def do_GET(self):
        with LOCK:
            self._answer(dict(REPLIES) if self.path == "/__replies" else {})

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()

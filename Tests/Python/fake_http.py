"""What the fake providers share: a threaded HTTP server on a loopback port
whose handlers answer JSON, and requests to the hub that return the status and body of error
answers too (urllib raises on them)."""

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JSONHandler(BaseHTTPRequestHandler):
    """A request handler that answers JSON (set `content_type` and `ascii_only` per provider)."""

    content_type = "application/json"
    ascii_only = True

    def answer(self, status, body):
        data = json.dumps(body, ensure_ascii=self.ascii_only).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve(handler):
    """Starts `handler` on a free loopback port; returns (server, base URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


def call(url, data=None, headers=None, method="POST"):
    """One request to the hub; returns (status, body bytes) whatever the status."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def answer_json(handler, status, body, headers=None):
    """Writes `body` as a JSON response on any BaseHTTPRequestHandler (with extra headers)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)

"""What the fake providers share: a JSON answer, and a threaded HTTP server on a loopback port."""

import json
import threading
from http.server import ThreadingHTTPServer


def answer_json(handler, status, body, headers=None):
    """Writes `body` as a JSON response on a BaseHTTPRequestHandler."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def serve(handler_class):
    """Starts a threaded server for `handler_class` on a free loopback port: (server, base URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]

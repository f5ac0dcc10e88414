"""Starts the real hub (the debug build) with its own configuration, a fake provider for the
`api` channel's replies, and cleans both up. Each test module gets a fresh hub."""

import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HUB = os.environ.get("HUB_BINARY", os.path.join(ROOT, ".build", "debug", "hub"))
ADMIN = "admin-token-e2e"
SIGNING = "whsec-e2e"
INBOUND = "inbound-e2e"

RULES = """
router:
  rejectDelay: 1s
  noAnswerDelay: 1s
queues:
  - id: quick
    offerTimeout: { default: 2s }
  - id: support
    offerTimeout: { default: 60s }
    wrapUp: { default: 10m }
  - id: billing
agents:
  - id: alice
    name: Alice Wang
    role: supervisor
    queues: { support: 2 }
  - id: bo
    name: Bo Chen
    queues: { support: 1 }
  - id: carol
    name: Carol Smith
    queues: [billing]
  - id: dana
    name: Dana Li
    queues: [quick]
"""


class Provider:
    """The integration behind the `api` channel: receives the hub's replies over real HTTP."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        # Seconds each answer takes (a slow integration).
        self.delay = 0.0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if provider.delay:
                    time.sleep(provider.delay)
                expected = "sha256=" + hmac.new(SIGNING.encode(), body, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(expected, self.headers.get("X-Switchboard-Signature-256", ""))
                with provider.lock:
                    provider.received.append({"body": json.loads(body), "signed": signed,
                                              "key": self.headers.get("Idempotency-Key")})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"id": "ext-%d" % len(provider.received)}).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def replies(self):
        with self.lock:
            return list(self.received)

    def close(self):
        self.server.shutdown()


def wait_until(predicate, timeout=20):
    """Polls `predicate` until it holds or `timeout` seconds pass; its last answer."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def free_port():
    """A loopback port nobody listens on now (for a hub whose public URL must be known up front)."""
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Hub:
    def __init__(self, directory, provider, extra_channels=None, port=0, environment=None, rules=None):
        self.directory = directory
        os.makedirs(os.path.join(directory, "channels"))
        os.makedirs(os.path.join(directory, "routing-rules"))
        with open(os.path.join(directory, "channels", "api-demo.yaml"), "w") as f:
            f.write(f"""kind: api
id: api-demo
queue: support
secrets: {{ signingSecret: E2E_SIGNING, inboundToken: E2E_INBOUND }}
options: {{ outboundURL: "http://127.0.0.1:{provider.port}/replies" }}
delivery: {{ maxAttempts: 3, initialBackoff: 100ms, maxBackoff: 200ms }}
""")
        with open(os.path.join(directory, "channels", "api-quick.yaml"), "w") as f:
            f.write("""kind: api
id: api-quick
queue: quick
secrets: { signingSecret: E2E_SIGNING }
""")
        with open(os.path.join(directory, "channels", "sms-bridge.yaml"), "w") as f:
            f.write("""kind: api
id: sms-bridge
queue: support
defaultRegion: CN
secrets: { signingSecret: E2E_SIGNING }
""")
        for name, text in (extra_channels or {}).items():
            with open(os.path.join(directory, "channels", name + ".yaml"), "w") as f:
                f.write(text)
        with open(os.path.join(directory, "routing-rules", "rules.yaml"), "w") as f:
            f.write(rules or RULES)
        self.environment = dict(os.environ, HUB_ADMIN_TOKEN=ADMIN, E2E_SIGNING=SIGNING, E2E_INBOUND=INBOUND, HUB_BCRYPT_COST="4",
                                HUB_LOG_LEVEL="info", **(environment or {}))
        self.command = [HUB, "serve", "--http", f"127.0.0.1:{port}", "--data", os.path.join(directory, "data"),
                        "--channels", os.path.join(directory, "channels"), "--routing-rules", os.path.join(directory, "routing-rules"),
                        "--durability", "normal", "--smtp", "127.0.0.1:0", "--sip", "127.0.0.1:0"]
        self.log_path = os.path.join(directory, "hub.log")
        self.log = open(self.log_path, "w")
        self.has_smtp = any("kind: email" in text for text in (extra_channels or {}).values())
        self.has_sip = "sipPassword" in (rules or "") or "sipContact" in (rules or "")
        self.launch()

    def launch(self):
        """Starts the hub process and waits for its listeners (their addresses are read from what
        this run of the hub logs)."""
        self.log.flush()
        start = os.path.getsize(self.log_path)
        self.process = subprocess.Popen(self.command, stdout=self.log, stderr=subprocess.STDOUT, env=self.environment)
        deadline = time.time() + 60
        self.base = None
        while time.time() < deadline and self.base is None:
            time.sleep(0.1)
            match = re.search(r'msg="http listening" .*address=(\S+)', self.logged_since(start))
            if match:
                self.base = "http://" + match.group(1)
            if self.process.poll() is not None:
                raise RuntimeError("the hub exited:\n" + open(self.log_path).read())
        assert self.base, "the hub did not start listening"
        # The SMTP listener starts beside HTTP when an e-mail account is configured; the SIP
        # element when an agent has a phone (UDP and TCP share its port).
        self.smtp = None
        if self.has_smtp:
            self.smtp = self.logged_address(r'msg="smtp listening" .*address=', deadline, "its SMTP listener", start)
        self.sip = None
        if self.has_sip:
            self.sip = self.logged_address(r'msg="sip listening" .*udp=', deadline, "its SIP element", start)
        self.ws_base = self.base.replace("http://", "ws://")

    def restart(self):
        """A graceful stop (SIGTERM, as a deployment does), then the same hub on the same data again."""
        self.process.terminate()
        self.process.wait(timeout=60)
        self.launch()

    def kill_and_restart(self):
        """SIGKILL (nothing is flushed or drained), then the same hub on the same data again."""
        self.process.kill()
        self.process.wait()
        self.launch()

    def logged_since(self, offset):
        with open(self.log_path, errors="replace") as f:
            f.seek(offset)
            return f.read()

    def logged_address(self, prefix, deadline, what, start=0):
        """The (host, port) a listener logged after `prefix`, waiting for the line."""
        while time.time() < deadline:
            match = re.search(prefix + r'\S*?(\d+\.\d+\.\d+\.\d+):(\d+)', self.logged_since(start))
            if match:
                return match.group(1), int(match.group(2))
            time.sleep(0.1)
        raise AssertionError("the hub did not start " + what)

    def request(self, method, path, body=None, token=ADMIN, headers=None, raw=False):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        all_headers = {"Content-Type": "application/json"} if data is not None else {}
        if token:
            all_headers["Authorization"] = "Bearer " + token
        all_headers.update(headers or {})
        request = urllib.request.Request(self.base + path, data=data, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                content = response.read()
                return response.status, content if raw else (json.loads(content) if content else None)
        except urllib.error.HTTPError as error:
            content = error.read()
            return error.code, json.loads(content) if content else None

    def customer_message(self, user, text, message_id, account="api-demo", kind=None):
        sender = {"id": user}
        if kind:
            sender["kind"] = kind
        body = json.dumps({"messageId": message_id, "from": sender, "text": text}).encode()
        headers = {"X-Switchboard-Signature-256": "sha256=" + hmac.new(SIGNING.encode(), body, hashlib.sha256).hexdigest()}
        status, answer = self.request("POST", "/webhooks/" + account, body, token=None, headers=headers)
        assert status in (200, 201), (status, answer)
        return answer

    def login(self, agent, password="a long enough password"):
        status, _ = self.request("POST", f"/v1/agents/{agent}/password", {"password": password})
        assert status == 204
        status, answer = self.request("POST", "/v1/auth/login", {"login": agent, "password": password}, token=None)
        assert status == 200, answer
        return answer["token"]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def provider():
    fake = Provider()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def hub(provider):
    yield from running_hub(provider)


def channel_hub(channels, environment, port=0):
    """A hub with these extra channel accounts (name -> YAML) and environment, for a provider's
    end-to-end module; its `api` accounts deliver to a fake integration nobody reads."""
    provider = Provider()
    try:
        yield from running_hub(provider, extra_channels=channels, port=port, environment=environment)
    finally:
        provider.close()


def running_hub(provider, **options):
    """Starts a hub in a fresh directory, yields it, and stops and removes it (keeping its log
    when E2E_ARTIFACTS names a directory)."""
    directory = tempfile.mkdtemp(prefix="hub-e2e-")
    running = Hub(directory, provider, **options)
    try:
        yield running
    finally:
        running.stop()
        artifacts = os.environ.get("E2E_ARTIFACTS")
        if artifacts:
            os.makedirs(artifacts, exist_ok=True)
            shutil.copy(running.log_path, os.path.join(artifacts, "hub-%d.log" % running.process.pid))
        shutil.rmtree(directory, ignore_errors=True)

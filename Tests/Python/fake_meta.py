"""A fake of Meta's Messenger Platform, over real HTTP, speaking its documented format: the Send API
(`POST /<version>/<page id>/messages?access_token=...`, JSON in, `{"recipient_id","message_id"}`
out, Graph error bodies) and webhooks to the hub, serialized the way Meta serializes them (ASCII
only, with `/`, `<`, `%` and `@` escaped too) and signed with X-Hub-Signature-256 over exactly
those bytes, with the standard library's hmac and hashlib."""

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.parse

from fake_http import JSONHandler, call, serve

APP_SECRET = "meta-e2e-app-secret"
VERIFY_TOKEN = "meta-e2e-verify-token"
PAGE_TOKEN = "EAAGm0PX4ZCpsBA-e2e-page-token"
PAGE_ID = "104857600123456"
IG_ACCOUNT_ID = "17841400000000001"
VERSION = "v25.0"
MESSAGE_TAGS = {"HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"}


def meta_json(value):
    """JSON text as Meta sends it: non-ASCII as lower-case \\u escapes (json's ensure_ascii), and
    Meta's extra escapes of '/', '<', '%' and '@' (from Meta's signature documentation). The
    characters only occur inside strings, so replacing them in the text is safe."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").replace("<", "\\u003C").replace("%", "\\u0025").replace("@", "\\u0040")


def signature(body, secret=APP_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeMeta:
    def __init__(self, page_token=PAGE_TOKEN, app_secret=APP_SECRET):
        self.page_token = page_token
        self.app_secret = app_secret
        self.sent = []               # every accepted Send API request: {"path", "query", "body"}
        self.refused = []            # (http status, Graph error code) of refused ones
        self.outside_window = set()  # PSIDs whose last message is older than 24 h (error 10/2018278 without a tag)
        self.throttle = 0            # answer this many sends with error 613 first
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        fake = self

        class Handler(JSONHandler):
            content_type = "application/json; charset=UTF-8"

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                match = re.fullmatch(r"/(v\d+\.\d+)/(\d+|me)/messages", url.path)
                if not match:
                    return self.error(400, 2500, "Unknown path components: " + url.path, "OAuthException")
                if query.get("access_token") != fake.page_token:
                    return self.error(400, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                recipient = (body.get("recipient") or {}).get("id")
                if not recipient:
                    return self.error(400, 100, "(#100) The parameter recipient is required", "OAuthException")
                kind = body.get("messaging_type")
                if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
                    return self.error(400, 100, "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}", "OAuthException")
                if kind == "MESSAGE_TAG" and body.get("tag") not in MESSAGE_TAGS:
                    return self.error(400, 100, "(#100) Param tag must be a valid message tag", "OAuthException")
                message = body.get("message") or {}
                if "text" not in message and "attachment" not in message:
                    return self.error(400, 100, "(#100) Must send either message or state", "OAuthException")
                with fake.lock:
                    if fake.throttle > 0:
                        fake.throttle -= 1
                        return self.error(400, 613, "(#613) Calls to this api have exceeded the rate limit.", "OAuthException")
                if recipient in fake.outside_window and kind != "MESSAGE_TAG":
                    return self.error(400, 10, "(#10) This message is sent outside of allowed window.", "OAuthException", 2018278)
                mid = "m_out_%d" % next(fake.counter)
                with fake.lock:
                    fake.sent.append({"path": url.path, "query": query, "body": body, "mid": mid})
                self.answer(200, {"recipient_id": recipient, "message_id": mid})

            def error(self, status, code, message, kind, subcode=None):
                with fake.lock:
                    fake.refused.append((status, code))
                error = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf%d" % next(fake.counter)}
                if subcode:
                    error["error_subcode"] = subcode
                self.answer(status, {"error": error})

        self.server, self.base = serve(Handler)

    # Webhooks to the hub

    def post(self, url, body, signature_header=None, secret=None):
        """POSTs raw bytes as a Meta webhook; signs them unless told otherwise. Returns (status, body)."""
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        value = signature_header if signature_header is not None else signature(body, secret or self.app_secret)
        if value:
            headers["X-Hub-Signature-256"] = value
        return call(url, body, headers)

    @staticmethod
    def body(entries, object_="page"):
        """A webhook body in Meta's serialization."""
        return meta_json({"object": object_, "entry": entries}).encode()

    @staticmethod
    def entry(page_id, *items):
        return {"id": page_id, "time": int(time.time() * 1000), "messaging": list(items)}

    @staticmethod
    def message(page_id, psid, mid, text, **extra):
        message = dict({"mid": mid, "text": text}, **extra)
        return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": int(time.time() * 1000), "message": message}

    @staticmethod
    def delivery(page_id, psid, mids):
        now = int(time.time() * 1000)
        return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": now, "delivery": {"mids": mids, "watermark": now}}

    @staticmethod
    def read(page_id, psid):
        now = int(time.time() * 1000)
        return {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": now, "read": {"watermark": now}}

    def verify(self, url, token, challenge, mode="subscribe"):
        """Meta's subscription check: GET with hub.mode, hub.verify_token and hub.challenge."""
        query = urllib.parse.urlencode({"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge})
        return call(url + "?" + query, method="GET")

    def sends(self):
        with self.lock:
            return list(self.sent)

    def close(self):
        self.server.shutdown()

"""A fake of Twilio's Programmable Messaging, over real HTTP, speaking its documented format:
the Messages REST API (basic auth, form body, 201 with a JSON message resource, error bodies with
Twilio's codes) and signed webhooks to the hub (inbound messages, status callbacks). Signatures
are made by the `twilio` package's own RequestValidator, not by code of ours."""

import base64
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler

from twilio.request_validator import RequestValidator

from fake_http import answer_json, serve

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-e2e-auth-token"
NUMBER = "+15005550006"


class FakeTwilio:
    def __init__(self, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.validator = RequestValidator(auth_token)
        self.sent = []             # every accepted Messages API request (form fields)
        self.refused = []          # (status, code) of refused ones
        self.callbacks = []        # (url, params, hub status) of status callbacks posted
        self.opted_out = set()     # numbers Twilio itself knows as unsubscribed (error 21610)
        self.undeliverable = set() # numbers whose messages end "undelivered" (error 30003)
        self.throttle = 0          # answer this many sends with 429 first
        self.media = {}            # path -> (content type, bytes): MMS media, behind basic auth
        self.media_fetches = []    # (path, authorized)
        self.lock = threading.Lock()
        self.counter = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                expected = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                authorized = self.headers.get("Authorization") == expected
                with fake.lock:
                    fake.media_fetches.append((self.path, authorized))
                if not authorized:
                    return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if self.path not in fake.media:
                    return self.answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
                content_type, data = fake.media[self.path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages\.json", self.path)
                if not match:
                    return self.answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
                expected = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if match.group(1) != fake.account_sid or self.headers.get("Authorization") != expected:
                    return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                fields = {name: values[0] for name, values in form.items()}
                with fake.lock:
                    if fake.throttle > 0:
                        fake.throttle -= 1
                        fake.refused.append((429, 20429))
                        return self.answer(429, {"code": 20429, "message": "Too Many Requests", "status": 429}, {"Retry-After": "1"})
                to = fields.get("To", "")
                if not re.fullmatch(r"\+[1-9][0-9]{6,14}", to):
                    return self.refuse(400, 21211, f"The 'To' number {to} is not a valid phone number.")
                if to in fake.opted_out:
                    return self.refuse(400, 21610, "Attempt to send to unsubscribed recipient")
                if not fields.get("Body") and not fields.get("MediaUrl"):
                    return self.refuse(400, 21602, "Message body is required.")
                sid = "SM%032x" % next(fake.counter)
                with fake.lock:
                    fake.sent.append(dict(fields, sid=sid))
                self.answer(201, {
                    "sid": sid, "account_sid": fake.account_sid, "api_version": "2010-04-01", "body": fields.get("Body"),
                    "direction": "outbound-api", "error_code": None, "error_message": None, "from": fields.get("From"),
                    "messaging_service_sid": fields.get("MessagingServiceSid"), "num_media": "0", "num_segments": "1",
                    "status": "queued", "to": to, "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{sid}.json"})
                if fields.get("StatusCallback"):
                    final = ("undelivered", "30003") if to in fake.undeliverable else ("delivered", None)
                    threading.Thread(target=fake.report, args=(fields["StatusCallback"], sid, fields, final), daemon=True).start()

            def refuse(self, status, code, message):
                with fake.lock:
                    fake.refused.append((status, code))
                self.answer(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                     "status": status})

            def answer(self, status, body, headers=None):
                answer_json(self, status, body, headers)

            def log_message(self, *args):
                pass

        self.server, self.base = serve(Handler)

    def report(self, url, sid, fields, final):
        """Status callbacks as Twilio sends them: `sent`, then the final state, signed."""
        for status, error in (("sent", None), final):
            time.sleep(0.05)
            params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                      "AccountSid": self.account_sid, "From": fields.get("From", ""), "To": fields.get("To", ""),
                      "ApiVersion": "2010-04-01"}
            if error:
                params["ErrorCode"] = error
            code = self.post_signed(url, params)
            with self.lock:
                self.callbacks.append((url, params, code))

    def post_signed(self, url, params, signature=None, body=None, content_type="application/x-www-form-urlencoded"):
        """POSTs a form to the hub the way Twilio does; returns (status, body bytes)."""
        data = body if body is not None else urllib.parse.urlencode(params).encode()
        headers = {"Content-Type": content_type, "User-Agent": "TwilioProxy/1.1"}
        signature = signature if signature is not None else self.validator.compute_signature(url, params)
        if signature:
            headers["X-Twilio-Signature"] = signature
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except urllib.error.URLError as error:  # the hub is gone (a callback after the test ended)
            return None, str(error.reason).encode()

    def inbound(self, url, sender, text, sid, to=NUMBER, media=()):
        """A customer's SMS (or MMS) as Twilio delivers it to the hub's webhook."""
        params = {"ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": str(len(media)), "ToCity": "",
                  "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "", "Body": text,
                  "FromCountry": "CN", "To": to, "ToZip": "", "NumSegments": "1", "MessageSid": sid,
                  "AccountSid": self.account_sid, "From": sender, "ApiVersion": "2010-04-01"}
        for index, (media_url, content_type) in enumerate(media):
            params[f"MediaUrl{index}"] = media_url
            params[f"MediaContentType{index}"] = content_type
        return self.post_signed(url, params)

    def sends(self):
        with self.lock:
            return list(self.sent)

    def close(self):
        self.server.shutdown()

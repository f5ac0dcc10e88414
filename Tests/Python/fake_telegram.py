"""A fake of Telegram's Bot API, over real HTTP, speaking its documented format: methods at
`/bot<token>/<method>` taking JSON, answering `{"ok": true, "result": ...}` or `{"ok": false,
"error_code", "description", "parameters"}`, flood control with retry_after; and updates POSTed to
the hub's webhook with the X-Telegram-Bot-Api-Secret-Token header, as after setWebhook."""

import itertools
import json
import re
import threading
import time

from fake_http import JSONHandler, call, serve

BOT_TOKEN = "7012345678:AAE-e2e_fake_bot_token_0123456789abc"
SECRET_TOKEN = "hub-e2e_secret-token"
BOT = {"id": 7012345678, "is_bot": True, "first_name": "Switchboard", "username": "switchboard_e2e_bot"}


class FakeTelegram:
    def __init__(self, token=BOT_TOKEN):
        self.token = token
        self.calls = []        # every request with the right token: (method, JSON body, time)
        self.sent = []         # messages accepted: the Message objects returned
        self.refused = []      # (method, error_code, description)
        self.blocked = set()   # chat ids that blocked the bot (403)
        self.throttle = 0      # answer this many sends with 429 retry_after 1 first
        self.webhook = None    # what setWebhook was given
        self.lock = threading.Lock()
        self.message_ids = itertools.count(5000)
        self.update_ids = itertools.count(900000)
        fake = self

        class Handler(JSONHandler):
            ascii_only = False

            def do_POST(self):
                match = re.fullmatch(r"/bot([^/]+)/(\w+)", self.path)
                if not match:
                    return self.answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                if match.group(1) != fake.token:
                    return self.answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                method = match.group(2)
                length = int(self.headers.get("Content-Length", "0"))
                if not self.headers.get("Content-Type", "").startswith("application/json"):
                    return self.refuse(method, 400, "Bad Request: expected a JSON body in this fake")
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake.lock:
                    fake.calls.append((method, body, time.time()))
                if method == "getMe":
                    return self.answer(200, {"ok": True, "result": BOT})
                if method == "setWebhook":
                    secret = body.get("secret_token", "")
                    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
                        return self.refuse(method, 400, "Bad Request: secret token contains unallowed characters")
                    fake.webhook = body
                    return self.answer(200, {"ok": True, "result": True, "description": "Webhook was set"})
                if method not in ("sendMessage", "sendPhoto", "sendDocument"):
                    return self.refuse(method, 404, "Not Found: method not found")
                chat = body.get("chat_id")
                if not isinstance(chat, int):
                    return self.refuse(method, 400, "Bad Request: chat_id is empty")
                with fake.lock:
                    if fake.throttle > 0:
                        fake.throttle -= 1
                        fake.refused.append((method, 429, "Too Many Requests: retry after 1"))
                        return self.answer(429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                                 "parameters": {"retry_after": 1}})
                if chat in fake.blocked:
                    return self.refuse(method, 403, "Forbidden: bot was blocked by the user")
                if method == "sendMessage" and not body.get("text"):
                    return self.refuse(method, 400, "Bad Request: message text is empty")
                message = {"message_id": next(fake.message_ids), "from": BOT, "chat": {"id": chat, "type": "private"},
                           "date": int(time.time())}
                for field in ("text", "photo", "document", "reply_parameters"):
                    if field in body:
                        message[field] = body[field]
                with fake.lock:
                    fake.sent.append(message)
                self.answer(200, {"ok": True, "result": message})

            def refuse(self, method, code, description):
                with fake.lock:
                    fake.refused.append((method, code, description))
                self.answer(code, {"ok": False, "error_code": code, "description": description})

        self.server, self.base = serve(Handler)

    # Updates to the hub

    def post_update(self, url, update, secret=SECRET_TOKEN, raw=None):
        """POSTs one Update as Telegram does after setWebhook; returns (status, body)."""
        data = raw if raw is not None else json.dumps(update, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return call(url, data, headers)

    def message_update(self, user, text, message_id, chat=None, **extra):
        """An Update with a customer's message; `user` is {"id", "first_name", ...}; the chat is
        their private chat unless given."""
        chat = chat or {"id": user["id"], "first_name": user.get("first_name"), "type": "private"}
        message = dict({"message_id": message_id, "date": int(time.time()), "from": dict({"is_bot": False}, **user),
                        "chat": chat, "text": text}, **extra)
        return {"update_id": next(self.update_ids), "message": message}

    def sends(self):
        with self.lock:
            return list(self.sent)

    def close(self):
        self.server.shutdown()

"""A fake of WeChat's Official Account platform, over real HTTP, speaking its documented format:
`/cgi-bin/token` (client credentials) and `/cgi-bin/message/custom/send` (customer-service
messages, refusing stale tokens with 40001), and pushes to the hub signed and encrypted by the
`wechatpy` package (an independent implementation of WXBizMsgCrypt), not by code of ours."""

import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler

from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from fake_http import answer_json, serve

APP_ID = "wxb11529c136998cb6"
APP_SECRET = "wechat-e2e-app-secret"
TOKEN = "wechat-e2e-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ORIGINAL_ID = "gh_e2e_hub"


def sign(*parts):
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


class FakeWeChat:
    def __init__(self):
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
        self.token = None
        self.token_fetches = 0
        self.sent = []          # customer-service messages accepted
        self.refused = []       # errcodes answered
        self.lock = threading.Lock()
        self.msg_ids = itertools.count(24000000000000001)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path != "/cgi-bin/token":
                    return self.answer({"errcode": 404, "errmsg": "not found"})
                if query.get("appid") != APP_ID or query.get("secret") != APP_SECRET:
                    return self.answer({"errcode": 40125, "errmsg": "invalid appsecret"})
                with fake.lock:
                    fake.token_fetches += 1
                    fake.token = "ACCESS_TOKEN_%d" % fake.token_fetches
                    return self.answer({"access_token": fake.token, "expires_in": 7200})

            def do_POST(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                if url.path != "/cgi-bin/message/custom/send":
                    return self.answer({"errcode": 404, "errmsg": "not found"})
                with fake.lock:
                    if query.get("access_token") != fake.token:
                        fake.refused.append(40001)
                        return self.answer({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"})
                    fake.sent.append({"token": query["access_token"], "body": body})
                self.answer({"errcode": 0, "errmsg": "ok"})

            def answer(self, body):
                answer_json(self, 200, body)  # WeChat answers 200 and puts errors in errcode

            def log_message(self, *args):
                pass

        self.server, self.base = serve(Handler)

    def expire_token(self):
        """WeChat invalidates the current token early (a new one was issued elsewhere)."""
        with self.lock:
            self.token = "REVOKED"

    def verify_url(self, url, echostr="5927782489442352469", signature=None):
        timestamp, nonce = str(int(time.time())), "1320562132"
        query = {"signature": signature or sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "echostr": echostr}
        return self.call(url + "?" + urllib.parse.urlencode(query), None, method="GET")

    def message(self, openid, content, msg_id=None):
        msg_id = msg_id or next(self.msg_ids)
        return (f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")

    def event(self, openid, event):
        return (f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                f"<Event><![CDATA[{event}]]></Event></xml>")

    def push(self, url, xml, encrypted=True, timestamp=None, nonce="424242", tamper=None):
        """POSTs a push as WeChat does in safe mode: encrypted by wechatpy, signed twice."""
        timestamp = timestamp or str(int(time.time()))
        query = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": "o"}
        body = xml
        if encrypted:
            envelope = self.crypto.encrypt_message(xml, nonce, timestamp)
            encrypt = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
            query.update(encrypt_type="aes", msg_signature=sign(TOKEN, timestamp, nonce, encrypt))
            body = f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        if tamper:
            query, body = tamper(query, body)
        return self.call(url + "?" + urllib.parse.urlencode(query), body.encode())

    @staticmethod
    def call(url, data, method="POST"):
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "text/xml"}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def sends(self):
        with self.lock:
            return list(self.sent)

    def close(self):
        self.server.shutdown()


# The hub's environment for the account below.
ENVIRONMENT = {"E2E_WX_TOKEN": TOKEN, "E2E_WX_SECRET": APP_SECRET, "E2E_WX_AES": AES_KEY}


def channel(base):
    """A `wechat-oa` channel account (safe mode) against the fake platform at `base`."""
    return f"""kind: wechat
id: wechat-oa
name: 公众号
queue: support
secrets: {{ token: E2E_WX_TOKEN, appSecret: E2E_WX_SECRET, encodingAESKey: E2E_WX_AES }}
options:
  appId: {APP_ID}
  originalId: {ORIGINAL_ID}
  encryption: safe
  apiBaseURL: {base}
delivery: {{ maxAttempts: 4, initialBackoff: 200ms, maxBackoff: 1s }}
"""

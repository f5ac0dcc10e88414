"""A fake of WeCom's customer-service platform (企业微信 微信客服), over real HTTP, in its documented
format: `/cgi-bin/gettoken`, `/cgi-bin/kf/sync_msg` (messages waiting behind a cursor) and
`/cgi-bin/kf/send_msg`; callbacks to the hub encrypted and signed by the `wechatpy` package's
enterprise crypto (an independent WXBizMsgCrypt), not by code of ours."""

import base64
import itertools
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from wechatpy.crypto import PrpCrypto
from wechatpy.enterprise.crypto import WeChatCrypto

from fake_http import answer_json, call, serve
from fake_wechat import sign

CORP_ID = "ww0123456789abcdef"
KF_SECRET = "wecom-e2e-kf-secret"
TOKEN = "wecom-e2e-token"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
OPEN_KFID = "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw"


class FakeWeCom:
    def __init__(self):
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
        self.access_token = None
        self.messages = []          # every customer message, in order; a cursor is an index into it
        self.sync_tokens = set()    # callback tokens issued (valid for sync_msg)
        self.sent = []
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path != "/cgi-bin/gettoken":
                    return answer_json(self, 200, {"errcode": 404, "errmsg": "not found"})
                if query.get("corpid") != CORP_ID or query.get("corpsecret") != KF_SECRET:
                    return answer_json(self, 200, {"errcode": 40001, "errmsg": "invalid credential"})
                with fake.lock:
                    fake.access_token = "CORP_TOKEN_%d" % next(fake.ids)
                    return answer_json(self, 200, {"errcode": 0, "errmsg": "ok", "access_token": fake.access_token, "expires_in": 7200})

            def do_POST(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with fake.lock:
                    if query.get("access_token") != fake.access_token:
                        return answer_json(self, 200, {"errcode": 40014, "errmsg": "invalid access_token"})
                    if url.path == "/cgi-bin/kf/sync_msg":
                        if body.get("token") not in fake.sync_tokens or body.get("open_kfid") != OPEN_KFID:
                            return answer_json(self, 200, {"errcode": 95007, "errmsg": "invalid msg token"})
                        start = int(body.get("cursor") or 0)
                        page = fake.messages[start:start + 2]  # small pages: the hub must follow has_more
                        end = start + len(page)
                        return answer_json(self, 200, {"errcode": 0, "errmsg": "ok", "next_cursor": str(end),
                                                       "has_more": 1 if end < len(fake.messages) else 0, "msg_list": page})
                    if url.path == "/cgi-bin/kf/send_msg":
                        fake.sent.append(body)
                        return answer_json(self, 200, {"errcode": 0, "errmsg": "ok", "msgid": body.get("msgid") or "out"})
                answer_json(self, 200, {"errcode": 404, "errmsg": "not found"})

            def log_message(self, *args):
                pass

        self.server, self.base = serve(Handler)

    def customer_writes(self, user, text):
        """A WeChat user writes to the customer-service account: the message waits at WeCom."""
        with self.lock:
            self.messages.append({"msgid": "msg%06d" % next(self.ids), "open_kfid": OPEN_KFID, "external_userid": user,
                                  "send_time": int(time.time()), "origin": 3, "msgtype": "text", "text": {"content": text}})

    def callback(self, url, tamper=None):
        """WeCom tells the hub that messages wait (kf_msg_or_event), encrypted and signed."""
        token = "SYNC%06d" % next(self.ids)
        with self.lock:
            self.sync_tokens.add(token)
        timestamp, nonce = str(int(time.time())), str(next(self.ids))
        xml = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><CreateTime>{timestamp}</CreateTime>"
               f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
               f"<Token><![CDATA[{token}]]></Token><OpenKfId><![CDATA[{OPEN_KFID}]]></OpenKfId></xml>")
        envelope = self.crypto.encrypt_message(xml, nonce, timestamp)
        encrypt = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
        query = {"msg_signature": sign(TOKEN, timestamp, nonce, encrypt), "timestamp": timestamp, "nonce": nonce}
        body = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>"
        if tamper:
            query, body = tamper(query, body)
        return call(url + "?" + urllib.parse.urlencode(query), body.encode(), {"Content-Type": "text/xml"})

    def verify_url(self, url, plain="8023185917426812345"):
        key = base64.b64decode(AES_KEY + "=")
        echostr = PrpCrypto(key).encrypt(plain, CORP_ID)
        echostr = echostr.decode() if isinstance(echostr, bytes) else echostr
        timestamp, nonce = str(int(time.time())), "98765"
        query = {"msg_signature": sign(TOKEN, timestamp, nonce, echostr), "timestamp": timestamp, "nonce": nonce, "echostr": echostr}
        return call(url + "?" + urllib.parse.urlencode(query), method="GET")

    def sends(self):
        with self.lock:
            return list(self.sent)

    def close(self):
        self.server.shutdown()

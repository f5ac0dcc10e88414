"""Messenger and Instagram end to end in Meta's format: a fake Meta over real HTTP checks the hub's
subscription answer, signs webhooks over Meta's escaped JSON, and serves the Send API; the hub
stores the customer's message, an agent answers over the WebSocket inbox, the reply goes out in
the Send API's format, and Meta's delivery report marks it delivered."""

import asyncio
import time

import pytest

from conftest import channel_hub
from fake_meta import APP_SECRET, IG_ACCOUNT_ID, PAGE_ID, PAGE_TOKEN, VERIFY_TOKEN, VERSION, FakeMeta, signature
from hub_queries import messages, received_count, wait_for_message
from inbox_client import Agent, kind, run

PSID = "6543210987654321"


@pytest.fixture(scope="module")
def meta():
    fake = FakeMeta()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def meta_hub(meta):
    secrets = "{ appSecret: E2E_META_APP_SECRET, verifyToken: E2E_META_VERIFY_TOKEN, pageAccessToken: E2E_META_PAGE_TOKEN }"
    channels = {
        "fb-page": f"""kind: messenger
id: fb-page
name: Facebook Page
queue: support
secrets: {secrets}
options:
  pageId: "{PAGE_ID}"
  graphBaseURL: {meta.base}
  graphVersion: {VERSION}
  outsideWindowTag: HUMAN_AGENT
delivery: {{ maxAttempts: 4, initialBackoff: 200ms, maxBackoff: 1s }}
""",
        "ig-account": f"""kind: instagram
id: ig-account
name: Instagram
queue: support
secrets: {secrets}
options:
  pageId: "{IG_ACCOUNT_ID}"
  graphBaseURL: {meta.base}
""",
    }
    environment = {"E2E_META_APP_SECRET": APP_SECRET, "E2E_META_VERIFY_TOKEN": VERIFY_TOKEN, "E2E_META_PAGE_TOKEN": PAGE_TOKEN}
    for hub in channel_hub(channels, environment):
        hub.fb_url = hub.base + "/webhooks/fb-page"
        hub.ig_url = hub.base + "/webhooks/ig-account"
        yield hub


def test_the_subscription_check_echoes_the_challenge(meta_hub, meta):
    assert meta.verify(meta_hub.fb_url, VERIFY_TOKEN, "1158201444") == (200, b"1158201444")
    status, _ = meta.verify(meta_hub.fb_url, "not-the-token", "1158201444")
    assert status == 403
    status, _ = meta.verify(meta_hub.fb_url, VERIFY_TOKEN, "1158201444", mode="unsubscribe")
    assert status == 403


def test_a_messenger_message_reaches_the_agent_and_the_reply_goes_out_through_the_send_api(meta_hub, meta):
    async def scenario():
        bo = Agent(meta_hub, meta_hub.login("bo"))
        await bo.connect()
        await bo.call({"type": "presence.set", "presence": "available"})

        # Chinese text and the characters Meta escapes beyond non-ASCII: the signature covers the
        # escaped bytes, and the hub stores the text as the customer wrote it.
        text = "你好！订单 #42 (https://shop.example/o/42) 还没到 <急> 100% 确定 @客服"
        body = meta.body([meta.entry(PAGE_ID, meta.message(PAGE_ID, PSID, "m_in_1", text))])
        assert b"\\u4f60\\u597d" in body and b"https:\\/\\/" in body and b"\\u003C" in body and b"\\u0040" in body
        status, answer = meta.post(meta_hub.fb_url, body)
        assert status == 200, answer
        offer = await bo.wait_for(kind("offer.created"))
        conversation = offer["data"]["conversationId"]
        pop = offer["screenPop"]
        assert pop["conversation"]["channelKind"] == "messenger" and pop["conversation"]["channelAccountId"] == "fb-page", pop
        assert any(h["kind"] == "messenger" for h in pop["customer"]["handles"]), pop["customer"]

        # Meta retries the webhook (it did not see our 200 in time): stored once.
        assert meta.post(meta_hub.fb_url, body)[0] == 200
        assert [m["text"] for m in messages(meta_hub, conversation)] == [text]

        await bo.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        await bo.wait_for(kind("routing.assigned"))
        reply = "您好，已为您查询：订单 #42 今天上午已发出。"
        answer = await bo.call({"type": "message.send", "conversationId": conversation, "text": reply, "clientMessageId": "fb-reply-1"})
        assert answer["type"] == "ack", answer
        deadline = time.time() + 20
        while time.time() < deadline and not meta.sends():
            await asyncio.sleep(0.05)
        sent = meta.sends()
        assert len(sent) == 1, sent
        assert sent[0]["path"] == f"/{VERSION}/{PAGE_ID}/messages"
        assert sent[0]["query"] == {"access_token": PAGE_TOKEN}, "the page token travels as access_token in the query"
        assert sent[0]["body"] == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": reply}}

        # Once the hub has recorded the mid, Meta's delivery report names it.
        mid = sent[0]["mid"]
        await wait_for_message(meta_hub, conversation, lambda m: m["direction"] == "outbound" and m.get("providerMessageId") == mid)
        report = meta.body([meta.entry(PAGE_ID, meta.delivery(PAGE_ID, PSID, [mid]))])
        assert meta.post(meta_hub.fb_url, report)[0] == 200
        await bo.wait_for(lambda f: f.get("kind") == "message.status" and f["data"]["status"] == "delivered")
        outbound = [m for m in messages(meta_hub, conversation) if m["direction"] == "outbound"]
        assert outbound[0]["deliveryStatus"] == "delivered", outbound
        # An echo of our own reply (Meta sends one to every subscribed app) is not a customer message.
        echo = {"sender": {"id": PAGE_ID}, "recipient": {"id": PSID}, "timestamp": int(time.time() * 1000),
                "message": {"mid": mid, "text": reply, "is_echo": True, "app_id": 1517776481860111}}
        assert meta.post(meta_hub.fb_url, meta.body([meta.entry(PAGE_ID, echo)]))[0] == 200
        assert [m["direction"] for m in messages(meta_hub, conversation)] == ["inbound", "outbound"]
        # The customer reads it: the read watermark covers the reply.
        assert meta.post(meta_hub.fb_url, meta.body([meta.entry(PAGE_ID, meta.read(PAGE_ID, PSID))]))[0] == 200
        await bo.wait_for(lambda f: f.get("kind") == "message.status" and f["data"]["status"] == "read")
        assert [m for m in messages(meta_hub, conversation) if m["direction"] == "outbound"][0]["deliveryStatus"] == "read"
        await bo.close()

    run(scenario())


def test_a_batch_with_a_postback_and_an_instagram_message(meta_hub, meta):
    before = received_count(meta_hub)
    other = "7777777777777777"
    postback = {"sender": {"id": other}, "recipient": {"id": PAGE_ID}, "timestamp": int(time.time() * 1000),
                "postback": {"title": "查询物流", "payload": "TRACK_ORDER", "mid": "m_postback_1"}}
    body = meta.body([
        meta.entry(PAGE_ID, meta.message(PAGE_ID, other, "m_in_2", "第一条"), postback),
        meta.entry("999999", meta.message("999999", other, "m_elsewhere", "another page's message")),
        meta.entry(PAGE_ID, meta.message(PAGE_ID, other, "m_in_3", "第三条", attachments=[
            {"type": "image", "payload": {"url": "https://scontent.example/v/photo.jpg?oh=1&oe=2"}}])),
    ])
    assert meta.post(meta_hub.fb_url, body)[0] == 200
    assert meta.post(meta_hub.fb_url, body)[0] == 200
    assert received_count(meta_hub) == before + 3

    # Instagram: its own account, "object": "instagram", IGSIDs as senders.
    body = meta.body([meta.entry(IG_ACCOUNT_ID, meta.message(IG_ACCOUNT_ID, "IGSID-1", "ig_m_1", "Hi from Instagram 👋"))], object_="instagram")
    assert meta.post(meta_hub.ig_url, body)[0] == 200
    # The same body at the Messenger account is about the wrong object.
    assert meta.post(meta_hub.fb_url, body)[0] == 400
    assert received_count(meta_hub) == before + 4


def test_bad_webhooks_are_refused_counted_and_store_nothing(meta_hub, meta):
    before = received_count(meta_hub)
    body = meta.body([meta.entry(PAGE_ID, meta.message(PAGE_ID, "5555555555555555", "m_bad_1", "hi"))])
    good = signature(body)
    tampered = body.replace(b'"hi"', b'"hI"')
    assert meta.post(meta_hub.fb_url, tampered, signature_header=good)[0] == 403
    assert meta.post(meta_hub.fb_url, body, signature_header="")[0] == 403
    assert meta.post(meta_hub.fb_url, body, secret="another-app-secret")[0] == 403
    assert meta.post(meta_hub.fb_url, body, signature_header="sha1=" + good[7:47])[0] == 403
    assert meta.post(meta_hub.fb_url, b'{"object":"page","entry":[')[0] == 400
    assert meta.post(meta_hub.fb_url, meta.body([], object_="user"))[0] == 400
    assert received_count(meta_hub) == before, "nothing was stored"

    status, channels = meta_hub.request("GET", "/v1/channels")
    assert status == 200
    fb = [c for c in channels["items"] if c["id"] == "fb-page"][0]
    assert fb["active"] is True and fb["kind"] == "messenger"
    assert sorted(fb["secrets"]) == ["appSecret", "pageAccessToken", "verifyToken"]
    for secret in (APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN):
        assert secret not in str(channels)
    rejected = fb["rejections"]
    assert rejected.get("invalid_signature") == 3 and rejected.get("missing_signature") == 1, rejected
    assert rejected.get("malformed_body") == 1 and rejected.get("wrong_object") == 2, rejected
    assert rejected.get("verification_failed") == 2, rejected
    with open(meta_hub.log_path) as log:
        text = log.read()
    assert PAGE_TOKEN not in text and APP_SECRET not in text

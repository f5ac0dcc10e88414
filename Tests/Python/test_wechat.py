"""WeChat Official Account end to end: a fake WeChat platform over real HTTP (pushes encrypted and
signed by wechatpy, the token and customer-service APIs served in WeChat's format), the real hub,
an agent over the WebSocket inbox. Also: one customer across SMS and WeChat once merged, and a
reply that falls back to SMS when WeChat is closed to the customer."""

import asyncio
import time

import pytest

from conftest import channel_hub, free_port, wait_until
from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, NUMBER, FakeTwilio
from fake_wechat import ENVIRONMENT, FakeWeChat
from fake_wechat import channel as wechat_channel
from inbox_client import Agent, kind, run


@pytest.fixture(scope="module")
def fakes():
    wechat, twilio = FakeWeChat(), FakeTwilio()
    yield wechat, twilio
    wechat.close()
    twilio.close()


@pytest.fixture(scope="module")
def hub(fakes):
    wechat, twilio = fakes
    port = free_port()
    channels = {
        "wechat-oa": wechat_channel(wechat.base),
        "sms-twilio": f"""kind: sms
id: sms-twilio
queue: support
defaultRegion: CN
secrets: {{ authToken: E2E_TWILIO_TOKEN }}
options: {{ accountSid: {ACCOUNT_SID}, from: "{NUMBER}", apiBaseURL: {twilio.base}, publicURL: "http://127.0.0.1:{port}/webhooks/sms-twilio" }}
delivery: {{ maxAttempts: 4, initialBackoff: 200ms, maxBackoff: 1s }}
""",
    }
    environment = {**ENVIRONMENT, "E2E_TWILIO_TOKEN": AUTH_TOKEN}
    for running in channel_hub(channels, environment, port=port):
        running.wechat_url = running.base + "/webhooks/wechat-oa"
        running.sms_url = f"http://127.0.0.1:{port}/webhooks/sms-twilio"
        yield running


def profile(hub, kind_, address, account=None):
    query = f"/v1/customers?handleKind={kind_}&address={address.replace('+', '%2B')}"
    if account:
        query += "&channelAccountId=" + account
    status, found = hub.request("GET", query)
    assert status == 200, found
    return found


def test_url_verification(hub, fakes):
    wechat = fakes[0]
    assert wechat.verify_url(hub.wechat_url) == (200, b"5927782489442352469")
    assert wechat.verify_url(hub.wechat_url, signature="0" * 40)[0] == 403


def test_a_follower_reaches_the_agent_and_replies_go_through_the_customer_service_api(hub, fakes):
    wechat = fakes[0]

    async def scenario():
        bo = Agent(hub, hub.login("bo"))
        await bo.connect()
        await bo.call({"type": "presence.set", "presence": "available"})
        xml = wechat.message("oFollower001", "你好，我想查一下订单 #20261202 的物流")
        status, body = wechat.push(hub.wechat_url, xml)
        assert (status, body) == (200, b"success")
        offer = await bo.wait_for(kind("offer.created"))
        pop = offer["screenPop"]
        assert pop["conversation"]["channelKind"] == "wechat"
        assert [e["data"]["text"] for e in pop["timeline"] if e["kind"] == "message.received"] == ["你好，我想查一下订单 #20261202 的物流"]
        # WeChat retries a push it thinks went unanswered: stored once.
        assert wechat.push(hub.wechat_url, xml) == (200, b"success")
        conversation = offer["data"]["conversationId"]
        status, page = hub.request("GET", f"/v1/conversations/{conversation}/messages")
        assert len(page["items"]) == 1

        await bo.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        await bo.wait_for(kind("routing.assigned"))
        reply = await bo.call({"type": "message.send", "conversationId": conversation, "text": "您好，包裹已到上海转运中心。"})
        assert reply["type"] == "ack", reply
        assert await asyncio.to_thread(wait_until, lambda: len(wechat.sends()) == 1)
        sent = wechat.sends()[0]
        assert sent["body"] == {"touser": "oFollower001", "msgtype": "text", "text": {"content": "您好，包裹已到上海转运中心。"}}
        assert sent["token"] == "ACCESS_TOKEN_1"
        await bo.wait_for(lambda f: f.get("kind") == "message.status" and f["data"]["status"] == "sent")

        # WeChat revokes the token early: the hub fetches a new one and sends once.
        wechat.expire_token()
        await bo.call({"type": "message.send", "conversationId": conversation, "text": "预计明天送达。"})
        assert await asyncio.to_thread(wait_until, lambda: len(wechat.sends()) == 2)
        assert wechat.sends()[1]["token"] == "ACCESS_TOKEN_2" and wechat.refused == [40001]
        assert wechat.token_fetches == 2
        await bo.call({"type": "presence.set", "presence": "offline"})
        await bo.close()

    run(scenario())


def test_one_customer_across_sms_and_wechat_once_merged_and_a_reply_after_unfollowing_goes_by_sms(hub, fakes):
    wechat, twilio = fakes
    phone, openid = "+8613500135000", "oFollower002"

    async def scenario():
        # The customer texted first, then wrote on WeChat: two customers until someone links them.
        assert twilio.inbound(hub.sms_url, phone, "我的快递丢了", "SM" + "1" * 32)[0] == 200
        assert wechat.push(hub.wechat_url, wechat.message(openid, "我是刚才发短信的那位，快递丢了"))[0] == 200
        by_phone = profile(hub, "phone", phone)["customer"]["id"]
        by_openid = profile(hub, "wechat", openid, "wechat-oa")["customer"]["id"]
        assert by_phone != by_openid
        status, merged = hub.request("POST", f"/v1/customers/{by_phone}/merge", {"customerId": by_openid})
        assert status == 200, merged
        assert profile(hub, "wechat", openid, "wechat-oa")["customer"]["id"] == by_phone

        # The agent sees one customer, both channels, one timeline.
        alice = Agent(hub, hub.login("alice"))
        await alice.connect()
        await alice.call({"type": "presence.set", "presence": "available"})
        offer = await alice.wait_for(
            lambda f: f.get("kind") == "offer.created" and f["screenPop"]["conversation"]["channelKind"] == "wechat"
            and f["screenPop"]["customer"]["customer"]["id"] == by_phone, timeout=30)
        pop = offer["screenPop"]
        texts = [e["data"]["text"] for e in pop["timeline"] if e["kind"] == "message.received"]
        assert "我的快递丢了" in texts and "我是刚才发短信的那位，快递丢了" in texts
        assert {h["kind"] for h in pop["customer"]["handles"]} >= {"phone", "wechat"}
        conversation = offer["data"]["conversationId"]
        await alice.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        await alice.wait_for(kind("routing.assigned"))

        # The follower unfollows: WeChat is closed to them, so the reply goes out by SMS, and says so.
        assert wechat.push(hub.wechat_url, wechat.event(openid, "unsubscribe")) == (200, b"success")
        handles = hub.request("GET", f"/v1/customers/{by_phone}/handles")[1]["items"]
        assert [h for h in handles if h["kind"] == "wechat"][0].get("optedOutAt")
        before = len(twilio.sends())
        wechat_before = len(wechat.sends())
        reply = await alice.call({"type": "message.send", "conversationId": conversation, "text": "已为您补发，单号 SF2026。"})
        assert reply["type"] == "ack", reply
        assert "metadata" in reply["message"], reply
        rerouted = reply["message"]["metadata"]["rerouted"]
        assert rerouted["fromChannel"] == "wechat" and rerouted["toChannel"] == "sms" and "opted out" in rerouted["reason"]
        assert await asyncio.to_thread(wait_until, lambda: len(twilio.sends()) == before + 1)
        assert twilio.sends()[-1]["To"] == phone and twilio.sends()[-1]["Body"] == "已为您补发，单号 SF2026。"
        assert len(wechat.sends()) == wechat_before, "WeChat was not attempted"
        timeline = hub.request("GET", f"/v1/customers/{by_phone}/timeline?limit=500")[1]["items"]
        queued = [e for e in timeline if e["kind"] == "message.queued"][-1]
        assert queued["data"]["metadata"]["rerouted"]["toChannelAccountId"] == "sms-twilio"
        # Following again reopens WeChat.
        assert wechat.push(hub.wechat_url, wechat.event(openid, "subscribe")) == (200, b"success")
        handles = hub.request("GET", f"/v1/customers/{by_phone}/handles")[1]["items"]
        assert not [h for h in handles if h["kind"] == "wechat"][0].get("optedOutAt")
        await alice.close()

    run(scenario())


def test_bad_pushes_are_refused_and_counted(hub, fakes):
    wechat = fakes[0]
    xml = wechat.message("oIntruder", "hi")

    def tamper_signature(query, body):
        return dict(query, msg_signature="0" * 40), body

    def tamper_ciphertext(query, body):
        return query, body.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[A", 1)

    def plain(query, body):
        return {k: v for k, v in query.items() if k not in ("encrypt_type", "msg_signature")}, xml

    def bad_xml(query, body):
        return query, "<xml><Encrypt>"

    assert wechat.push(hub.wechat_url, xml, tamper=tamper_signature)[0] == 403
    assert wechat.push(hub.wechat_url, xml, tamper=tamper_ciphertext)[0] == 403
    assert wechat.push(hub.wechat_url, xml, tamper=plain)[0] == 403
    assert wechat.push(hub.wechat_url, xml, timestamp=str(int(time.time()) - 3600))[0] == 403
    assert wechat.push(hub.wechat_url, xml, tamper=bad_xml)[0] == 400
    status, _ = hub.request("GET", "/v1/customers?handleKind=wechat&address=oIntruder&channelAccountId=wechat-oa")
    assert status == 404, "nothing was stored"
    channel = [c for c in hub.request("GET", "/v1/channels")[1]["items"] if c["id"] == "wechat-oa"][0]
    # Three bad signatures: the two above and the URL check's in test_url_verification.
    assert channel["rejections"] == {"invalid_signature": 3, "encryption_required": 1, "stale_timestamp": 1, "malformed_body": 1}, channel

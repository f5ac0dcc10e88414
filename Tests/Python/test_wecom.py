"""WeCom customer service (微信客服) end to end: a fake WeCom over real HTTP whose callbacks are
encrypted and signed by wechatpy, the real hub pulling the waiting messages, an agent over the
WebSocket inbox, and the reply going out through kf/send_msg."""

import asyncio
import time

import pytest

from conftest import channel_hub
from fake_wecom import AES_KEY, CORP_ID, KF_SECRET, OPEN_KFID, TOKEN, FakeWeCom
from inbox_client import Agent, kind, run


@pytest.fixture(scope="module")
def wecom():
    fake = FakeWeCom()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def hub(wecom):
    channel = f"""kind: wecom
id: wecom-kf
queue: support
secrets: {{ token: E2E_WECOM_TOKEN, encodingAESKey: E2E_WECOM_AES, secret: E2E_WECOM_SECRET }}
options: {{ corpId: {CORP_ID}, openKfId: {OPEN_KFID}, apiBaseURL: "{wecom.base}" }}
delivery: {{ maxAttempts: 4, initialBackoff: 200ms, maxBackoff: 1s }}
"""
    environment = {"E2E_WECOM_TOKEN": TOKEN, "E2E_WECOM_AES": AES_KEY, "E2E_WECOM_SECRET": KF_SECRET}
    for running in channel_hub({"wecom-kf": channel}, environment):
        running.wecom_url = running.base + "/webhooks/wecom-kf"
        yield running


def test_url_check_answers_the_decrypted_echostr(hub, wecom):
    assert wecom.verify_url(hub.wecom_url) == (200, b"8023185917426812345")


def test_waiting_messages_reach_the_agent_and_the_reply_goes_out_through_send_msg(hub, wecom):
    async def scenario():
        bo = Agent(hub, hub.login("bo"))
        await bo.connect()
        await bo.call({"type": "presence.set", "presence": "available"})
        # Three messages wait (pages of two at the fake): one callback brings them all.
        for text in ("你好", "我买的耳机坏了", "能换一个吗？"):
            wecom.customer_writes("wmCustomer01", text)
        assert wecom.callback(hub.wecom_url) == (200, b"success")
        offer = await bo.wait_for(kind("offer.created"))
        conversation = offer["data"]["conversationId"]
        assert offer["screenPop"]["conversation"]["channelKind"] == "wecom"
        status, page = hub.request("GET", f"/v1/conversations/{conversation}/messages")
        assert [m["text"] for m in page["items"]] == ["你好", "我买的耳机坏了", "能换一个吗？"]
        # WeCom calls again for the same messages: nothing is stored twice.
        assert wecom.callback(hub.wecom_url) == (200, b"success")
        assert len(hub.request("GET", f"/v1/conversations/{conversation}/messages")[1]["items"]) == 3

        await bo.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        await bo.wait_for(kind("routing.assigned"))
        reply = await bo.call({"type": "message.send", "conversationId": conversation, "text": "可以的，请把订单号发给我。"})
        assert reply["type"] == "ack", reply
        deadline = time.time() + 20
        while time.time() < deadline and not wecom.sends():
            await asyncio.sleep(0.05)
        sent = wecom.sends()
        assert len(sent) == 1
        assert sent[0]["touser"] == "wmCustomer01" and sent[0]["open_kfid"] == OPEN_KFID
        assert sent[0]["msgtype"] == "text" and sent[0]["text"]["content"] == "可以的，请把订单号发给我。"
        assert sent[0]["msgid"] and len(sent[0]["msgid"]) <= 32
        await bo.wait_for(lambda f: f.get("kind") == "message.status" and f["data"]["status"] == "sent")
        await bo.call({"type": "presence.set", "presence": "offline"})
        await bo.close()

    run(scenario())


def test_bad_callbacks_are_refused_and_counted(hub, wecom):
    def tamper_signature(query, body):
        return dict(query, msg_signature="0" * 40), body

    def stale(query, body):
        return dict(query, timestamp=str(int(time.time()) - 3600)), body

    assert wecom.callback(hub.wecom_url, tamper=tamper_signature)[0] == 403
    assert wecom.callback(hub.wecom_url, tamper=stale)[0] == 403
    channel = [c for c in hub.request("GET", "/v1/channels")[1]["items"] if c["id"] == "wecom-kf"][0]
    assert channel["rejections"] == {"invalid_signature": 1, "stale_timestamp": 1}, channel

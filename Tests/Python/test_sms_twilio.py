"""SMS end to end in Twilio's format: a fake Twilio over real HTTP signs webhooks with the `twilio`
package's RequestValidator and serves the Messages API; the hub stores the customer's SMS, an agent
answers over the WebSocket inbox, and the reply, its status callbacks, opt-outs and bad requests
all go through the real hub process."""

import asyncio
import time

import pytest

from conftest import channel_hub, free_port
from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, NUMBER, FakeTwilio
from hub_queries import messages, received_count
from inbox_client import Agent, kind, run

CUSTOMER = "+8613800138000"


@pytest.fixture(scope="module")
def twilio():
    fake = FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def sms_hub(twilio):
    port = free_port()
    public = f"http://127.0.0.1:{port}/webhooks/sms-twilio"
    channel = f"""kind: sms
id: sms-twilio
name: SMS (Twilio)
queue: support
defaultRegion: CN
secrets: {{ authToken: E2E_TWILIO_TOKEN }}
options:
  accountSid: {ACCOUNT_SID}
  from: "{NUMBER}"
  apiBaseURL: {twilio.base}
  publicURL: {public}
delivery: {{ maxAttempts: 4, initialBackoff: 200ms, maxBackoff: 1s }}
"""
    for hub in channel_hub({"sms-twilio": channel}, {"E2E_TWILIO_TOKEN": AUTH_TOKEN}, port=port):
        hub.sms_url = public
        yield hub


def test_an_sms_reaches_the_agent_and_the_reply_goes_out_through_the_messages_api(sms_hub, twilio):
    async def scenario():
        bo = Agent(sms_hub, sms_hub.login("bo"))
        await bo.connect()
        await bo.call({"type": "presence.set", "presence": "available"})

        status, body = twilio.inbound(sms_hub.sms_url, CUSTOMER, "你好，我上周的订单还没到，能帮我查一下吗？", "SM" + "a" * 32)
        assert status == 200 and body.startswith(b"<?xml") and b"<Response" in body, body
        offer = await bo.wait_for(kind("offer.created"))
        conversation = offer["data"]["conversationId"]
        pop = offer["screenPop"]
        assert pop["conversation"]["channelKind"] == "sms" and pop["conversation"]["channelAccountId"] == "sms-twilio", pop["conversation"]
        phone = [h for h in pop["customer"]["handles"] if h["kind"] == "phone"][0]
        assert phone["address"] == "+86138****8000", "the agent sees the number masked"

        # Twilio retries the webhook (a timeout on its side): stored once.
        status, _ = twilio.inbound(sms_hub.sms_url, CUSTOMER, "你好，我上周的订单还没到，能帮我查一下吗？", "SM" + "a" * 32)
        assert status == 200
        assert [m["text"] for m in messages(sms_hub, conversation)] == ["你好，我上周的订单还没到，能帮我查一下吗？"]

        await bo.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        await bo.wait_for(kind("routing.assigned"))
        # A long Chinese reply: several SMS segments, one message.
        text = "您好！已为您查询：订单 #20261202 已于今天上午从上海仓发出，预计两天内送达。" * 8
        assert 300 < len(text) <= 1600
        reply = await bo.call({"type": "message.send", "conversationId": conversation, "text": text, "clientMessageId": "sms-reply-1"})
        assert reply["type"] == "ack", reply
        deadline = time.time() + 20
        while time.time() < deadline and not twilio.sends():
            await asyncio.sleep(0.05)
        sent = twilio.sends()
        assert len(sent) == 1
        assert sent[0]["To"] == CUSTOMER and sent[0]["From"] == NUMBER and sent[0]["Body"] == text
        assert sent[0]["StatusCallback"].startswith(sms_hub.sms_url + "/status?delivery=dlv_")
        # The status callbacks (signed by Twilio's validator) move the message to delivered.
        await bo.wait_for(lambda f: f.get("kind") == "message.status" and f["data"]["status"] == "delivered")
        outbound = [m for m in messages(sms_hub, conversation) if m["direction"] == "outbound"]
        assert outbound[0]["deliveryStatus"] == "delivered"
        assert outbound[0]["providerMessageId"] == sent[0]["sid"]
        assert all(code == 200 for _, _, (code, _) in twilio.callbacks), twilio.callbacks

        # A reply longer than an SMS can carry is refused at once, with the reason.
        too_long = await bo.call({"type": "message.send", "conversationId": conversation, "text": "长" * 1601})
        assert too_long["type"] == "error" and "1600" in too_long["message"], too_long
        await bo.close()

    run(scenario())


def test_stop_opts_the_number_out_and_start_back_in(sms_hub, twilio):
    async def scenario():
        customer = "+8613900139000"
        status, _ = twilio.inbound(sms_hub.sms_url, customer, "我要投诉", "SM" + "b" * 32)
        assert status == 200
        status, found = sms_hub.request("GET", f"/v1/customers?handleKind=phone&address={customer.replace('+', '%2B')}")
        assert status == 200, found
        customer_id = found["customer"]["id"]
        status, conversations = sms_hub.request("GET", f"/v1/customers/{customer_id}/conversations")
        conversation = conversations["items"][0]["id"]

        status, _ = twilio.inbound(sms_hub.sms_url, customer, "退订", "SM" + "c" * 32)
        assert status == 200
        status, handles = sms_hub.request("GET", f"/v1/customers/{customer_id}/handles")
        phone = [h for h in handles["items"] if h["kind"] == "phone"][0]
        assert phone.get("optedOutAt"), handles
        status, timeline = sms_hub.request("GET", f"/v1/customers/{customer_id}/timeline")
        consent = [e for e in timeline["items"] if e["kind"] == "handle.consent"]
        assert len(consent) == 1 and consent[0]["data"]["optedOut"] is True and consent[0]["data"]["keyword"] == "退订"

        # Nobody may text an opted-out number; the reason is given.
        status, answer = sms_hub.request("POST", f"/v1/conversations/{conversation}/messages", {"text": "您好"})
        assert status == 409 and "opted out" in answer["error"]["message"], answer

        status, _ = twilio.inbound(sms_hub.sms_url, customer, "START", "SM" + "d" * 32)
        status, handles = sms_hub.request("GET", f"/v1/customers/{customer_id}/handles")
        assert not [h for h in handles["items"] if h["kind"] == "phone"][0].get("optedOutAt")
        before = len(twilio.sends())
        status, answer = sms_hub.request("POST", f"/v1/conversations/{conversation}/messages", {"text": "欢迎回来"})
        assert status in (200, 201, 202), answer
        deadline = time.time() + 20
        while time.time() < deadline and len(twilio.sends()) == before:
            await asyncio.sleep(0.05)
        assert twilio.sends()[-1]["Body"] == "欢迎回来" and twilio.sends()[-1]["To"] == customer

    run(scenario())


def test_undelivered_and_throttled_messages(sms_hub, twilio):
    async def scenario():
        customer = "+8613700137000"
        twilio.undeliverable.add(customer)
        status, _ = twilio.inbound(sms_hub.sms_url, customer, "在吗", "SM" + "e" * 32)
        status, found = sms_hub.request("GET", f"/v1/customers?handleKind=phone&address={customer.replace('+', '%2B')}")
        customer_id = found["customer"]["id"]
        status, conversations = sms_hub.request("GET", f"/v1/customers/{customer_id}/conversations")
        conversation = conversations["items"][0]["id"]
        # Twilio answers the first attempt with 429 Retry-After: 1; the hub waits and tries again.
        twilio.throttle = 1
        status, answer = sms_hub.request("POST", f"/v1/conversations/{conversation}/messages", {"text": "在的，请讲"})
        assert status in (200, 201, 202), answer
        message_id = answer["message"]["id"] if "message" in answer else answer["id"]
        deadline = time.time() + 30
        final = None
        while time.time() < deadline:
            final = [m for m in messages(sms_hub, conversation) if m["id"] == message_id][0]
            if final.get("deliveryStatus") == "failed":
                break
            await asyncio.sleep(0.1)
        assert final["deliveryStatus"] == "failed" and "30003" in final["deliveryError"], final
        assert (429, 20429) in twilio.refused
        assert len([s for s in twilio.sends() if s["To"] == customer]) == 1, "sent once after the 429"

    run(scenario())


def test_bad_webhooks_are_refused_counted_and_store_nothing(sms_hub, twilio):
    before = received_count(sms_hub)
    url = sms_hub.sms_url
    params = {"MessageSid": "SM" + "f" * 32, "AccountSid": ACCOUNT_SID, "From": "+8613600136000", "To": NUMBER, "Body": "hi",
              "NumMedia": "0"}
    good = twilio.validator.compute_signature(url, params)
    # A signature over other content, none at all, another token, a replay to another URL.
    tampered = dict(params, Body="hi!")
    assert twilio.post_signed(url, tampered, signature=good)[0] == 403
    assert twilio.post_signed(url, params, signature="")[0] == 403
    other = FakeTwilio(auth_token="another-token")
    assert other.inbound(url, "+8613600136000", "hi", "SM" + "f" * 32)[0] == 403
    other.close()
    assert twilio.post_signed(url + "/status", params, signature=good)[0] == 403
    # Malformed bodies and a body over the hub's limit.
    assert twilio.post_signed(url, params, body=b"From=%ZZ&Body=x")[0] == 400
    assert twilio.post_signed(url, params, body=b'{"Body": "x"}', content_type="application/json")[0] == 415
    status, answer = twilio.post_signed(url, params, body=b"Body=" + b"x" * (2 << 20))
    assert status == 413, (status, answer)
    # Another Twilio account's (correctly signed) webhook.
    assert twilio.post_signed(url, dict(params, AccountSid="AC" + "9" * 32))[0] == 403
    assert received_count(sms_hub) == before, "nothing was stored"

    status, channels = sms_hub.request("GET", "/v1/channels")
    assert status == 200
    sms = [c for c in channels["items"] if c["id"] == "sms-twilio"][0]
    assert sms["active"] is True and sms["kind"] == "sms" and sms["secrets"] == ["authToken"]
    assert AUTH_TOKEN not in str(channels)
    rejected = sms["rejections"]
    assert rejected.get("invalid_signature") == 3 and rejected.get("missing_signature") == 1, rejected
    assert rejected.get("malformed_body") == 1 and rejected.get("unsupported_media_type") == 1, rejected
    assert rejected.get("body_too_large") == 1 and rejected.get("wrong_account") == 1, rejected
    # Agents may not read the channel configuration.
    status, _ = sms_hub.request("GET", "/v1/channels", token=sms_hub.login("carol"))
    assert status == 403


PNG = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + bytes(range(200))


def test_mms_media_are_fetched_into_the_hub_and_served_to_those_who_may_read_them(sms_hub, twilio):
    """Twilio's media URLs need the account's credentials and expire: the hub keeps its own copy,
    checked by its first bytes; a program sent as a picture is refused with the reason."""
    media = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM{'4' * 32}/Media/ME{'1' * 32}"
    fake = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM{'4' * 32}/Media/ME{'2' * 32}"
    twilio.media[media] = ("image/png", PNG)
    twilio.media[fake] = ("image/jpeg", b"MZ\x90\x00 a Windows program")
    status, _ = twilio.inbound(sms_hub.sms_url, "+8613600136001", "", "MM" + "4" * 32,
                               media=[(twilio.base + media, "image/png"), (twilio.base + fake, "image/jpeg")])
    assert status == 200
    status, found = sms_hub.request("GET", "/v1/customers?handleKind=phone&address=%2B8613600136001")
    customer = found["customer"]["id"]
    conversation = sms_hub.request("GET", f"/v1/customers/{customer}/conversations")[1]["items"][0]["id"]

    def attachments():
        return messages(sms_hub, conversation)[0]["attachments"]

    deadline = time.time() + 30
    while time.time() < deadline and any(a.get("status") == "pending" for a in attachments()):
        time.sleep(0.1)
    first, second = attachments()
    assert first["status"] == "stored" and first["reference"].startswith("blob:sha256:"), first
    assert first["contentType"] == "image/png" and first["byteCount"] == len(PNG) and first["source"] == twilio.base + media
    assert second["status"] == "refused" and "executable" in second["problem"], second
    assert all(authorized for _, authorized in twilio.media_fetches), "media are fetched with the account's basic auth"

    message = messages(sms_hub, conversation)[0]["id"]
    status, body = sms_hub.request("GET", f"/v1/messages/{message}/attachments/0", raw=True)
    assert status == 200 and body == PNG
    status, error = sms_hub.request("GET", f"/v1/messages/{message}/attachments/1")
    assert status == 410 and "executable" in error["error"]["message"]
    # An agent who never served this customer cannot read it.
    status, _ = sms_hub.request("GET", f"/v1/messages/{message}/attachments/0", token=sms_hub.login("carol"))
    assert status == 404


"""Telegram end to end: a fake Bot API over real HTTP posts updates to the hub's webhook with the
secret token header and serves sendMessage; the hub stores the customer's message, an agent
answers over the WebSocket inbox, and the reply goes out as sendMessage. Flood control, a blocked
bot and bad requests go through the real hub process too, and the bot token never shows."""

import asyncio
import time

import pytest

from conftest import channel_hub
from fake_telegram import BOT_TOKEN, SECRET_TOKEN, FakeTelegram
from hub_queries import conversation_of, messages, received_count, wait_for_message
from inbox_client import Agent, kind, run

LI = {"id": 1111111, "first_name": "Li", "last_name": "Chen", "username": "li_c", "language_code": "zh-hans"}


@pytest.fixture(scope="module")
def telegram():
    fake = FakeTelegram()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def tg_hub(telegram):
    channel = f"""kind: telegram
id: tg-bot
name: Telegram bot
queue: support
secrets: {{ botToken: E2E_TELEGRAM_BOT_TOKEN, secretToken: E2E_TELEGRAM_SECRET }}
options:
  apiBaseURL: {telegram.base}
  botUsername: switchboard_e2e_bot
delivery: {{ maxAttempts: 4, initialBackoff: 200ms, maxBackoff: 1s }}
"""
    for hub in channel_hub({"tg-bot": channel}, {"E2E_TELEGRAM_BOT_TOKEN": BOT_TOKEN, "E2E_TELEGRAM_SECRET": SECRET_TOKEN}):
        hub.tg_url = hub.base + "/webhooks/tg-bot"
        yield hub


def test_a_telegram_message_reaches_the_agent_and_the_reply_goes_out_as_send_message(tg_hub, telegram):
    async def scenario():
        bo = Agent(tg_hub, tg_hub.login("bo"))
        await bo.connect()
        await bo.call({"type": "presence.set", "presence": "available"})

        update = telegram.message_update(LI, "我的订单还没到", 1365)
        status, _ = telegram.post_update(tg_hub.tg_url, update)
        assert status == 200
        offer = await bo.wait_for(kind("offer.created"))
        conversation = offer["data"]["conversationId"]
        pop = offer["screenPop"]
        assert pop["conversation"]["channelKind"] == "telegram" and pop["conversation"]["channelAccountId"] == "tg-bot", pop
        assert pop["customer"]["customer"]["name"] == "Li Chen", pop["customer"]
        assert any(h["kind"] == "telegram" for h in pop["customer"]["handles"]), pop["customer"]

        # Telegram delivers the update again (our answer was lost): stored once.
        assert telegram.post_update(tg_hub.tg_url, update)[0] == 200
        stored = messages(tg_hub, conversation)
        assert [m["text"] for m in stored] == ["我的订单还没到"]
        assert stored[0]["providerMessageId"] == "1111111:1365"

        await bo.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        await bo.wait_for(kind("routing.assigned"))
        reply = "工单 #1234 已解决，包裹明天送达。"
        answer = await bo.call({"type": "message.send", "conversationId": conversation, "text": reply, "clientMessageId": "tg-reply-1"})
        assert answer["type"] == "ack", answer
        deadline = time.time() + 20
        while time.time() < deadline and not telegram.sends():
            await asyncio.sleep(0.05)
        calls = [(method, body) for method, body, _ in telegram.calls]
        assert calls == [("sendMessage", {"chat_id": 1111111, "text": reply})], calls
        sent = telegram.sends()[0]
        await bo.wait_for(lambda f: f.get("kind") == "message.status" and f["data"]["status"] == "sent")
        outbound = [m for m in messages(tg_hub, conversation) if m["direction"] == "outbound"][0]
        assert outbound["deliveryStatus"] == "sent" and outbound["providerMessageId"] == "1111111:%d" % sent["message_id"], outbound
        await bo.close()

    run(scenario())


def test_flood_control_is_waited_out_and_the_reply_sent_once(tg_hub, telegram):
    async def scenario():
        customer = {"id": 2222222, "first_name": "Wang"}
        assert telegram.post_update(tg_hub.tg_url, telegram.message_update(customer, "在吗", 77))[0] == 200
        conversation = conversation_of(tg_hub, "telegram", 2222222)
        telegram.throttle = 1
        status, answer = tg_hub.request("POST", f"/v1/conversations/{conversation}/messages", {"text": "在的，请讲"})
        assert status in (200, 201, 202), answer
        message_id = answer["message"]["id"] if "message" in answer else answer["id"]
        final = await wait_for_message(tg_hub, conversation, lambda m: m["id"] == message_id and m.get("deliveryStatus") != "queued")
        assert final["deliveryStatus"] == "sent", final
        attempts = [(method, body, at) for method, body, at in telegram.calls if body.get("chat_id") == 2222222]
        assert [method for method, _, _ in attempts] == ["sendMessage", "sendMessage"], attempts
        assert attempts[1][2] - attempts[0][2] >= 0.95, "the retry waited for retry_after"
        assert len([m for m in telegram.sends() if m["chat"]["id"] == 2222222]) == 1, "sent once"
        assert ("sendMessage", 429, "Too Many Requests: retry after 1") in telegram.refused

    run(scenario())


def test_a_blocked_bot_fails_the_reply_with_the_reason_and_no_token(tg_hub, telegram):
    async def scenario():
        customer = {"id": 3333333, "first_name": "Zhao", "username": "zhao"}
        assert telegram.post_update(tg_hub.tg_url, telegram.message_update(customer, "退款", 5))[0] == 200
        conversation = conversation_of(tg_hub, "telegram", 3333333)
        # The customer blocks the bot: Telegram says so with my_chat_member (logged, nothing stored).
        blocked = {"update_id": 990001, "my_chat_member": {
            "chat": {"id": 3333333, "first_name": "Zhao", "type": "private"}, "from": dict(customer, is_bot=False), "date": int(time.time()),
            "old_chat_member": {"user": {"id": 7012345678, "is_bot": True, "first_name": "Switchboard"}, "status": "member"},
            "new_chat_member": {"user": {"id": 7012345678, "is_bot": True, "first_name": "Switchboard"}, "status": "kicked", "until_date": 0}}}
        assert telegram.post_update(tg_hub.tg_url, blocked)[0] == 200
        telegram.blocked.add(3333333)
        status, answer = tg_hub.request("POST", f"/v1/conversations/{conversation}/messages", {"text": "您的退款已处理"})
        assert status in (200, 201, 202), answer
        message_id = answer["message"]["id"] if "message" in answer else answer["id"]
        final = await wait_for_message(tg_hub, conversation, lambda m: m["id"] == message_id and m.get("deliveryStatus") == "failed")
        assert "bot was blocked by the user" in final["deliveryError"], final
        assert BOT_TOKEN not in final["deliveryError"] and BOT_TOKEN.split(":")[1] not in final["deliveryError"]
        assert [m["direction"] for m in messages(tg_hub, conversation)] == ["inbound", "outbound"]

    run(scenario())


def test_bad_webhooks_are_refused_counted_and_store_nothing(tg_hub, telegram):
    before = received_count(tg_hub)
    update = telegram.message_update({"id": 4444444, "first_name": "Eve"}, "hi", 1)
    assert telegram.post_update(tg_hub.tg_url, update, secret="hub-e2e_secret-tokeN")[0] == 403
    assert telegram.post_update(tg_hub.tg_url, update, secret=None)[0] == 403
    assert telegram.post_update(tg_hub.tg_url, update, secret="")[0] == 403
    assert telegram.post_update(tg_hub.tg_url, None, raw=b'{"update_id": 1, "message": ')[0] == 400
    # A group chat is not a conversation with one customer: answered 200 (or Telegram would retry) and ignored.
    group = telegram.message_update({"id": 4444444, "first_name": "Eve"}, "大家好", 2,
                                    chat={"id": -1001234567890, "title": "客户群", "type": "supergroup"})
    assert telegram.post_update(tg_hub.tg_url, group)[0] == 200
    assert received_count(tg_hub) == before, "nothing was stored"

    status, channels = tg_hub.request("GET", "/v1/channels")
    assert status == 200
    tg = [c for c in channels["items"] if c["id"] == "tg-bot"][0]
    assert tg["active"] is True and tg["kind"] == "telegram" and sorted(tg["secrets"]) == ["botToken", "secretToken"]
    assert BOT_TOKEN not in str(channels) and SECRET_TOKEN not in str(channels)
    rejected = tg["rejections"]
    assert rejected.get("invalid_secret_token") == 2 and rejected.get("missing_secret_token") == 1, rejected
    assert rejected.get("malformed_body") == 1, rejected
    with open(tg_hub.log_path) as log:
        text = log.read()
    assert BOT_TOKEN not in text and BOT_TOKEN.split(":")[1] not in text, "the bot token never reaches the log"

"""Tickets end to end: an agent opens a ticket over the WebSocket inbox on a conversation that came
in through the api channel; the same customer later asks about it on WeChat (a fake WeChat
platform over real HTTP) and gets its status there without an agent; a stranger who guesses the
number learns nothing; the ticket's history, comments and lifecycle over REST."""

import asyncio
import time

import pytest

from conftest import Provider, running_hub, wait_until
from fake_wechat import ENVIRONMENT, FakeWeChat
from fake_wechat import channel as wechat_channel
from inbox_client import Agent, kind, run


@pytest.fixture(scope="module")
def wechat():
    fake = FakeWeChat()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def provider():
    fake = Provider()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def hub(wechat, provider):
    channels = {
        "wechat-oa": wechat_channel(wechat.base),
    }
    for running in running_hub(provider, extra_channels=channels, environment=ENVIRONMENT):
        running.wechat_url = running.base + "/webhooks/wechat-oa"
        yield running


def sends_to(wechat, openid):
    return [send["body"]["text"]["content"] for send in wechat.sends() if send["body"]["touser"] == openid]


def test_a_ticket_opened_by_the_agent_is_followed_on_wechat_by_its_customer_only(hub, wechat):
    openid, stranger = "oTicketOwner01", "oStranger0001"

    async def scenario():
        bo = Agent(hub, hub.login("bo"))
        await bo.connect()
        await bo.call({"type": "presence.set", "presence": "available"})
        first = hub.customer_message("crm-t-1", "My router reboots every hour", "api-t-1")
        offer = await bo.wait_for(kind("offer.created"))
        assert offer["data"]["conversationId"] == first["conversationId"]
        await bo.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        await bo.wait_for(kind("routing.assigned"))
        opened = await bo.call({"type": "ticket.create", "conversationId": first["conversationId"], "subject": "Router reboots",
                                "priority": "high", "note": "firmware 2.1, asked for logs"})
        assert opened["type"] == "ack", opened
        ticket = opened["ticket"]
        assert ticket["status"] == "open" and ticket["assigneeId"] == "bo" and ticket["priority"] == "high"
        assert ticket["conversationIds"] == [first["conversationId"]] and ticket["channelAccountId"] == "api-demo"
        number = ticket["number"]
        await bo.call({"type": "ticket.update", "ticketId": ticket["id"], "status": "pending"})
        await bo.call({"type": "presence.set", "presence": "offline"})
        await bo.close()
        return ticket, number

    ticket, number = run(scenario())

    # The customer's WeChat is known to be theirs.
    status, _ = hub.request("POST", f"/v1/customers/{ticket['customerId']}/handles",
                            {"kind": "wechat", "address": openid, "channelAccountID": "wechat-oa"})
    assert status in (200, 201)

    # They ask on WeChat, in Chinese: the status comes back there, no agent involved.
    assert wechat.push(hub.wechat_url, wechat.message(openid, f"{number} 进度")) == (200, b"success")
    assert wait_until(lambda: len(sends_to(wechat, openid)) == 1), wechat.sends()
    answer = sends_to(wechat, openid)[0]
    assert answer.startswith(f"工单 {number}「Router reboots」：等待您的回复（更新于 "), answer
    # A question is not the answer a pending ticket waits for.
    status, current = hub.request("GET", f"/v1/tickets/{ticket['id']}")
    assert current["status"] == "pending"

    # A stranger who guesses the number hears what an unknown number gets.
    assert wechat.push(hub.wechat_url, wechat.message(stranger, number)) == (200, b"success")
    assert wechat.push(hub.wechat_url, wechat.message(stranger, "T-999999")) == (200, b"success")
    assert wait_until(lambda: len(sends_to(wechat, stranger)) == 2), wechat.sends()
    guessed, unknown = sends_to(wechat, stranger)
    assert guessed == f'We could not find ticket {number} on your account. Reply "status" to see your tickets.'
    assert unknown == 'We could not find ticket T-999999 on your account. Reply "status" to see your tickets.'
    assert "Router" not in guessed

    # Those questions opened conversations of their own (one, or two when the first was closed
    # before the second question came), answered and closed, in no queue.
    status, found = hub.request("GET", f"/v1/customers?handleKind=wechat&address={stranger}&channelAccountId=wechat-oa")
    assert status == 200, found

    def strangers_conversations():
        return [(c["status"], c.get("queueId")) for c in hub.request("GET", f"/v1/customers/{found['customer']['id']}/conversations")[1]["items"]]

    assert wait_until(lambda: set(strangers_conversations()) == {("closed", None)}), strangers_conversations()
    assert len(strangers_conversations()) in (1, 2)

    # The customer answers on WeChat in words: the pending ticket opens again, and the history says why.
    assert wechat.push(hub.wechat_url, wechat.message(openid, "日志已经发到邮箱了")) == (200, b"success")
    assert wait_until(lambda: hub.request("GET", f"/v1/tickets/{ticket['id']}")[1]["status"] == "open")
    status, history = hub.request("GET", f"/v1/tickets/{ticket['id']}/history")
    assert status == 200
    kinds = [event["kind"] for event in history["items"]]
    # The WeChat conversation joined the ticket that waited on the customer.
    assert kinds == ["ticket.created", "ticket.commented", "ticket.updated", "ticket.linked", "ticket.updated"], kinds
    reasons = [event["data"].get("reason") for event in history["items"] if event["kind"] == "ticket.updated"]
    assert reasons == [None, "the customer replied"]


def test_the_lifecycle_over_rest(hub):
    first = hub.customer_message("crm-t-2", "I was charged twice", "api-t-2")
    assert hub.request("POST", f"/v1/conversations/{first['conversationId']}/close")[0] == 200
    second = hub.customer_message("crm-t-2", "and again this month", "api-t-3")
    assert second["conversationId"] != first["conversationId"]
    status, ticket = hub.request("POST", "/v1/tickets", {"subject": "Double charge", "conversationIds": [first["conversationId"]]})
    assert status == 201, ticket
    assert ticket["status"] == "new" and ticket.get("assigneeId") is None
    status, duplicate = hub.request("POST", "/v1/tickets", {"subject": "Charged again", "customerId": first["customerId"]})
    assert status == 201

    status, refused = hub.request("PATCH", f"/v1/tickets/{ticket['id']}", {"status": "closed"})
    assert status == 409 and "only a solved ticket can be closed" in refused["error"]["message"]
    status, bad = hub.request("PATCH", f"/v1/tickets/{ticket['id']}", {"status": "done"})
    assert status in (400, 422), bad

    status, comment = hub.request("POST", f"/v1/tickets/{ticket['id']}/comments", {"body": "refund issued", "visibility": "public"})
    assert status == 201 and comment["visibility"] == "public"
    status, merged = hub.request("POST", f"/v1/tickets/{duplicate['id']}/merge", {"into": ticket["id"]})
    assert status == 200, merged
    assert merged["source"]["status"] == "closed" and merged["source"]["mergedIntoId"] == ticket["id"]
    status, linked = hub.request("POST", f"/v1/tickets/{ticket['id']}/conversations", {"conversationId": second["conversationId"]})
    assert status == 200 and linked["conversationIds"] == [first["conversationId"], second["conversationId"]], linked

    status, solved = hub.request("PATCH", f"/v1/tickets/{ticket['id']}", {"status": "solved", "priority": "urgent"})
    assert status == 200 and solved["status"] == "solved" and solved["solvedAt"]
    status, page = hub.request("GET", f"/v1/tickets?status=solved&customer={first['customerId']}")
    assert [t["id"] for t in page["items"]] == [ticket["id"]]
    status, by_number = hub.request("GET", f"/v1/tickets?number={ticket['number']}")
    assert by_number["items"][0]["id"] == ticket["id"]
    status, comments = hub.request("GET", f"/v1/tickets/{ticket['id']}/comments")
    assert [c["body"] for c in comments["items"]] == ["refund issued"]


def test_a_solved_ticket_is_told_once_on_its_own_channel_and_on_wechat_the_customer_chose(hub, wechat, provider):
    openid = "oTicketOwner03"
    first = hub.customer_message("crm-t-3", "The invoice PDF is empty", "api-t-4")
    status, ticket = hub.request("POST", "/v1/tickets", {"subject": "Empty invoice PDF", "conversationIds": [first["conversationId"]]})
    assert status == 201, ticket
    status, _ = hub.request("POST", f"/v1/customers/{ticket['customerId']}/handles",
                            {"kind": "wechat", "address": openid, "channelAccountID": "wechat-oa"})
    assert status in (200, 201)
    status, channels = hub.request("PUT", f"/v1/customers/{ticket['customerId']}/notification-channels",
                                   {"channels": [{"channelAccountId": "wechat-oa"}]})
    assert status == 200 and channels == {"channels": [{"channelAccountId": "wechat-oa", "subscribed": True}]}, channels
    status, refused = hub.request("PUT", f"/v1/customers/{ticket['customerId']}/notification-channels",
                                  {"channels": [{"channelAccountId": "sms-nowhere"}]})
    assert status == 422, refused

    # The customer checks on WeChat (which opens WeChat's 48-hour window for the hub).
    assert wechat.push(hub.wechat_url, wechat.message(openid, "status")) == (200, b"success")
    assert wait_until(lambda: len(sends_to(wechat, openid)) == 1), wechat.sends()
    assert sends_to(wechat, openid)[0].startswith(f'Your tickets:\n{ticket["number"]} "Empty invoice PDF": received, waiting for an agent')

    def told_by_api():
        return [r["body"]["text"] for r in provider.replies() if r["body"]["to"]["address"] == "crm-t-3"]

    status, solved = hub.request("PATCH", f"/v1/tickets/{ticket['id']}", {"status": "solved"})
    assert status == 200, solved
    text = f'Ticket {ticket["number"]} "Empty invoice PDF" is solved. If it is not, reply within 7 days.'
    assert wait_until(lambda: len(told_by_api()) == 1 and len(sends_to(wechat, openid)) == 2), (told_by_api(), wechat.sends())
    assert told_by_api() == [text]
    assert sends_to(wechat, openid)[1] == text
    # Exactly one each: nothing more arrives.
    time.sleep(1.5)
    assert told_by_api() == [text] and len(sends_to(wechat, openid)) == 2


def test_notifications_of_500_changes_go_out_once_each_across_a_kill(hub, provider):
    """The hub is SIGKILLed while it tells the customer about 500 status changes (the integration
    answers slowly, so most are still to go); after the restart every change has reached the
    integration under its own idempotency key, and no key twice except the one delivery that was
    on the wire at the kill (which the key lets the integration recognize)."""
    first = hub.customer_message("crm-kill", "Please keep me posted", "api-kill-1")
    status, ticket = hub.request("POST", "/v1/tickets", {"subject": "Kept posted", "conversationIds": [first["conversationId"]]})
    assert status == 201

    def mine():
        return [r for r in provider.replies() if r["body"]["to"]["address"] == "crm-kill"]

    provider.delay = 0.02
    try:
        for index in range(500):
            status, _ = hub.request("PATCH", f"/v1/tickets/{ticket['id']}", {"status": "pending" if index % 2 == 0 else "open"})
            assert status == 200
        assert wait_until(lambda: len(mine()) >= 60, timeout=60)
        before = len({r["key"] for r in mine()})
        assert before < 500, "everything went out before the kill: the test proves nothing"
        hub.kill_and_restart()
        assert wait_until(lambda: len({r["key"] for r in mine()}) >= 500, timeout=120), len(mine())
        time.sleep(1)
    finally:
        provider.delay = 0.0
    received = mine()
    keys = [r["key"] for r in received]
    assert len(set(keys)) == 500
    assert all(key.startswith("ticket-notify:") and key.endswith(":origin") for key in keys)
    assert len(keys) - len(set(keys)) <= 1, sorted(k for k in set(keys) if keys.count(k) > 1)
    texts = [r["body"]["text"] for r in received]
    assert texts.count(f'We need your reply on ticket {ticket["number"]} "Kept posted": just answer this message.') >= 250

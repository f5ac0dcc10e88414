"""Read-only questions the channels' end-to-end tests ask the running hub's REST API."""

import asyncio
import time


def messages(hub, conversation):
    """A conversation's messages, oldest first."""
    status, page = hub.request("GET", f"/v1/conversations/{conversation}/messages")
    assert status == 200, page
    return page["items"]


def received_count(hub):
    """How many customer messages the hub has stored (message.received events)."""
    status, page = hub.request("GET", "/v1/events?limit=1000")
    assert status == 200, page
    return len([e for e in page["items"] if e["kind"] == "message.received"])


def conversation_of(hub, kind, address):
    """The conversation of the customer with a global handle (telegram, phone, e-mail)."""
    status, found = hub.request("GET", f"/v1/customers?handleKind={kind}&address={address}")
    assert status == 200, found
    status, conversations = hub.request("GET", f"/v1/customers/{found['customer']['id']}/conversations")
    assert status == 200, conversations
    return conversations["items"][0]["id"]


async def wait_for_message(hub, conversation, predicate, timeout=30):
    """Polls until a message of the conversation satisfies `predicate`; returns it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for message in messages(hub, conversation):
            if predicate(message):
                return message
        await asyncio.sleep(0.05)
    raise AssertionError("no such message in %s" % messages(hub, conversation))


def wait_for_spool(hub, timeout=30):
    """Waits until the hub has threaded every mail its SMTP listener accepted (the spool is empty)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, spool = hub.request("GET", "/v1/mail/spool")
        assert status == 200, spool
        if spool["waiting"] == 0:
            return
        time.sleep(0.02)
    raise AssertionError("mail still waiting in the spool: %s" % spool)

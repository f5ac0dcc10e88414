"""The agents' inbox end to end: the real hub, a real WebSocket client (the `websockets` package),
the `api` channel in and out through a fake provider over real HTTP."""

import asyncio
import json
import time

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from inbox_client import Agent, kind, run


def offered_conversation(hub, agent_events_frame):
    return agent_events_frame["data"]["conversationId"]


async def assigned_conversation(hub, bo, user, text, message_id):
    """A customer writes; bo is offered the conversation and accepts it."""
    bo.events.clear()
    hub.customer_message(user, text, message_id)
    offer = await bo.wait_for(kind("offer.created"))
    await bo.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
    await bo.wait_for(kind("routing.assigned"))
    return offer


def test_offer_with_screen_pop_accept_reply_wrapup(hub, provider):
    async def scenario():
        # Earlier, the customer texted from their phone (no agent was in): that conversation closed.
        sms = hub.customer_message("138 0013 8000", "上周的订单还没到", "sms-1", account="sms-bridge", kind="phone")
        status, _ = hub.request("POST", f"/v1/conversations/{sms['conversationId']}/close")
        assert status == 200
        # The integration knows its user crm-1001 is the same person.
        status, _ = hub.request("POST", f"/v1/customers/{sms['customerId']}/handles",
                                {"kind": "api", "address": "crm-1001", "channelAccountID": "api-demo"})
        assert status in (200, 201)

        bo = Agent(hub, hub.login("bo"))
        welcome = await bo.connect()
        assert welcome["type"] == "welcome" and welcome["state"]["agent"]["id"] == "bo"
        presence = await bo.call({"type": "presence.set", "presence": "available"})
        assert presence["type"] == "ack" and presence["routing"]["presence"]["state"] == "available"

        # Now the customer writes through the api channel: bo is offered it, with a screen pop.
        hub.customer_message("crm-1001", "你好，我的订单在哪里？", "api-1")
        offer = await bo.wait_for(kind("offer.created"))
        assert offer["seq"] > welcome["sequence"]
        pop = offer["screenPop"]
        assert pop["customer"]["customer"]["id"] == sms["customerId"]
        texts = [entry["data"].get("text") for entry in pop["timeline"] if entry["kind"] == "message.received"]
        assert "上周的订单还没到" in texts, "the earlier SMS is in the screen pop"
        channels = {entry["data"].get("channelAccountId") for entry in pop["timeline"] if entry["kind"] == "message.received"}
        assert channels == {"sms-bridge", "api-demo"}
        phone = [h for h in pop["customer"]["handles"] if h["kind"] == "phone"][0]
        assert phone["address"] == "+86138****8000" and phone["masked"] is True
        assert "13800138000" not in json.dumps(pop)
        assert pop["offer"]["explanation"]["queue"] == "support"
        assert any(option["current"] for option in pop["replyChannels"])

        accepted = await bo.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        assert accepted["type"] == "ack"
        await bo.wait_for(kind("routing.assigned"))
        conversation = offer["data"]["conversationId"]

        reply = await bo.call({"type": "message.send", "conversationId": conversation, "text": "您好，订单已发货。",
                               "clientMessageId": "reply-1"})
        assert reply["type"] == "ack" and reply["deliveryId"]
        again = await bo.call({"type": "message.send", "conversationId": conversation, "text": "您好，订单已发货。",
                               "clientMessageId": "reply-1"})
        assert again["duplicate"] is True
        deadline = time.time() + 20
        while time.time() < deadline and not provider.replies():
            await asyncio.sleep(0.05)
        replies = provider.replies()
        assert len(replies) == 1
        assert replies[0]["signed"] and replies[0]["body"]["text"] == "您好，订单已发货。"
        assert replies[0]["body"]["to"]["address"] == "crm-1001"
        # The delivery's progress reaches the agent.
        await bo.wait_for(lambda f: f.get("kind") == "message.status" and f["data"]["status"] == "sent")

        note = await bo.call({"type": "note.add", "conversationId": conversation, "text": "VIP, be quick"})
        assert note["message"]["visibility"] == "note"

        closed = await bo.call({"type": "conversation.close", "conversationId": conversation})
        assert closed["conversation"]["status"] == "closed"
        await bo.wait_for(lambda f: f.get("kind") == "agent.wrapup" and f["data"]["state"] == "started")
        status, routing = hub.request("GET", "/v1/agents/bo/routing")
        assert routing["wrapUps"] == [conversation]
        wrapped = await bo.call({"type": "conversation.wrapup", "conversationId": conversation, "disposition": "resolved",
                                 "notes": "order shipped"})
        assert wrapped["type"] == "ack"
        await bo.wait_for(lambda f: f.get("kind") == "agent.wrapup" and f["data"]["state"] == "ended")
        status, routing = hub.request("GET", "/v1/agents/bo/routing")
        assert routing["wrapUps"] == [] and routing["load"]["messaging"] == 0, "wrap-up freed the agent"
        await bo.close()

    run(scenario())


def test_resume_gets_exactly_the_missed_events(hub):
    async def scenario():
        bo = Agent(hub, hub.login("bo"))
        await bo.connect()
        await bo.call({"type": "presence.set", "presence": "available"})
        offer = await assigned_conversation(hub, bo, "crm-2002", "first", "resume-0")
        last = max(frame["seq"] for frame in bo.events if frame.get("type") == "event")
        await bo.close()

        # While bo is away, the customer writes 100 times: 100 events for bo.
        for index in range(100):
            hub.customer_message("crm-2002", "message %d" % index, "resume-%d" % (index + 1))
        status, log = hub.request("GET", f"/v1/events?after={last}&limit=1000")
        expected = [event["sequence"] for event in log["items"] if event["refs"].get("agentId") == "bo"
                    and not event["kind"].startswith(("audit.", "delivery."))]
        assert len(expected) == 100

        again = Agent(hub, bo.token)
        welcome = await again.connect(resume_from=last)
        assert welcome["sequence"] == last
        deadline = time.time() + 20
        while time.time() < deadline and len(again.events) < 100:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)  # anything more would be a duplicate
        received = [frame["seq"] for frame in again.events if frame.get("type") == "event"]
        assert received == expected, "exactly the 100 missed events, in order, once each"
        assert all(frame["kind"] == "message.received" for frame in again.events)
        assert all(frame["refs"]["conversationId"] == offer["data"]["conversationId"] for frame in again.events)
        await again.close()

    run(scenario())


def test_permissions_masking_and_audit(hub):
    async def scenario():
        bo = Agent(hub, hub.login("bo"))
        await bo.connect()
        await bo.call({"type": "presence.set", "presence": "available"})
        offer = await assigned_conversation(hub, bo, "crm-3003", "hello", "perm-1")
        conversation = offer["data"]["conversationId"]
        customer = offer["screenPop"]["customer"]["customer"]["id"]
        await bo.close()

        carol = Agent(hub, hub.login("carol"))
        await carol.connect()
        for frame in ({"type": "conversation.open", "conversationId": conversation},
                      {"type": "customer.timeline", "customerId": customer},
                      {"type": "message.send", "conversationId": conversation, "text": "not mine"}):
            answer = await carol.call(frame)
            assert answer["type"] == "error" and answer["code"] == "not_found", answer
        refused = await carol.call({"type": "contact.reveal", "customerId": customer, "handleId": "hdl_x"})
        assert refused["code"] == "forbidden"
        status, answer = hub.request("GET", f"/v1/customers/{customer}", token=carol.token)
        assert status == 404
        await carol.close()

        # Every profile view is audited: the screen pop and the open of the conversation.
        status, log = hub.request("GET", "/v1/events?limit=1000")
        views = [event for event in log["items"] if event["kind"] == "audit.profile_viewed"
                 and event["refs"].get("customerId") == customer]
        assert any(event["actor"] == {"kind": "agent", "id": "bo"} and event["payload"]["via"] == "screen pop" for event in views)
        assert all(event["payload"]["masked"] is True for event in views if event["actor"].get("kind") == "agent")

    run(scenario())


def test_bad_input_gets_clear_errors_and_close_codes(hub):
    async def scenario():
        token = hub.login("alice")
        agent = Agent(hub, token)
        ws = await websockets.connect(f"{hub.ws_base}/v1/agent/ws?access_token={token}", max_size=None)
        await ws.send(json.dumps({"type": "presence.set", "id": "early", "presence": "available"}))
        assert json.loads(await ws.recv())["code"] == "hello_required"
        await ws.send("{not json")
        assert json.loads(await ws.recv())["code"] == "invalid_json"
        await ws.send(json.dumps([1, 2]))
        assert json.loads(await ws.recv())["code"] == "invalid_json"
        await ws.send(json.dumps({"id": "x"}))
        assert json.loads(await ws.recv())["code"] == "invalid_request"
        await ws.send(json.dumps({"type": "hello", "id": "h"}))
        assert json.loads(await ws.recv())["type"] == "welcome"
        await ws.send(json.dumps({"type": "teleport", "id": "t"}))
        answer = json.loads(await ws.recv())
        assert answer == {"type": "error", "id": "t", "code": "unknown_type", "message": "unknown frame type 'teleport'"}
        await ws.send(b"\x00\x01")
        assert json.loads(await ws.recv())["code"] == "unsupported_frame"
        await ws.send(json.dumps({"type": "offer.accept", "id": "o"}))
        assert json.loads(await ws.recv())["code"] == "invalid_request"
        await ws.send(json.dumps({"type": "hello", "id": "h2"}))
        assert json.loads(await ws.recv())["code"] == "conflict"
        # Too large: the connection closes with 1009 (message too big).
        await ws.send(json.dumps({"type": "ping", "id": "big", "pad": "x" * 200_000}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

        # Unknown and revoked tokens never get a session: an error frame, then close code 4401.
        async def refused_with(token):
            ws = await websockets.connect(f"{hub.ws_base}/v1/agent/ws?access_token={token}")
            frame = json.loads(await ws.recv())
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            return frame, closed.value.rcvd.code

        frame, code = await refused_with("sbt_forged")
        assert frame["type"] == "error" and frame["code"] == "unauthorized" and code == 4401
        # Logging out elsewhere ends an open connection at once.
        live = await websockets.connect(f"{hub.ws_base}/v1/agent/ws?access_token={token}")
        await live.send(json.dumps({"type": "hello", "id": "h"}))
        assert json.loads(await live.recv())["type"] == "welcome"
        status, _ = hub.request("POST", "/v1/auth/logout", token=token)
        assert status == 204
        ended = None
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                frame = json.loads(await asyncio.wait_for(live.recv(), 10))
                if frame.get("type") == "error":
                    ended = frame
        assert ended["code"] == "unauthorized" and closed.value.rcvd.code == 4401
        frame, code = await refused_with(token)
        assert frame["code"] == "unauthorized" and code == 4401
        # The admin token is not an agent.
        frame, code = await refused_with("admin-token-e2e")
        assert frame["code"] == "forbidden" and code == 4403
        # Without any token, plain HTTP is refused too.
        status, answer = hub.request("GET", "/v1/conversations", token=None)
        assert status == 401 and answer["error"]["code"] == "unauthorized"

        # The hub is still well.
        status, _ = hub.request("GET", "/healthz", token=None)
        assert status == 200

    run(scenario())


def test_two_tabs_transfer_and_supervisor_view(hub):
    async def scenario():
        # bo works from two tabs: both see the offer; accepting in one settles it in both.
        token = hub.login("bo")
        first, second = Agent(hub, token), Agent(hub, token)
        await first.connect()
        await second.connect()
        await first.call({"type": "presence.set", "presence": "available"})
        alice = Agent(hub, hub.login("alice"))
        await alice.connect()
        hub.customer_message("crm-5005", "two tabs", "tabs-1")
        offer_one = await first.wait_for(kind("offer.created"))
        offer_two = await second.wait_for(kind("offer.created"))
        assert offer_one["data"]["offerId"] == offer_two["data"]["offerId"]
        await second.call({"type": "offer.accept", "offerId": offer_two["data"]["offerId"]})
        await first.wait_for(kind("routing.assigned"))
        await second.wait_for(kind("routing.assigned"))
        conversation = offer_one["data"]["conversationId"]

        # The supervisor sees bo's offer and assignment live, and the queues and agents on request.
        await alice.wait_for(lambda f: f.get("kind") == "routing.assigned" and f["refs"]["conversationId"] == conversation)
        snapshot = await alice.call({"type": "supervisor.snapshot"})
        assert {queue["id"] for queue in snapshot["queues"]} == {"support", "billing", "quick"}
        bo_state = [agent for agent in snapshot["agents"] if agent["id"] == "bo"][0]
        assert conversation in bo_state["assigned"]
        # Monitoring: the conversation's messages reach her too.
        await alice.call({"type": "supervisor.monitor", "conversationId": conversation})
        hub.customer_message("crm-5005", "are you there?", "tabs-2")
        await alice.wait_for(lambda f: f.get("kind") == "message.received" and f["data"]["text"] == "are you there?")
        # An agent may not monitor.
        refused = await first.call({"type": "supervisor.monitor", "conversationId": conversation})
        assert refused["code"] == "forbidden"

        # bo transfers it to billing with a note; carol, who serves billing, is offered it.
        carol = Agent(hub, hub.login("carol"))
        await carol.connect()
        await carol.call({"type": "presence.set", "presence": "available"})
        moved = await first.call({"type": "conversation.transfer", "conversationId": conversation, "queue": "billing",
                                  "note": "invoice question"})
        assert moved["type"] == "ack"
        offer = await carol.wait_for(kind("offer.created"))
        assert offer["data"]["conversationId"] == conversation
        notes = [entry for entry in offer["screenPop"]["timeline"] if entry["kind"] == "message.noted"]
        assert notes and notes[-1]["data"]["text"] == "Transfer: invoice question"
        await carol.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        # bo hears that it is no longer his.
        taken = await first.wait_for(lambda f: f.get("kind") == "conversation.updated"
                                     and f["data"].get("previousAssigneeId") == "bo")
        assert taken["data"]["conversation"]["assigneeId"] == "carol"
        for agent in (first, second, alice, carol):
            await agent.close()

    run(scenario())


def test_rest_lists_page_by_key_and_agents_list_only_their_customers(hub):
    # Three conversations of one customer, one after the other.
    conversations = []
    for number in range(3):
        answer = hub.customer_message("page-1", f"question {number}", f"page-1-{number}")
        conversations.append(answer["conversationId"])
        status, _ = hub.request("POST", f"/v1/conversations/{answer['conversationId']}/close")
        assert status == 200
    customer = answer["customerId"]
    assert len(set(conversations)) == 3

    # Followed one item at a time, the pages give each conversation once, newest first, then end.
    seen, after = [], None
    for _ in range(10):
        path = f"/v1/customers/{customer}/conversations?limit=1" + (f"&after={after}" if after else "")
        status, page = hub.request("GET", path)
        assert status == 200, page
        seen += [item["id"] for item in page["items"]]
        after = page.get("next")
        if after is None:
            break
    assert seen == list(reversed(conversations))
    status, answer = hub.request("GET", f"/v1/customers/{customer}/conversations?after=not-a-cursor")
    assert status == 422 and "after" in answer["error"]["message"]

    # The customer list, two at a time: everyone once for an admin.
    listed, after = [], None
    for _ in range(1000):
        status, page = hub.request("GET", "/v1/customers?limit=2" + (f"&after={after}" if after else ""))
        assert status == 200, page
        listed += [item["id"] for item in page["items"]]
        after = page.get("next")
        if after is None:
            break
    assert len(listed) == len(set(listed)) and customer in listed
    assert listed == sorted(listed)

    # Carol serves billing only: the support customer is not in her list, and every customer
    # that is opens for her.
    carol = hub.login("carol")
    status, page = hub.request("GET", "/v1/customers?limit=1000", token=carol)
    assert status == 200
    assert customer not in [item["id"] for item in page["items"]]
    for item in page["items"]:
        assert hub.request("GET", f"/v1/customers/{item['id']}", token=carol)[0] == 200
    # ...and once it waits in billing, it is.
    waiting = hub.customer_message("page-1", "anyone in billing?", "page-1-3")["conversationId"]
    status, answer = hub.request("POST", f"/v1/conversations/{waiting}/transfer", {"queue": "billing"})
    assert status == 200, answer
    status, page = hub.request("GET", "/v1/customers?limit=1000", token=carol)
    assert customer in [item["id"] for item in page["items"]]
    assert hub.request("GET", f"/v1/customers/{customer}", token=carol)[0] == 200


def test_agents_and_queues_live_page_by_id(hub):
    for path, expected in (("/v1/routing/agents", ["alice", "bo", "carol", "dana"]), ("/v1/routing/queues", ["billing", "quick", "support"])):
        ids, after = [], None
        for _ in range(10):
            status, page = hub.request("GET", f"{path}?limit=1" + (f"&after={after}" if after else ""))
            assert status == 200, page
            ids += [item["id"] for item in page["items"]]
            after = page.get("next")
            if after is None:
                break
        assert ids == expected, path
    status, answer = hub.request("GET", "/v1/routing/agents?limit=0")
    assert status == 422


def test_an_offer_left_unanswered_expires_and_a_declined_one_ends_on_the_agents_screen(hub):
    async def scenario():
        dana = Agent(hub, hub.login("dana"))
        await dana.connect()
        await dana.call({"type": "presence.set", "presence": "available"})
        # Unanswered: the queue's offer timeout is 2 s.
        hub.customer_message("quick-1", "hello?", "quick-1", account="api-quick")
        first = await dana.wait_for(kind("offer.created"))
        assert first["data"]["expiresAt"]
        ended = await dana.wait_for(lambda f: f.get("kind") == "offer.ended" and f["data"]["offerId"] == first["data"]["offerId"])
        assert ended["data"]["reason"] == "expired", ended
        late = await dana.call({"type": "offer.accept", "offerId": first["data"]["offerId"]})
        assert late["type"] == "error", late
        # Declined: once her no-answer delay has passed she is offered again (the next customer
        # is waiting too); she declines.
        hub.customer_message("quick-2", "anyone?", "quick-2", account="api-quick")
        again = await dana.wait_for(lambda f: f.get("kind") == "offer.created" and f["data"]["offerId"] != first["data"]["offerId"])
        answer = await dana.call({"type": "offer.reject", "offerId": again["data"]["offerId"]})
        assert answer["type"] == "ack", answer
        declined = await dana.wait_for(lambda f: f.get("kind") == "offer.ended" and f["data"]["offerId"] == again["data"]["offerId"])
        assert declined["data"]["reason"] == "declined", declined
        await dana.close()

    run(scenario())

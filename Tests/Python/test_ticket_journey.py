"""The ticket's whole journey across channels, with real peers: a customer writes through the
`api` channel and an agent opens a ticket over the WebSocket inbox; the customer asks about it on
WeChat (a fake WeChat platform over real HTTP) and gets its status there; the agent solves it; the
customer hears once on WeChat and once by e-mail (an aiosmtpd relay), each with the satisfaction
survey, and answers the survey by SMS (a fake Twilio signing its webhooks). A low score given on
the survey's page reopens another ticket to the supervisors."""

import asyncio
import re
import time
import urllib.request

import pytest

from conftest import RULES, Provider, free_port, running_hub, wait_until
from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, NUMBER, FakeTwilio
from fake_wechat import ENVIRONMENT, FakeWeChat
from fake_wechat import channel as wechat_channel
from inbox_client import Agent, kind, run
from test_email import MAILBOX, Sink

PHONE = "+8613900139000"
OPENID = "oJourney000001"
MAIL = "li.na@customer.example.test"


@pytest.fixture(scope="module")
def peers():
    wechat, twilio, sink, provider = FakeWeChat(), FakeTwilio(), Sink(), Provider()
    yield wechat, twilio, sink, provider
    wechat.close()
    twilio.close()
    sink.close()
    provider.close()


@pytest.fixture(scope="module")
def hub(peers):
    wechat, twilio, sink, provider = peers
    port = free_port()
    sms_url = f"http://127.0.0.1:{port}/webhooks/sms-twilio"
    channels = {
        "wechat-oa": wechat_channel(wechat.base),
        "sms-twilio": f"""kind: sms
id: sms-twilio
queue: support
defaultRegion: CN
secrets: {{ authToken: E2E_TWILIO_TOKEN }}
options: {{ accountSid: {ACCOUNT_SID}, from: "{NUMBER}", apiBaseURL: {twilio.base}, publicURL: {sms_url} }}
delivery: {{ maxAttempts: 4, initialBackoff: 200ms, maxBackoff: 1s }}
""",
        "email-support": f"""kind: email
id: email-support
queue: support
options:
  address: {MAILBOX}
  displayName: Hub Support
  relay: {{ host: 127.0.0.1, port: {sink.port}, security: none }}
delivery: {{ maxAttempts: 4, initialBackoff: 200ms, maxBackoff: 1s }}
""",
    }
    rules = RULES.replace("  - id: billing\n", "  - id: billing\n  - id: supervisors\n") + f"""tickets:
  csat:
    escalateTo: supervisors
    followUp: 2h
    link: "http://127.0.0.1:{port}/csat/{{token}}"
"""
    environment = dict(ENVIRONMENT, E2E_TWILIO_TOKEN=AUTH_TOKEN)
    for running in running_hub(provider, extra_channels=channels, environment=environment, port=port, rules=rules):
        running.wechat_url = running.base + "/webhooks/wechat-oa"
        running.sms_url = sms_url
        yield running


def wechat_texts(wechat, openid):
    return [send["body"]["text"]["content"] for send in wechat.sends() if send["body"]["touser"] == openid]


def sms_texts(twilio, phone):
    return [send["Body"] for send in twilio.sends() if send.get("To") == phone]


def test_opened_on_a_call_followed_on_wechat_solved_told_on_wechat_and_by_mail_rated_by_sms(hub, peers):
    wechat, twilio, sink, provider = peers

    async def open_ticket():
        bo = Agent(hub, hub.login("bo"))
        await bo.connect()
        await bo.call({"type": "presence.set", "presence": "available"})
        first = hub.customer_message("crm-journey", "My washing machine leaks", "api-j-1")
        offer = await bo.wait_for(kind("offer.created"))
        await bo.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        await bo.wait_for(kind("routing.assigned"))
        opened = await bo.call({"type": "ticket.create", "conversationId": first["conversationId"], "subject": "洗衣机漏水"})
        assert opened["type"] == "ack", opened
        await bo.close()
        return opened["ticket"]

    ticket = run(open_ticket())
    number, customer = ticket["number"], ticket["customerId"]
    assert ticket["status"] == "open" and ticket["channelAccountId"] == "api-demo"
    for handle in ({"kind": "wechat", "address": OPENID, "channelAccountID": "wechat-oa"}, {"kind": "phone", "address": PHONE},
                   {"kind": "email", "address": MAIL}):
        status, answer = hub.request("POST", f"/v1/customers/{customer}/handles", handle)
        assert status in (200, 201), answer
    status, _ = hub.request("PUT", f"/v1/customers/{customer}/notification-channels",
                            {"channels": [{"channelAccountId": "wechat-oa"}, {"channelAccountId": "email-support"},
                                          {"channelAccountId": "sms-twilio", "subscribed": False}]})
    assert status == 200

    # Later, on WeChat: the status comes back without an agent.
    assert wechat.push(hub.wechat_url, wechat.message(OPENID, f"{number} 进度")) == (200, b"success")
    assert wait_until(lambda: len(wechat_texts(wechat, OPENID)) == 1), wechat.sends()
    assert wechat_texts(wechat, OPENID)[0].startswith(f"工单 {number}「洗衣机漏水」：处理中（更新于 ")

    # The agent solves it (over the WebSocket inbox).
    async def solve():
        bo = Agent(hub, hub.login("bo"))
        await bo.connect()
        changed = await bo.call({"type": "ticket.update", "ticketId": ticket["id"], "status": "solved"})
        assert changed["type"] == "ack" and changed["ticket"]["status"] == "solved", changed
        await bo.close()

    run(solve())
    solved = f"工单 {number}「洗衣机漏水」已解决。如仍有问题，请在7天内回复。\n请为本次服务评分：回复数字 1（很差）到 5（很好），或点击 "
    assert wait_until(lambda: len(wechat_texts(wechat, OPENID)) == 2 and len(sink.received()) == 1), (wechat.sends(), sink.received())
    told = wechat_texts(wechat, OPENID)[1]
    assert told.startswith(solved), told
    link = told[len(solved):]
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/csat/[0-9a-f]{{32}}", link), link
    _, recipients, mail, _ = sink.received()[0]
    assert recipients == [MAIL]
    assert mail["Subject"] == f"[{number}] 洗衣机漏水"
    # Text travels in its canonical form, lines ending in CRLF.
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == told
    assert mail["Auto-Submitted"] == "auto-generated"
    # The `api` integration, the ticket's own channel, heard too; SMS was not chosen.
    assert wait_until(lambda: any(r["body"]["to"]["address"] == "crm-journey" and r["body"]["text"] == told for r in provider.replies()))

    # The customer rates it 5 by SMS: recorded, thanked there, and nobody has to read it.
    status, _ = twilio.inbound(hub.sms_url, PHONE, "5", "SM" + "j" * 32)
    assert status == 200
    assert wait_until(lambda: hub.request("GET", f"/v1/tickets/{ticket['id']}/csat")[1].get("score") == 5)
    status, survey = hub.request("GET", f"/v1/tickets/{ticket['id']}/csat")
    assert survey["answerChannelAccountId"] == "sms-twilio" and survey["agentId"] == "bo" and survey["token"] == ""
    assert wait_until(lambda: sms_texts(twilio, PHONE) == [f"感谢您对工单 {number} 的评价：5 分（满分 5 分）。"]), twilio.sends()
    status, summary = hub.request("GET", "/v1/csat?by=agent")
    assert status == 200 and {"key": "bo", "sent": 1, "answered": 1, "average": 5.0, "scores": [0, 0, 0, 0, 1]} in summary["groups"], summary
    assert hub.request("GET", f"/v1/tickets/{ticket['id']}")[1]["status"] == "solved"

    # The page of an answered survey shows the answer; exactly one notification per channel.
    with urllib.request.urlopen(link, timeout=10) as page:
        assert 'id="score">5</strong>' in page.read().decode()
    time.sleep(1.5)
    assert len(wechat_texts(wechat, OPENID)) == 2 and len(sink.received()) == 1
    assert len([r for r in provider.replies() if r["body"]["to"]["address"] == "crm-journey"]) == 1
    assert len(sms_texts(twilio, PHONE)) == 1


def test_a_low_score_on_the_survey_page_reopens_the_ticket_to_the_supervisors(hub, peers):
    _, _, _, provider = peers
    first = hub.customer_message("crm-journey-2", "The dryer is loud", "api-j-2")
    status, ticket = hub.request("POST", "/v1/tickets", {"subject": "Loud dryer", "conversationIds": [first["conversationId"]], "assigneeId": "bo"})
    assert status == 201, ticket
    status, _ = hub.request("PATCH", f"/v1/tickets/{ticket['id']}", {"status": "solved"})
    assert status == 200

    def told():
        return [r["body"]["text"] for r in provider.replies() if r["body"]["to"]["address"] == "crm-journey-2"]

    assert wait_until(lambda: len(told()) == 1), provider.replies()
    link = re.search(r"http://\S+/csat/[0-9a-f]{32}", told()[0]).group(0)
    assert told()[0].startswith(f'Ticket {ticket["number"]} "Loud dryer" is solved. If it is not, reply within 7 days.\nHow did we do? Reply with a number')
    with urllib.request.urlopen(link, timeout=10) as page:
        html = page.read().decode()
    assert page.status == 200 and html.count('name="score"') == 5 and "Loud dryer" in html
    request = urllib.request.Request(link, data=b"score=1", method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as page:
        assert 'id="score">1</strong>' in page.read().decode()
    status, reopened = hub.request("GET", f"/v1/tickets/{ticket['id']}")
    assert reopened["status"] == "open" and reopened["queueId"] == "supervisors" and reopened["priority"] == "high", reopened
    assert reopened.get("assigneeId") is None and reopened["dueAt"]
    # A second answer changes nothing; a made-up token finds nothing.
    request = urllib.request.Request(link, data=b"score=5", method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as page:
        assert 'id="score">1</strong>' in page.read().decode()
    try:
        urllib.request.urlopen(link[:-32] + "0" * 32, timeout=10)
        raise AssertionError("an unknown token was served")
    except urllib.error.HTTPError as error:
        assert error.code == 404

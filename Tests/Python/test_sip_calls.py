"""Calls through the hub's B2BUA with real SIP peers: SIPp as the trunk (the customer's call) and
SIPp as agents' phones, which register with digest auth and then answer, ring out, decline or
hang up. Each test checks the SIP messages each side received and the call record the hub wrote.
"""

import datetime
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import Provider, running_hub
from test_sip import DOMAIN, REGISTER, SIPP, sipp, reachable, wait_for

pytestmark = pytest.mark.skipif(SIPP is None, reason="SIPp (sip-tester) is not installed")

SUPPORT = "+861088886666"
BILLING = "+861088887777"
QUICK = "+861088889999"
CALLER = "+8613800138000"

RULES = f"""
skills: [billing]
router:
  noAnswerDelay: 60s
  rejectDelay: 60s
  busyDelay: 60s
queues:
  - id: support
    strategy: linear
    offerTimeout: {{ voice: 3s }}
    wrapUp: {{ voice: 0s }}
  - id: billing
    strategy: linear
    requires: {{ billing: 3 }}
    offerTimeout: {{ voice: 3s }}
    wrapUp: {{ voice: 0s }}
  - id: quick
    overflow:
      - name: callback after 2 seconds
        when: {{ waited: 2s }}
        do: offerCallback
agents:
  - id: alice
    name: Alice Wang
    queues: {{ support: {{ tier: 1, position: 1 }}, billing: {{ tier: 1, position: 1 }} }}
    sip: sip:alice@{DOMAIN}
    sipPassword: E2E_ALICE_SIP
  - id: bo
    name: Bo Chen
    skills: {{ billing: 5 }}
    queues: {{ support: {{ tier: 1, position: 2 }}, billing: {{ tier: 1, position: 2 }} }}
    sip: sip:bo@{DOMAIN}
    sipPassword: E2E_BO_SIP
"""

PASSWORDS = {"alice": "s3cret", "bo": "b0-secret"}


def trunk(id, number, queue):
    return f"""kind: voice
id: {id}
queue: {queue}
defaultRegion: CN
options:
  numbers: ["{number}"]
  addresses: [127.0.0.1]
"""


SECURE = "+861088885555"
ELSEWHERE = "+861088884444"

CHANNELS = {
    "voice-support": trunk("voice-support", SUPPORT, "support"),
    "voice-billing": trunk("voice-billing", BILLING, "billing"),
    "voice-quick": trunk("voice-quick", QUICK, "quick"),
    # A carrier that authenticates its calls (digest, 407), and one whose calls come from
    # another network than the tests'.
    "voice-secure": trunk("voice-secure", SECURE, "support").replace(
        "options:", "secrets: { password: E2E_TRUNK_PASSWORD }\noptions:\n  username: carrier"),
    "voice-elsewhere": trunk("voice-elsewhere", ELSEWHERE, "support").replace("[127.0.0.1]", "[192.0.2.0/24]"),
}

# The customer's side, as a carrier's trunk sends it. The INVITE's branch is fixed so that a
# CANCEL (and the ACK of a non-2xx answer) can name the same transaction.
INVITE = """  <send retrans="500"><![CDATA[
INVITE sip:{number}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-invite
From: "Customer" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
To: <sip:{number}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:trunk@[local_ip]:[local_port]>
P-Asserted-Identity: <tel:{caller}>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=customer 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=customer-session
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio 40000 RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000

]]></send>
"""

# The ACK of a final answer that is not a 2xx (§17.1.1.3): the INVITE's branch, CSeq 1.
ACK_FINAL = """  <send><![CDATA[
ACK sip:{number}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-invite
From: "Customer" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
To: <sip:{number}@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
"""

CALLER_ANSWERED = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller, answered">
""" + INVITE + """
  <recv response="100" optional="true"/>
  <recv response="182" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Customer" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
To: <sip:{number}@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
{ending}
</scenario>
"""

CALLER_HANGS_UP = """  <pause milliseconds="1000"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Customer" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
To: <sip:{number}@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
"""

CALLER_HEARS_BYE = """  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
"""

CALLER_CANCELS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller hangs up while queued">
""" + INVITE + """
  <recv response="100" optional="true"/>
  <recv response="182"/>
  <pause milliseconds="1000"/>
  <send retrans="500"><![CDATA[
CANCEL sip:{number}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-invite
From: "Customer" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]caller[call_number]
To: <sip:{number}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
  <recv response="487"/>
""" + ACK_FINAL + """</scenario>
"""

CALLER_OVERFLOWS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller waits past the queue's limit">
""" + INVITE + """
  <recv response="100" optional="true"/>
  <recv response="182"/>
  <recv response="480"/>
""" + ACK_FINAL + """</scenario>
"""

# Agents' phones (UAS). Responses copy the request's headers.
RESPONSE = """  <send><![CDATA[
SIP/2.0 {status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]phone[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:{user}@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
"""

PHONE_ANSWERS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone answers">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="hub_party"/>
      <ereg regexp="(sip:[^>]*)" search_in="hdr" header="Contact:" check_it="true" assign_to="trash,hub_contact"/>
    </action>
  </recv>
""" + RESPONSE.replace("{status}", "180 Ringing") + """
  <pause milliseconds="300"/>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]phone[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:{user}@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o={user} 1 1 IN IP4 [local_ip]
s=phone-of-{user}
c=IN IP4 [local_ip]
t=0 0
m=audio 41000 RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv request="ACK" crlf="true"/>
{ending}
</scenario>
"""

PHONE_HEARS_BYE = CALLER_HEARS_BYE

PHONE_HANGS_UP = """  <pause milliseconds="1000"/>
  <send retrans="500"><![CDATA[
BYE [$hub_contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{user}@{domain}>;tag=[pid]phone[call_number]
To: [$hub_party]
[last_Call-ID:]
CSeq: 1 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
"""

PHONE_RINGS_OUT = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone rings and nobody answers">
  <recv request="INVITE" crlf="true"/>
""" + RESPONSE.replace("{status}", "180 Ringing") + """
  <recv request="CANCEL"/>
""" + RESPONSE.replace("{status}", "200 OK") + """
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]phone[call_number]
[last_Call-ID:]
CSeq: 1 INVITE
Content-Length: 0

]]></send>
  <recv request="ACK"/>
</scenario>
"""

PHONE_DECLINES = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone declines">
  <recv request="INVITE" crlf="true"/>
""" + RESPONSE.replace("{status}", "180 Ringing") + """
  <pause milliseconds="300"/>
""" + RESPONSE.replace("{status}", "{refusal}") + """
  <recv request="ACK"/>
</scenario>
"""


def calls_hub(**environment):
    """A hub with the trunks and agents above (a generator for a pytest fixture)."""
    provider = Provider()
    try:
        yield from running_hub(provider, rules=RULES, extra_channels=CHANNELS,
                               environment={"E2E_ALICE_SIP": PASSWORDS["alice"], "E2E_BO_SIP": PASSWORDS["bo"],
                                            "E2E_TRUNK_PASSWORD": "trunk-secret", **environment})
    finally:
        provider.close()


@pytest.fixture()
def hub():
    yield from calls_hub()


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Phone:
    """An agent's phone: registers from a fixed port, then a SIPp UAS on that port plays the
    scenario for the call it is offered."""

    def __init__(self, hub, agent, scenario, **fields):
        self.agent = agent
        self.port = free_udp_port()
        self.directory = tempfile.mkdtemp(prefix=f"phone-{agent}-")
        code, _ = sipp(hub, REGISTER, user=agent, password=PASSWORDS[agent], expires=300, final=200, auth="",
                       port=self.port)
        assert code == 0
        assert wait_for(lambda: reachable(hub, agent))
        path = os.path.join(self.directory, "phone.xml")
        text = scenario.replace("{ending}", fields.pop("ending", "")).replace("{user}", agent).format(domain=DOMAIN, **fields)
        if "[$hub_contact]" in text:
            # SIPp refuses variables it sees set but never used.
            text = text.replace("</scenario>", '  <Reference variables="trash"/>\n</scenario>')
        else:
            text = re.sub(r"\s*<action>.*?</action>", "", text, flags=re.S)
        with open(path, "w") as f:
            f.write(text)
        self.process = subprocess.Popen(
            [SIPP, "-sf", path, "-t", "u1", "-i", "127.0.0.1", "-p", str(self.port), "-m", "1", "-timeout", "30s",
             "-timeout_error", "-nostdin", "-trace_msg", "-trace_err"],
            cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        status, body = hub.request("POST", f"/v1/agents/{agent}/presence", {"presence": "available"})
        assert status == 200, body

    def finish(self, expect_success=True, timeout=30):
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        messages = self.messages()
        if expect_success:
            assert code == 0, self.errors() + messages[-3000:]
        return code, messages

    def stop(self):
        """A phone that was never meant to be called."""
        self.process.kill()
        self.process.wait()
        return self.messages()

    def messages(self):
        return "".join(open(os.path.join(self.directory, name)).read()
                       for name in os.listdir(self.directory) if name.endswith("_messages.log"))

    def errors(self):
        return "".join(open(os.path.join(self.directory, name)).read()
                       for name in os.listdir(self.directory) if name.endswith("_errors.log"))

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not os.environ.get("E2E_KEEP_PHONES"):
            shutil.rmtree(self.directory, ignore_errors=True)


def call(hub, scenario, number, ending=""):
    return sipp(hub, scenario.replace("{ending}", ending), number=number, caller=CALLER)


def received(messages, first_line):
    """The messages SIPp logged as received whose first line starts with `first_line`."""
    return [message for _, message in received_at(messages, first_line)]


def received_at(messages, first_line):
    """`received`, each with the time SIPp logged it (a datetime)."""
    found = []
    for block in messages.split("----------------------------------------------- ")[1:]:
        # A timestamp line, "UDP message received [N] bytes :" (or "... message sent ..."),
        # an empty line, the message.
        stamp, _, rest = block.partition("\n")
        direction, _, message = rest.partition("\n")
        if "message received" in direction and message.lstrip("\n").startswith(first_line):
            found.append((datetime.datetime.fromisoformat(stamp.strip()), message.lstrip("\n")))
    return found


def assert_queued_notice_only_after_a_wait(caller):
    """182 Queued goes only to a call that has waited 100 ms (then at once): never sooner, and
    not at all to one whose phone rang (180) within 50 ms of the 100 Trying."""
    trying = received_at(caller, "SIP/2.0 100")[0][0]
    ringing = received_at(caller, "SIP/2.0 180")
    for at, _ in received_at(caller, "SIP/2.0 182"):
        assert at - trying >= datetime.timedelta(milliseconds=100), f"182 after {at - trying}"
        assert not ringing or ringing[0][0] > at, "182 after the 180"
    if ringing and ringing[0][0] - trying < datetime.timedelta(milliseconds=50):
        assert not received(caller, "SIP/2.0 182"), "182 to a call offered at once"


def call_record(hub, number=None):
    """The hub's newest call record (from the event log), waiting for it to have ended."""
    def latest():
        status, body = hub.request("GET", "/v1/events?limit=500")
        assert status == 200, body
        records = [event["payload"] for event in body["items"] if event["kind"] in ("call.created", "call.updated")]
        return records[-1] if records else None
    assert wait_for(lambda: (latest() or {}).get("state") == "ended"), latest()
    record = latest()
    status, body = hub.request("GET", f"/v1/conversations/{record['conversationId']}/calls")
    assert status == 200, body
    assert [item["id"] for item in body["items"]] == [record["id"]]
    assert body["items"][0]["state"] == "ended"
    return record


def test_a_call_goes_to_the_agent_with_the_skill_who_answers_and_the_caller_hangs_up(hub):
    alice = Phone(hub, "alice", PHONE_ANSWERS, ending=PHONE_HEARS_BYE)
    bo = Phone(hub, "bo", PHONE_ANSWERS, ending=PHONE_HEARS_BYE)
    try:
        _, caller = call(hub, CALLER_ANSWERED, BILLING, CALLER_HANGS_UP)
        _, phone = bo.finish()
        # Alice is first in line but lacks the billing skill: her phone never rang.
        assert "INVITE sip:" not in alice.stop()
    finally:
        alice.close()
        bo.close()
    # The caller: 100, then 182 Queued if the call waited 100 ms, 180 when the phone rang, then
    # the phone's SDP answer in the hub's 200.
    assert received(caller, "SIP/2.0 100")
    assert received(caller, "SIP/2.0 180")
    assert_queued_notice_only_after_a_wait(caller)
    ok = received(caller, "SIP/2.0 200 OK")[0]
    assert "s=phone-of-bo" in ok and "m=audio 41000" in ok and "Contact: <sip:switchboard@" in ok
    # Bo's phone: the caller's SDP offer; the caller masked; the BYE after the caller's.
    invite = received(phone, "INVITE sip:bo@127.0.0.1")[0]
    assert "s=customer-session" in invite and "m=audio 40000 RTP/AVP 0 8" in invite
    assert CALLER not in invite and "X-Switchboard-Conversation: cnv_" in invite
    assert received(phone, "ACK sip:bo@") and received(phone, "BYE sip:bo@")
    record = call_record(hub)
    assert record["agentId"] == "bo" and record["from"] == CALLER and record["to"] == BILLING
    assert record["hungUpBy"] == "customer" and record["hangupCause"] == "normal" and record["direction"] == "inbound"
    assert record["queuedAt"] <= record["offeredAt"] <= record["answeredAt"] <= record["endedAt"]


def test_the_agent_hangs_up(hub):
    bo = Phone(hub, "bo", PHONE_ANSWERS, ending=PHONE_HANGS_UP)
    try:
        _, caller = call(hub, CALLER_ANSWERED, SUPPORT, CALLER_HEARS_BYE)
        _, phone = bo.finish()
    finally:
        bo.close()
    assert received(caller, "BYE sip:trunk@")
    assert received(phone, "SIP/2.0 200 OK")  # the hub's answer to the phone's BYE
    record = call_record(hub)
    assert record["agentId"] == "bo" and record["hungUpBy"] == "agent"


def test_the_caller_hangs_up_while_queued(hub):
    # Nobody's phone is registered: the call waits, then the caller gives up.
    code, caller = call(hub, CALLER_CANCELS, SUPPORT)
    assert code == 0
    assert received(caller, "SIP/2.0 182")
    assert_queued_notice_only_after_a_wait(caller)
    record = call_record(hub)
    assert record["hungUpBy"] == "customer" and record["hangupCause"] == "cancelled"
    assert record.get("answeredAt") is None and record.get("agentId") is None
    status, body = hub.request("GET", f"/v1/conversations/{record['conversationId']}")
    assert status == 200 and body["status"] == "closed"


def test_no_answer_rings_the_next_agent(hub):
    alice = Phone(hub, "alice", PHONE_RINGS_OUT)
    bo = Phone(hub, "bo", PHONE_ANSWERS, ending=PHONE_HEARS_BYE)
    try:
        _, caller = call(hub, CALLER_ANSWERED, SUPPORT, CALLER_HANGS_UP)
        _, rung_out = alice.finish()
        _, answered = bo.finish()
    finally:
        alice.close()
        bo.close()
    # Alice's phone rang for the offer timeout (3 s), then the hub cancelled it.
    assert received(rung_out, "INVITE sip:alice@") and received(rung_out, "CANCEL sip:alice@")
    assert received(answered, "INVITE sip:bo@")
    assert "s=phone-of-bo" in received(caller, "SIP/2.0 200 OK")[0]
    record = call_record(hub)
    assert record["agentId"] == "bo" and record["hungUpBy"] == "customer"
    status, events = hub.request("GET", "/v1/events?limit=500")
    ended = [e["payload"] for e in events["items"] if e["kind"] == "offer.ended"]
    assert {"agentId": "alice", "reason": "expired"}.items() <= ended[0].items()


@pytest.mark.parametrize("refusal, reason", [("603 Decline", "declined"), ("486 Busy Here", "busy")])
def test_an_agent_who_declines_passes_the_call_on(hub, refusal, reason):
    alice = Phone(hub, "alice", PHONE_DECLINES, refusal=refusal)
    bo = Phone(hub, "bo", PHONE_ANSWERS, ending=PHONE_HEARS_BYE)
    try:
        _, caller = call(hub, CALLER_ANSWERED, SUPPORT, CALLER_HANGS_UP)
        alice.finish()
        bo.finish()
    finally:
        alice.close()
        bo.close()
    assert "s=phone-of-bo" in received(caller, "SIP/2.0 200 OK")[0]
    status, events = hub.request("GET", "/v1/events?limit=500")
    ended = [e["payload"] for e in events["items"] if e["kind"] == "offer.ended"]
    assert ended[0]["agentId"] == "alice" and ended[0]["reason"] == reason
    assert call_record(hub)["agentId"] == "bo"


def test_waiting_too_long_gets_480_and_a_callback_ticket(hub):
    code, caller = call(hub, CALLER_OVERFLOWS, QUICK)
    assert code == 0
    refusal = received(caller, "SIP/2.0 480")[0]
    assert "callback after 2 seconds" in refusal.split("\n", 1)[0]
    record = call_record(hub)
    assert record["hungUpBy"] == "system" and record["hangupCause"] == "overflow: callback after 2 seconds"
    status, conversation = hub.request("GET", f"/v1/conversations/{record['conversationId']}")
    status, tickets = hub.request("GET", f"/v1/customers/{conversation['customerId']}/tickets")
    assert status == 200 and len(tickets["items"]) == 1
    assert tickets["items"][0]["subject"].startswith("Callback: ") and CALLER not in tickets["items"][0]["subject"]


CALLER_AUTHENTICATES = CALLER_CANCELS.replace("""  <recv response="100" optional="true"/>
  <recv response="182"/>""", """  <recv response="407" auth="true"/>
""" + ACK_FINAL + """""" + INVITE.replace("-invite", "-invite2").replace("CSeq: 1 INVITE", "CSeq: 2 INVITE").replace(
    "Max-Forwards: 70", "[authentication]\nMax-Forwards: 70") + """
  <recv response="100" optional="true"/>
  <recv response="182"/>""").replace("-invite\nFrom", "-invite2\nFrom").replace("CSeq: 1 CANCEL", "CSeq: 2 CANCEL").replace(
    "CSeq: 1 ACK\nMax-Forwards: 70\nContent-Length: 0\n\n]]></send>\n</scenario>", "CSeq: 2 ACK\nMax-Forwards: 70\nContent-Length: 0\n\n]]></send>\n</scenario>")


def test_a_trunk_with_credentials_authenticates_its_calls(hub):
    code, messages = sipp(hub, CALLER_AUTHENTICATES, user="carrier", password="trunk-secret", number=SECURE, caller=CALLER)
    assert code == 0, messages
    challenge = received(messages, "SIP/2.0 407")[0]
    assert 'Proxy-Authenticate: Digest realm="switchboard.test"' in challenge
    assert call_record(hub)["hangupCause"] == "cancelled"
    # The wrong password is challenged again; nothing is queued.
    refused = CALLER_AUTHENTICATES.split("<recv response=\"100\" optional=\"true\"/>\n  <recv response=\"182\"/>")[0] + \
        '<recv response="407"/>\n</scenario>\n'
    code, messages = sipp(hub, refused, user="carrier", password="wrong", number=SECURE, caller=CALLER)
    assert code == 0, messages
    assert len(received(messages, "SIP/2.0 407")) == 2 and not received(messages, "SIP/2.0 100")


def test_calls_from_elsewhere_or_to_other_numbers_are_refused(hub):
    for number, status in (("+861099999999", "404"), (ELSEWHERE, "403")):
        refused = CALLER_OVERFLOWS.replace('<recv response="182"/>\n  <recv response="480"/>', f'<recv response="{status}"/>')
        code, messages = call(hub, refused, number)
        assert code == 0, messages


CALLER_TRANSFERRED = CALLER_ANSWERED.replace("{ending}", """  <recv request="INVITE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:trunk@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=customer 53655765 2353687638 IN IP[local_ip_type] [local_ip]
s=customer-session
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio 40000 RTP/AVP 0
a=rtpmap:0 PCMU/8000

]]></send>
  <recv request="ACK"/>
""" + CALLER_HANGS_UP)


def test_a_blind_transfer_from_the_inbox_rings_the_other_agent_and_moves_the_media(hub):
    alice = Phone(hub, "alice", PHONE_ANSWERS, ending=PHONE_HEARS_BYE)
    bo = Phone(hub, "bo", PHONE_ANSWERS, ending=PHONE_HEARS_BYE)
    directory = tempfile.mkdtemp(prefix="sipp-transfer-")
    try:
        path = os.path.join(directory, "caller.xml")
        with open(path, "w") as f:
            f.write(CALLER_TRANSFERRED.format(number=SUPPORT, caller=CALLER))
        caller = subprocess.Popen(
            [SIPP, "-sf", path, "-t", "u1", "-i", "127.0.0.1", "-p", "0", "-m", "1", "-timeout", "30s", "-timeout_error",
             "-nostdin", "-trace_msg", "-trace_err", "%s:%d" % hub.sip],
            cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answered_by_alice():
            status, body = hub.request("GET", "/v1/events?limit=500")
            records = [e["payload"] for e in body["items"] if e["kind"] in ("call.created", "call.updated")]
            return records and records[-1]["state"] == "answered" and records[-1]["agentId"] == "alice" and records[-1]
        assert wait_for(answered_by_alice)
        conversation = answered_by_alice()["conversationId"]
        status, body = hub.request("POST", f"/v1/conversations/{conversation}/transfer", {"agentId": "bo"})
        assert status in (200, 202), body
        assert caller.wait(timeout=40) == 0, open(os.path.join(directory, [n for n in os.listdir(directory) if n.endswith("_errors.log")][0])).read() \
            if any(n.endswith("_errors.log") for n in os.listdir(directory)) else "caller failed"
        messages = "".join(open(os.path.join(directory, n)).read() for n in os.listdir(directory) if n.endswith("_messages.log"))
        _, first = alice.finish()
        _, second = bo.finish()
    finally:
        alice.close()
        bo.close()
        shutil.rmtree(directory, ignore_errors=True)
    # Alice's phone was hung up by the hub at the transfer; Bo's rang with the caller's offer.
    assert received(first, "BYE sip:alice@") and received(second, "INVITE sip:bo@")
    # The caller's media moved to Bo's phone by a re-INVITE from the hub's own SDP session.
    ok = received(messages, "SIP/2.0 200 OK")[0]
    reinvite = received(messages, "INVITE sip:trunk@")[0]
    assert "s=phone-of-alice" in ok and "s=phone-of-bo" in reinvite
    origin = [line.split() for text in (ok, reinvite) for line in text.splitlines() if line.startswith("o=")]
    assert origin[0][0] == origin[1][0] == "o=switchboard" and origin[0][1] == origin[1][1]
    assert int(origin[1][2]) == int(origin[0][2]) + 1
    record = call_record(hub)
    assert record["agentId"] == "bo" and record["hungUpBy"] == "customer"


def test_the_ringing_call_pops_up_in_the_agents_inbox(hub):
    import asyncio
    import json
    from inbox_client import Agent, kind

    bo_phone = Phone(hub, "bo", PHONE_ANSWERS, ending=PHONE_HEARS_BYE)

    async def scenario():
        bo = Agent(hub, hub.login("bo"))
        await bo.connect()
        placed = asyncio.get_running_loop().run_in_executor(None, lambda: call(hub, CALLER_ANSWERED, SUPPORT, CALLER_HANGS_UP))
        offer = await bo.wait_for(kind("offer.created"))
        pop = offer["screenPop"]
        assert pop["offer"]["explanation"]["queue"] == "support"
        phone = [h for h in pop["customer"]["handles"] if h["kind"] == "phone"][0]
        assert phone["address"] == "+86138****8000" and phone["masked"] is True
        assert CALLER not in json.dumps(pop)
        texts = [entry["data"].get("text") for entry in pop["timeline"] if entry["kind"] == "message.received"]
        assert f"Incoming call to {SUPPORT}" in texts
        # The phone answered: the inbox hears the assignment, with no click.
        assigned = await bo.wait_for(kind("routing.assigned"))
        assert assigned["data"]["offerId"] == offer["data"]["offerId"]
        code, _ = await placed
        assert code == 0
        await bo.close()

    try:
        asyncio.run(scenario())
        bo_phone.finish()
    finally:
        bo_phone.close()
    assert call_record(hub)["agentId"] == "bo"


def test_a_call_live_when_the_hub_is_killed_ends_at_the_restart():
    """The B2BUA's dialogs live in memory: after a SIGKILL mid-call the call is gone. At the
    restart its record ends (by the system, with the reason) and its conversation closes, so the
    agent is not held by a call that no longer exists."""
    fixture = calls_hub()
    hub = next(fixture)
    bo = None
    caller = threading.Thread(
        target=lambda: sipp(hub, CALLER_ANSWERED.replace("{ending}", CALLER_HEARS_BYE), number=SUPPORT, caller=CALLER,
                            expect_success=False))
    try:
        bo = Phone(hub, "bo", PHONE_ANSWERS, ending=PHONE_HEARS_BYE)
        caller.start()

        def answered():
            status, body = hub.request("GET", "/v1/events?limit=500")
            assert status == 200, body
            records = [event["payload"] for event in body["items"] if event["kind"] in ("call.created", "call.updated")]
            return records[-1] if records and records[-1]["state"] == "answered" else None

        assert wait_for(answered), "the call was not answered"
        live = answered()
        assert hub.request("GET", f"/v1/agents/bo/routing")[1]["load"]["voice"] == 1

        hub.kill_and_restart()
        status, body = hub.request("GET", f"/v1/conversations/{live['conversationId']}/calls")
        assert status == 200, body
        [record] = body["items"]
        assert record["id"] == live["id"] and record["state"] == "ended"
        assert record["hungUpBy"] == "system" and record["hangupCause"] == "the hub stopped during the call"
        assert record["answeredAt"] == live["answeredAt"] and record["agentId"] == "bo"
        status, conversation = hub.request("GET", f"/v1/conversations/{live['conversationId']}")
        assert status == 200 and conversation["status"] == "closed", conversation
        # The router, rebuilt from the store, does not count the gone call on its agent.
        assert wait_for(lambda: hub.request("GET", "/v1/agents/bo/routing")[1]["load"]["voice"] == 0)
    finally:
        if bo:
            bo.close()
        if caller.is_alive() or caller.ident:
            caller.join(timeout=60)
        for _ in fixture:
            pass


def test_a_phone_registered_before_a_restart_takes_calls_after_it():
    """Registrations over UDP are kept in the store: after a restart (a deployment) the phone is
    reachable at once, without registering again, and the next call rings it."""
    fixture = calls_hub()
    hub = next(fixture)
    bo = None
    try:
        bo = Phone(hub, "bo", PHONE_ANSWERS, ending=PHONE_HEARS_BYE)
        hub.restart()
        log = hub.logged_since(0)
        listening = log.rfind('msg="sip listening"')
        restored = log.rfind("phones' registrations restored")
        assert log.rfind('msg="sip listening"', 0, listening) < restored < listening, "restored as the restarted hub started"
        assert reachable(hub, "bo"), "reachable before any REGISTER reached the restarted hub"
        # The router starts with everyone offline: bo logs in again.
        status, body = hub.request("POST", "/v1/agents/bo/presence", {"presence": "available"})
        assert status == 200, body
        _, caller = call(hub, CALLER_ANSWERED, SUPPORT, CALLER_HANGS_UP)
        _, phone = bo.finish()
        assert received(phone, "INVITE sip:bo@127.0.0.1"), "the restarted hub rang the phone where it had registered"
        assert "s=phone-of-bo" in received(caller, "SIP/2.0 200 OK")[0]
        assert call_record(hub)["agentId"] == "bo"
        log = hub.logged_since(0)
        assert 'msg="SIP registration"' not in log[log.rfind('msg="sip listening"'):], "the phone did not register again"
    finally:
        if bo:
            bo.close()
        for _ in fixture:
            pass


"""Agents' SIP phones against the real hub process, with SIPp (Debian package `sip-tester`) as
the phone: digest registration over UDP and TCP, a wrong password or an agent without a phone
challenged again, unregistering, the router following whether each agent's phone can be
reached, OPTIONS keep-alives answered and unknown methods refused. (Replays, stale nonces,
expiry and 403 for another agent's address are tested in RegistrarTests.)"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import Provider, running_hub

SIPP = shutil.which("sipp")
pytestmark = pytest.mark.skipif(SIPP is None, reason="SIPp (sip-tester) is not installed")

DOMAIN = "switchboard.test"
RULES = f"""
queues:
  - id: support
  - id: quick
  - id: billing
agents:
  - id: alice
    name: Alice Wang
    queues: {{ support: 1 }}
    sip: sip:alice@{DOMAIN}
    sipPassword: E2E_ALICE_SIP
  - id: bo
    name: Bo Chen
    queues: {{ support: 1 }}
    sip: sip:bo@{DOMAIN}
    sipPassword: E2E_BO_SIP
  - id: desk
    name: Front Desk
    queues: {{ support: 2 }}
    sip: sip:desk@{DOMAIN}
    sipContact: sip:desk@192.0.2.50:5060
  - id: carol
    name: Carol Smith
    queues: {{ support: 2 }}
"""

REGISTER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register">
  <send retrans="500"><![CDATA[
REGISTER sip:{domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:{user}@{domain}>;tag=[pid]reg[call_number]
To: <sip:{user}@{domain}>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:{user}@[local_ip]:[local_port];transport=[transport]>
Expires: {expires}
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:{domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:{user}@{domain}>;tag=[pid]reg[call_number]
To: <sip:{user}@{domain}>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:{user}@[local_ip]:[local_port];transport=[transport]>
[authentication]
Expires: {expires}
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="{final}" {auth}/>
</scenario>
"""

PROBE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="keep-alive and an unknown method">
  <send retrans="500"><![CDATA[
OPTIONS sip:{domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:trunk@[local_ip]>;tag=[pid]opt[call_number]
To: <sip:{domain}>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
  <send retrans="500"><![CDATA[
SUBSCRIBE sip:alice@{domain} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:trunk@[local_ip]>;tag=[pid]opt[call_number]
To: <sip:alice@{domain}>
Call-ID: [call_id]
CSeq: 2 SUBSCRIBE
Event: presence
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="501"/>
</scenario>
"""


@pytest.fixture(scope="module")
def hub():
    provider = Provider()
    try:
        yield from running_hub(provider, rules=RULES, environment={"E2E_ALICE_SIP": "s3cret", "E2E_BO_SIP": "b0-secret"})
    finally:
        provider.close()


def sipp(hub, scenario, transport="u1", user=None, password=None, expect_success=True, port=0, **fields):
    """Runs one call of a scenario against the hub's SIP address; returns SIPp's exit code and
    the messages it logged."""
    directory = tempfile.mkdtemp(prefix="sipp-")
    try:
        path = os.path.join(directory, "scenario.xml")
        with open(path, "w") as f:
            f.write(scenario.format(domain=DOMAIN, user=user or "", **fields))
        arguments = [SIPP, "-sf", path, "-t", transport, "-i", "127.0.0.1", "-p", str(port), "-m", "1", "-timeout", "15s",
                     "-timeout_error", "-nostdin", "-trace_msg", "-trace_err", "-auth_uri", DOMAIN]
        if user:
            arguments += ["-au", user, "-ap", password]
        arguments.append("%s:%d" % hub.sip)
        result = subprocess.run(arguments, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        messages = "".join(open(os.path.join(directory, name)).read()
                           for name in os.listdir(directory) if name.endswith("_messages.log"))
        errors = "".join(open(os.path.join(directory, name)).read()
                         for name in os.listdir(directory) if name.endswith("_errors.log"))
        if expect_success:
            assert result.returncode == 0, errors + messages[-3000:]
        return result.returncode, messages
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def reachable(hub, agent):
    status, body = hub.request("GET", f"/v1/agents/{agent}/routing")
    assert status == 200, body
    return body["voiceReachable"]


def wait_for(predicate, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_a_phone_registers_with_digest_and_the_router_follows(hub):
    # Before any registration only the desk phone (a static contact) can take calls.
    assert not reachable(hub, "alice")
    assert reachable(hub, "desk")
    assert not reachable(hub, "carol")
    _, messages = sipp(hub, REGISTER, user="alice", password="s3cret", expires=120, final=200, auth="")
    # MD5 offered first (SIPp reads only the first challenge), SHA-256 after it.
    challenge = messages.split("SIP/2.0 401", 1)[1].split("\n\n", 1)[0]
    assert challenge.index("algorithm=MD5") < challenge.index("algorithm=SHA-256")
    ok = messages.split("SIP/2.0 200", 1)[1].split("\n\n", 1)[0]
    assert ";expires=120" in ok and "Contact: <sip:alice@127.0.0.1:" in ok
    assert wait_for(lambda: reachable(hub, "alice"))


def test_over_tcp_and_unregistering(hub):
    sipp(hub, REGISTER, transport="t1", user="bo", password="b0-secret", expires=300, final=200, auth="")
    assert wait_for(lambda: reachable(hub, "bo"))
    # Expires 0 removes the binding (a new SIPp run is another Call-ID and contact: remove all).
    sipp(hub, REGISTER.replace("<sip:{user}@[local_ip]:[local_port];transport=[transport]>", "*"),
         transport="t1", user="bo", password="b0-secret", expires=0, final=200, auth="")
    assert wait_for(lambda: not reachable(hub, "bo"))


def test_a_wrong_password_is_challenged_again_and_binds_nothing(hub):
    code, messages = sipp(hub, REGISTER, user="alice", password="wrong", expires=120, final=401, auth='auth="true"')
    assert code == 0
    assert messages.count("SIP/2.0 401") == 2 and "SIP/2.0 200" not in messages
    # Carol has no phone: whatever the password, she is challenged again.
    code, messages = sipp(hub, REGISTER, user="carol", password="b0-secret", expires=120, final=401, auth='auth="true"')
    assert code == 0


def test_keep_alive_options_and_unknown_methods(hub):
    for transport in ("u1", "t1"):
        sipp(hub, PROBE, transport=transport)


def test_phones_follow_a_rules_reload_without_a_restart():
    """An agent given a phone in routing-rules/ registers once the rules reload; an agent whose
    phone is taken away loses it at once, and the router stops offering them calls."""
    provider = Provider()
    fixture = running_hub(provider, rules=RULES,
                          environment={"E2E_ALICE_SIP": "s3cret", "E2E_BO_SIP": "b0-secret", "E2E_CAROL_SIP": "c4rol-secret"})
    hub = next(fixture)
    try:
        code, _ = sipp(hub, REGISTER, user="bo", password="b0-secret", expires=120, final=200, auth="")
        assert code == 0
        assert wait_for(lambda: reachable(hub, "bo"))
        code, _ = sipp(hub, REGISTER, user="carol", password="c4rol-secret", expires=120, final=401, auth='auth="true"')
        assert code == 0, "carol has no phone yet"

        # Carol gets a phone; bo's is taken away.
        carol = "    name: Carol Smith\n    queues: { support: 2 }\n"
        assert RULES.count(carol) == 1
        rules = RULES.replace(carol, carol + f"    sip: sip:carol@{DOMAIN}\n    sipPassword: E2E_CAROL_SIP\n").replace(f"""    sip: sip:bo@{DOMAIN}
    sipPassword: E2E_BO_SIP
""", "")
        assert "sip:carol@" in rules and "sip:bo@" not in rules
        # Written aside and renamed, so the watcher never reads a half-written file.
        path = os.path.join(hub.directory, "routing-rules", "rules.yaml")
        with open(path + ".new", "w") as f:
            f.write(rules)
        os.replace(path + ".new", path)

        def reloaded():
            with open(hub.log_path) as log:
                return "agents' phones reloaded" in log.read()
        assert wait_for(reloaded, timeout=20)

        assert wait_for(lambda: not reachable(hub, "bo")), "bo's binding went with his phone"
        code, _ = sipp(hub, REGISTER, user="bo", password="b0-secret", expires=120, final=401, auth='auth="true"')
        assert code == 0, "bo has no phone any more"
        code, _ = sipp(hub, REGISTER, user="carol", password="c4rol-secret", expires=120, final=200, auth="")
        assert code == 0
        assert wait_for(lambda: reachable(hub, "carol"))
    finally:
        for _ in fixture:
            pass
        provider.close()


def test_an_overloaded_element_answers_503_over_tcp_instead_of_dropping():
    """Past its overload limits the element refuses a request with 503 and Retry-After: a TCP
    sender never sends it again, so silence would leave it waiting. (The limit of calls handled
    at once is set to 0 here, so that every message meets it.)"""
    provider = Provider()
    fixture = running_hub(provider, rules=RULES, environment={"E2E_ALICE_SIP": "s3cret", "E2E_BO_SIP": "b0-secret",
                                                              "HUB_SIP_MAX_IN_PROGRESS": "0"})
    hub = next(fixture)
    try:
        with socket.create_connection(hub.sip, timeout=10) as connection:
            local = "%s:%d" % connection.getsockname()
            request = ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bKover1\r\n"
                       "From: <sip:probe@%s>;tag=p1\r\nTo: <sip:%s>\r\nCall-ID: overload-1\r\nCSeq: 1 OPTIONS\r\n"
                       "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n") % (DOMAIN, local, DOMAIN, DOMAIN)
            connection.sendall(request.encode())
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = connection.recv(4096)
                assert chunk, "the connection closed without an answer"
                answer += chunk
        head = answer.decode().split("\r\n\r\n")[0]
        assert head.startswith("SIP/2.0 503 "), head
        assert "\r\nRetry-After: 5" in head and "Call-ID: overload-1" in head and "z9hG4bKover1" in head
        with open(hub.log_path) as log:
            assert "SIP message refused: too many being handled" in log.read()
    finally:
        for _ in fixture:
            pass
        provider.close()


def test_a_configured_peer_is_held_to_the_peer_rate():
    """A trunk's address is exempt from the 200-a-second limit of any source, but held to
    HUB_SIP_PEER_RATE (a UDP source address can be forged): set to 30 here, a burst of 100
    OPTIONS from the trunk's address gets about 30 answers a second and the guard's warning."""
    provider = Provider()
    trunk = """kind: voice
id: voice-peer
queue: support
options:
  numbers: ["4008001234"]
  addresses: [127.0.0.1]
"""
    fixture = running_hub(provider, rules=RULES, extra_channels={"voice-peer": trunk},
                          environment={"E2E_ALICE_SIP": "s3cret", "E2E_BO_SIP": "b0-secret", "HUB_SIP_PEER_RATE": "30"})
    hub = next(fixture)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            local = "%s:%d" % udp.getsockname()
            started = time.monotonic()
            for index in range(100):
                request = ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKpeer%d\r\n"
                           "From: <sip:trunk@127.0.0.1>;tag=p%d\r\nTo: <sip:%s>\r\nCall-ID: peer-rate-%d\r\nCSeq: 1 OPTIONS\r\n"
                           "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n") % (DOMAIN, local, index, index, DOMAIN, index)
                udp.sendto(request.encode(), hub.sip)
            sent = time.monotonic() - started
            udp.settimeout(1.0)
            answers = set()
            try:
                while True:
                    data = udp.recv(65536).decode()
                    assert data.startswith("SIP/2.0 200 "), data
                    answers.add(data.split("Call-ID: ", 1)[1].split("\r\n", 1)[0])
            except socket.timeout:
                pass
        # The limit counts per second of the clock: a burst can straddle two.
        windows = int(sent) + 2
        assert 30 <= len(answers) <= 30 * windows, f"{len(answers)} of 100 answered in {sent:.2f} s"
        assert len(answers) < 100
        with open(hub.log_path) as log:
            text = log.read()
        assert "SIP flood from one source: messages dropped" in text
        assert "peer_rate=30" in text
    finally:
        for _ in fixture:
            pass
        provider.close()

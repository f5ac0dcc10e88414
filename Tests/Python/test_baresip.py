"""A real SIP phone on an agent's desk: baresip (Debian package `baresip-core`) registers as
Alice's phone with digest auth and answers, on its own, the call SIPp places as the carrier's
trunk. Where test_sip_calls.py scripts every message of the phone's side, here a user agent
that knows nothing of the hub has to accept the 401, the INVITE the B2BUA sends it and the
caller's BYE, and its own SDP answer has to reach the caller.
"""

import os
import shutil
import subprocess
import tempfile

import pytest

from test_sip import DOMAIN, SIPP, reachable, wait_for
from test_sip_calls import (CALLER, CALLER_ANSWERED, CALLER_HANGS_UP, PASSWORDS, SUPPORT, call, call_record, calls_hub,
                            free_udp_port, received)

BARESIP = shutil.which("baresip")
pytestmark = [
    pytest.mark.skipif(SIPP is None, reason="SIPp (sip-tester) is not installed"),
    pytest.mark.skipif(BARESIP is None, reason="baresip (baresip-core) is not installed"),
]

# Where Debian (and a build from source) put baresip's modules.
MODULE_PATHS = ["/usr/lib/baresip/modules", "/usr/lib/x86_64-linux-gnu/baresip/modules",
                "/usr/lib/aarch64-linux-gnu/baresip/modules", "/usr/local/lib/baresip/modules"]

# Headless and on loopback only: no console module (stdio wants a terminal on stdin), no sound
# card (aubridge connects the player to the source in memory), G.711 for the caller's PCMU/PCMA
# offer, and the account module to read `accounts`. net_interface pins the address baresip
# writes in its SDP to 127.0.0.1 instead of whatever interface has the default route.
CONFIG = """sip_listen\t\t127.0.0.1:{port}
net_interface\t\t127.0.0.1
module_path\t\t{modules}
module\t\t\tg711.so
module\t\t\taubridge.so
module_tmp\t\taccount.so
audio_player\t\taubridge,phone
audio_source\t\taubridge,phone
audio_alert\t\taubridge,phone
"""

# Alice's account: registers through the hub's SIP element (`outbound` is the first hop, the
# REGISTER still names the domain) every 5 minutes, and answers every call at once.
ACCOUNT = '<sip:alice@{domain}>;auth_pass={password};outbound="sip:{host}:{port}";regint=300;answermode=auto\n'


@pytest.fixture()
def hub():
    # Debian 12's baresip 1.0.0 (libre 1.1.0) knows only MD5 and gives up on a 401 that also
    # carries a challenge in another algorithm ("Register: Function not implemented": ENOSYS
    # from libre's sip/auth.c, which checks every WWW-Authenticate, not just the first it can
    # answer); libre learnt SHA-256 only in 2024 (baresip/re#1103). So this hub offers MD5
    # alone, as an operator with such phones would (HUB_SIP_DIGEST).
    yield from calls_hub(HUB_SIP_DIGEST="MD5")


class Baresip:
    """baresip as an agent's phone, in its own configuration directory, logging every SIP
    message it sends and receives (-s) to baresip.log there."""

    def __init__(self, hub, agent):
        modules = next((path for path in MODULE_PATHS if os.path.isdir(path)), MODULE_PATHS[0])
        self.directory = tempfile.mkdtemp(prefix=f"baresip-{agent}-")
        with open(os.path.join(self.directory, "config"), "w") as f:
            f.write(CONFIG.format(port=free_udp_port(), modules=modules))
        with open(os.path.join(self.directory, "accounts"), "w") as f:
            f.write(ACCOUNT.format(domain=DOMAIN, password=PASSWORDS[agent], host=hub.sip[0], port=hub.sip[1]))
        self.log_path = os.path.join(self.directory, "baresip.log")
        self.log = open(self.log_path, "w")
        # In the foreground (not -d, which forks) so that the test holds its process; stdin closed.
        self.process = subprocess.Popen([BARESIP, "-f", self.directory, "-s"], stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=subprocess.STDOUT)

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def close(self):
        # SIGTERM: baresip ends its calls and unregisters (the hub is still up), then exits.
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        if not os.environ.get("E2E_KEEP_PHONES"):
            shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture()
def alice_phone(hub):
    phone = Baresip(hub, "alice")
    try:
        yield phone
    finally:
        phone.close()


def test_baresip_registers_with_digest_and_answers_a_routed_call(hub, alice_phone):
    # baresip registers at start: a 401, then the REGISTER with its MD5 answer.
    assert wait_for(lambda: reachable(hub, "alice"), timeout=15), alice_phone.output()[-3000:]
    assert alice_phone.process.poll() is None, alice_phone.output()[-3000:]
    assert "200 OK () [1 binding]" in alice_phone.output()
    status, body = hub.request("POST", "/v1/agents/alice/presence", {"presence": "available"})
    assert status == 200, body

    _, caller = call(hub, CALLER_ANSWERED, SUPPORT, CALLER_HANGS_UP)
    phone = alice_phone.output()

    # The caller's 200 carries baresip's SDP answer, not an echo of its own offer.
    ok = received(caller, "SIP/2.0 200 OK")[0]
    assert "a=tool:baresip" in ok and "o=customer" not in ok and "s=customer-session" not in ok, ok
    assert "c=IN IP4 127.0.0.1" in ok and "m=audio 40000" not in ok, ok
    # baresip was offered the caller's SDP, under the registered contact, with the caller
    # masked; it answered, and the caller's BYE reached it.
    assert "INVITE sip:alice-" in phone and "s=customer-session" in phone and "m=audio 40000 RTP/AVP 0 8" in phone
    assert CALLER not in phone
    assert "Call established" in phone and "BYE sip:alice-" in phone, phone[-3000:]

    record = call_record(hub)
    assert record["agentId"] == "alice" and record["from"] == CALLER and record["to"] == SUPPORT
    assert record["hungUpBy"] == "customer" and record["hangupCause"] == "normal"
    assert record["queuedAt"] <= record["offeredAt"] <= record["answeredAt"] <= record["endedAt"]

"""The managers' figures from the running hub: real traffic through the api channel's webhook and
the REST inbox, then `GET /metrics` parsed by prometheus_client's own text parser (PyPI) and
`GET /v1/metrics/channels` as JSON and as CSV (parsed by Python's csv module)."""

import csv
import io
import json
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import ROOT, running_hub, wait_until

SCRAPE = "scrape-token-e2e"


@pytest.fixture(scope="module")
def hub(provider):
    for running in running_hub(provider, environment={"HUB_METRICS_TOKEN": SCRAPE}):
        yield running


def scrape(hub, token=SCRAPE):
    request = urllib.request.Request(hub.base + "/metrics", headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def samples(text):
    """{(name, frozenset(labels)): value} from the real parser."""
    found = {}
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return families, found


def handle_one_and_abandon_one(hub):
    """user-1 reaches bo (support) and is done (bo wraps up); user-2 is left waiting (bo went away
    before taking it); a forged webhook is refused."""
    answer = hub.customer_message("metrics-user-1", "help", "metrics-m-1")
    first = answer["conversationId"]
    hub.customer_message("metrics-user-2", "anyone?", "metrics-m-2")
    status, _ = hub.request("POST", "/v1/agents/bo/presence", {"presence": "available"})
    assert status == 200

    def offer_to_bo():
        _, routing = hub.request("GET", f"/v1/conversations/{first}/routing")
        offer = routing.get("lastOffer") or {}
        return offer.get("offerId") if offer.get("agentId") == "bo" else None

    assert wait_until(offer_to_bo)
    offer = offer_to_bo()
    accepted = hub.request("POST", f"/v1/offers/{offer}/accept")
    assert accepted[0] == 200, (accepted, hub.request("GET", f"/v1/conversations/{first}/routing"))
    assert hub.request("POST", "/v1/agents/bo/presence", {"presence": "away", "reason": "break"})[0] == 200
    assert hub.request("POST", f"/v1/conversations/{first}/complete")[0] == 200
    forged = urllib.request.Request(hub.base + "/webhooks/api-demo", data=b'{"messageId":"x","from":{"id":"u"},"text":"x"}',
                                    headers={"Content-Type": "application/json", "X-Switchboard-Signature-256": "sha256=00"})
    try:
        urllib.request.urlopen(forged, timeout=10)
        raise AssertionError("a forged webhook was accepted")
    except urllib.error.HTTPError as error:
        assert error.code == 401


def test_prometheus_exposition_parses_and_carries_the_documented_names_and_labels(hub):
    handle_one_and_abandon_one(hub)

    def scraped():
        families, found = samples(scrape(hub))
        key = ("hub_inbound_rejected_total", frozenset({"channel": "api", "queue": ""}.items()))
        return (families, found) if found.get(key) == 1 else None

    assert wait_until(scraped), "the refused webhook was not counted"
    families, found = scraped()
    support = frozenset({"channel": "api", "queue": "support"}.items())
    # prometheus_client names counter families without `_total`; the samples keep it.
    assert families["hub_contacts_offered"].type == "counter"
    assert found[("hub_contacts_offered_total", support)] == 2
    assert found[("hub_contacts_handled_total", support)] == 1
    assert found[("hub_contacts_handled_in_threshold_total", support)] == 1
    assert found[("hub_contacts_abandoned_total", support)] == 0
    assert found[("hub_messages_inbound_total", support)] == 2
    assert ("hub_contact_wait_seconds_total", support) in found
    assert families["hub_queue_waiting"].type == "gauge"
    assert found[("hub_queue_waiting", support)] == 1
    assert found[("hub_queue_longest_wait_seconds", support)] > 0
    assert families["hub_agents"].type == "gauge"
    # bo is away, wrapping up the first conversation (the support queue's wrap-up is 10 minutes).
    assert found[("hub_agents", frozenset({"medium": "messaging", "state": "wrapUp"}.items()))] == 1
    assert found[("hub_agent_state_seconds_total", frozenset({"agent": "bo", "state": "busy"}.items()))] > 0
    # The families named in docs/metrics.md are there, each with its labels.
    documented = open(ROOT + "/docs/metrics.md").read()
    for name, labels in {
        "hub_contacts_handled": {"channel", "queue"},
        "hub_first_responses": {"channel", "queue"},
        "hub_tickets_resolved": {"channel", "queue"},
        "hub_csat_answered": {"channel", "queue"},
        "hub_sla_breaches": {"channel", "queue"},
        "hub_agent_state_seconds": {"agent", "state"},
    }.items():
        family = families[name]
        assert family.samples, name
        assert all(set(sample.labels) == labels for sample in family.samples), name
        assert "`%s_total`" % name in documented or "`%s`" % name in documented, name


def test_the_scrape_needs_a_token(hub):
    for token in ("", "wrong"):
        request = urllib.request.Request(hub.base + "/metrics", headers={"Authorization": "Bearer " + token} if token else {})
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("scraped without a token")
        except urllib.error.HTTPError as error:
            assert error.code == 401
    # The admin token and a supervisor's session are let in too; an agent is not.
    assert "hub_contacts_offered_total" in scrape(hub, token="admin-token-e2e")
    assert "hub_contacts_offered_total" in scrape(hub, token=hub.login("alice"))
    try:
        scrape(hub, token=hub.login("carol"))
        raise AssertionError("an agent scraped")
    except urllib.error.HTTPError as error:
        assert error.code == 403


def test_report_json_and_csv(hub):
    status, report = hub.request("GET", "/v1/metrics/channels?minutes=60&groupBy=channel,queue")
    assert status == 200
    groups = {(group["channel"], group["queue"]): group["figures"] for group in report["groups"]}
    support = groups[("api", "support")]
    assert support["offered"] == 2 and support["handled"] == 1 and support["answerRate"] == 1
    assert support["averageResolutionSeconds"] is None
    assert report["now"]["queues"] == [{"channel": "api", "queue": "support", "waiting": 1,
                                        "longestWaitSeconds": report["now"]["queues"][0]["longestWaitSeconds"]}]
    status, text = hub.request("GET", "/v1/metrics/channels?minutes=60&groupBy=channel,queue&format=csv", raw=True)
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text.decode())))
    row = next(row for row in rows if row["channel"] == "api" and row["queue"] == "support")
    assert row["offered"] == "2" and row["handled"] == "1" and row["averageResolutionSeconds"] == ""
    assert set(support) <= set(rows[0])


def test_the_supervisors_live_stream_follows_changes(hub):
    """A supervisor's socket gets the figures at once, then a new frame as soon as a customer's
    message is counted (the queue grows), before the heartbeat; an agent's socket is refused."""
    import asyncio
    import time

    import websockets

    async def scenario():
        async with websockets.connect(f"{hub.ws_base}/v1/supervisor/ws?access_token={hub.login('alice')}") as socket:
            first = json.loads(await asyncio.wait_for(socket.recv(), 5))
            assert first["type"] == "metrics.live"
            waiting = {(q["channel"], q["queue"]): q["waiting"] for q in first["queues"]}.get(("api", "support"), 0)
            assert "api" in first["today"]["channels"]
            assert first["today"]["channels"]["api"]["offered"] >= 2
            sent = time.monotonic()
            hub.customer_message("metrics-live-user", "still there?", "metrics-live-1")
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
                queues = {(q["channel"], q["queue"]): q["waiting"] for q in frame["queues"]}
                if queues.get(("api", "support"), 0) == waiting + 1:
                    break
            # Pushed by the change, not by the 5-second heartbeat (the hub sends within about
            # 200 ms of the commit; a generous bound here, since this is a debug build on a shared
            # machine: speed is the benchmarks' business).
            elapsed = time.monotonic() - sent
            assert elapsed < 4.0, elapsed
        async with websockets.connect(f"{hub.ws_base}/v1/supervisor/ws?access_token={hub.login('carol')}") as socket:
            refusal = json.loads(await asyncio.wait_for(socket.recv(), 5))
            assert refusal["type"] == "error" and refusal["code"] == "forbidden"

    asyncio.run(scenario())

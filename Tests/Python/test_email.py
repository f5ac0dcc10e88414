"""E-mail end to end with real peers: Python's smtplib sends mail to the hub's SMTP listener
(plain, HTML-only, multipart with an attachment, GB2312), an agent answers over the WebSocket
inbox, the reply reaches an aiosmtpd sink (the relay) with the threading headers a mail client
needs, and the customer's answer to it lands in the same conversation. Also: unknown recipients
refused at RCPT, oversize mail refused with 552, a connection dropped mid-DATA stores nothing,
retries stored once, bounces attached to the message, and no acknowledgement to automatic mail."""

import asyncio
import base64
import email
import email.policy
import smtplib
import socket
import threading
import time
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from aiosmtpd.controller import Controller

from conftest import channel_hub, free_port
from hub_queries import conversation_of, messages, received_count, wait_for_message, wait_for_spool
from inbox_client import Agent, kind, run

MAILBOX = "support@hub.test"


class Sink:
    """The relay the hub submits replies to: aiosmtpd, keeping every envelope and message."""

    def __init__(self):
        self.mails = []
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    sink.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
                return "250 2.0.0 OK queued"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def received(self):
        with self.lock:
            return [(sender, recipients, email.message_from_bytes(raw, policy=email.policy.default), raw)
                    for sender, recipients, raw in self.mails]

    def wait(self, count, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.received()) >= count:
                return self.received()
            time.sleep(0.05)
        raise AssertionError(f"the sink got {len(self.received())} mails, expected {count}")

    def close(self):
        self.controller.stop()


@pytest.fixture(scope="module")
def sink():
    relay = Sink()
    yield relay
    relay.close()


@pytest.fixture(scope="module")
def mail_hub(sink):
    channel = f"""kind: email
id: email-support
name: Support (e-mail)
queue: support
options:
  address: {MAILBOX}
  aliases: [help@hub.test]
  displayName: Hub Support
  relay: {{ host: 127.0.0.1, port: {sink.port}, security: none }}
  autoReply: {{ text: "We received: {{subject}}", interval: 1h }}
delivery: {{ maxAttempts: 4, initialBackoff: 200ms, maxBackoff: 1s }}
"""
    for hub in channel_hub({"email-support": channel}, {"HUB_SMTP_MAX_SIZE": "200000"}):
        yield hub


def send(hub, message, sender=None, recipients=(MAILBOX,)):
    """Sends a mail and waits until the hub has threaded it (its 250 comes once the mail is spooled)."""
    with smtplib.SMTP(*hub.smtp, timeout=30) as client:
        client.ehlo("customer.example.test")
        refused = client.send_message(message, from_addr=sender, to_addrs=list(recipients))
    wait_for_spool(hub)
    return refused


def plain(sender, subject, body, message_id, **headers):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = MAILBOX
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def test_a_mail_is_answered_in_the_inbox_and_the_thread_holds_both_ways(mail_hub, sink):
    async def scenario():
        bo = Agent(mail_hub, mail_hub.login("bo"))
        await bo.connect()
        await bo.call({"type": "presence.set", "presence": "available"})

        send(mail_hub, plain("Li Lei <lilei@example.test>", "退款进度", "你好，我的退款到哪一步了？\n\n-- \n李雷", "<c1@example.test>"))
        offer = await bo.wait_for(kind("offer.created"))
        conversation = offer["data"]["conversationId"]
        stored = messages(mail_hub, conversation)
        assert [m["text"] for m in stored if m["direction"] == "inbound"] == ["你好，我的退款到哪一步了？"], "the signature is not shown"
        assert offer["screenPop"]["conversation"]["subject"] == "退款进度"

        # The acknowledgement (autoReply) goes out at once, marked automatic and threaded, and is on
        # the timeline as the hub's message.
        ack = sink.wait(1)[0]
        await wait_for_message(mail_hub, conversation, lambda m: m["direction"] == "outbound" and m["author"]["kind"] == "system")
        assert ack[2]["Auto-Submitted"] == "auto-replied" and ack[2]["In-Reply-To"] == "<c1@example.test>"
        assert ack[2].get_content().strip() == "We received: 退款进度"

        await bo.call({"type": "offer.accept", "offerId": offer["data"]["offerId"]})
        await bo.wait_for(kind("routing.assigned"))
        reply = await bo.call({"type": "message.send", "conversationId": conversation, "text": "您好，退款已在处理中，预计三个工作日到账。",
                               "clientMessageId": "mail-reply-1"})
        assert reply["type"] == "ack", reply
        mails = sink.wait(2)
        envelope_from, recipients, answer, raw = mails[1]
        assert recipients == ["lilei@example.test"]
        assert envelope_from.startswith("support+b") and envelope_from.endswith("@hub.test"), "bounces come back to a delivery token"
        assert answer["Subject"] == "Re: 退款进度"
        assert answer["In-Reply-To"] == "<c1@example.test>"
        assert "<c1@example.test>" in answer["References"]
        assert answer["Auto-Submitted"] is None, "an agent's reply is not automatic"
        assert answer["Reply-To"].addresses[0].addr_spec.startswith("support+c")
        assert answer["From"].addresses[0].addr_spec == MAILBOX
        assert answer.get_content().strip() == "您好，退款已在处理中，预计三个工作日到账。"
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
        ours = answer["Message-ID"]

        # The customer answers the reply (their client quotes it): the same conversation.
        follow = plain("Li Lei <lilei@example.test>", "Re: 退款进度", "好的，谢谢！\n\n在 2026年12月2日，Hub Support 写道：\n> 您好，退款已在处理中",
                       "<c2@example.test>", In_Reply_To=ours, References=f"<c1@example.test> {ours}")
        send(mail_hub, follow)
        found = await wait_for_message(mail_hub, conversation, lambda m: m["text"] == "好的，谢谢！")
        assert found["direction"] == "inbound"

        # A client that drops References still reaches the conversation through Reply-To's token.
        token_address = answer["Reply-To"].addresses[0].addr_spec
        lost = plain("Li Lei <lilei@example.test>", "还有一个问题", "发票什么时候开？", "<c3@example.test>")
        send(mail_hub, lost, recipients=(token_address,))
        await wait_for_message(mail_hub, conversation, lambda m: m["text"] == "发票什么时候开？")
        # ...and it is not acknowledged again (at most one per address per hour).
        time.sleep(0.5)
        assert len(sink.received()) == 2
        await bo.close()

    run(scenario())


def test_html_only_multipart_gb2312_and_the_original_kept(mail_hub):
    html = EmailMessage()
    html["From"] = "wang@example.test"
    html["To"] = MAILBOX
    html["Subject"] = "HTML only"
    html["Message-ID"] = "<h1@example.test>"
    html.set_content("<p>Order <b>#42</b> is late.<script>alert(1)</script></p><p>Second line</p>", subtype="html")
    send(mail_hub, html)
    conversation = conversation_of(mail_hub, "email", "wang@example.test")
    [stored] = inbound(mail_hub, conversation)
    assert "Order #42 is late." in stored["text"] and "Second line" in stored["text"] and "alert" not in stored["text"]
    assert "<script" not in stored["metadata"]["email"]["html"] and "<b>#42</b>" in stored["metadata"]["email"]["html"]
    assert stored["metadata"]["original"] is True

    pdf = b"%PDF-1.4 fake invoice \x00\x01\x02" * 100
    mixed = MIMEMultipart()
    mixed["From"] = "zhao@example.test"
    mixed["To"] = MAILBOX
    mixed["Subject"] = "Invoice attached"
    mixed["Message-ID"] = "<m1@example.test>"
    mixed.attach(MIMEText("Please see the invoice.", "plain", "utf-8"))
    part = MIMEApplication(pdf, "pdf")
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "发票.pdf"))
    mixed.attach(part)
    send(mail_hub, mixed)
    conversation = conversation_of(mail_hub, "email", "zhao@example.test")
    [stored] = inbound(mail_hub, conversation)
    assert stored["text"] == "Please see the invoice."
    [attachment] = stored["attachments"]
    assert attachment["filename"] == "发票.pdf" and attachment["contentType"] == "application/pdf" and attachment["byteCount"] == len(pdf)
    status, body = mail_hub.request("GET", f"/v1/messages/{stored['id']}/attachments/0", raw=True)
    assert status == 200 and body == pdf

    # GB2312 subject (an encoded word written by hand, as real clients label it) and body.
    body = "您好，我想查询订单状态。朱镕基".encode("gb18030")
    raw = (b"From: =?GB2312?B?" + base64.b64encode("张三".encode("gb2312")) + b"?= <zhang@example.test>\r\n"
           b"To: support@hub.test\r\nSubject: =?GB2312?B?xPq1xLmktaUgIzEyMzQg17TMrNLRuPzQwg==?=\r\n"
           b"Message-ID: <g1@example.test>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n")
    with smtplib.SMTP(*mail_hub.smtp, timeout=30) as client:
        client.sendmail("zhang@example.test", [MAILBOX], raw)
    wait_for_spool(mail_hub)
    conversation = conversation_of(mail_hub, "email", "zhang@example.test")
    [stored] = inbound(mail_hub, conversation)
    assert stored["text"] == "您好，我想查询订单状态。朱镕基"
    status, detail = mail_hub.request("GET", f"/v1/conversations/{conversation}")
    assert status == 200 and detail["subject"] == "您的工单 #1234 状态已更新", detail

    # The original, byte for byte after the hub's Received header.
    status, original = mail_hub.request("GET", f"/v1/messages/{stored['id']}/raw", raw=True)
    assert status == 200
    assert original.startswith(b"Received: ") and original.endswith(raw), original[:300]


def test_a_retry_of_the_same_mail_is_stored_once_and_a_reused_id_is_not_a_retry(mail_hub):
    message = plain("retry@example.test", "Once", "Only once please", "<r1@example.test>")
    send(mail_hub, message)
    send(mail_hub, message)
    conversation = conversation_of(mail_hub, "email", "retry@example.test")
    assert [m["text"] for m in inbound(mail_hub, conversation)] == ["Only once please"]
    # Someone else's mail with the same Message-ID is not a retry: it is stored, once.
    other = plain("reuser@example.test", "Mine", "A different mail, a reused id", "<r1@example.test>")
    send(mail_hub, other)
    send(mail_hub, other)
    theirs = conversation_of(mail_hub, "email", "reuser@example.test")
    assert theirs != conversation
    assert [m["text"] for m in inbound(mail_hub, theirs)] == ["A different mail, a reused id"]
    assert [m["text"] for m in inbound(mail_hub, conversation)] == ["Only once please"]


def test_unknown_recipients_are_refused_at_rcpt(mail_hub):
    before = received_count(mail_hub)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(mail_hub, plain("x@example.test", "Hi", "Hello", "<u1@example.test>"), recipients=("nobody@hub.test",))
    assert refused.value.recipients["nobody@hub.test"][0] == 550
    # An alias and a plus-address of the mailbox are accepted.
    send(mail_hub, plain("x@example.test", "Hi", "Hello alias", "<u2@example.test>"), recipients=("help@hub.test",))
    send(mail_hub, plain("x@example.test", "Hi", "Hello plus", "<u3@example.test>"), recipients=("support+orders@hub.test",))
    assert received_count(mail_hub) == before + 2


def test_oversize_mail_is_refused_with_552(mail_hub):
    before = received_count(mail_hub)
    big = plain("big@example.test", "Big", "x" * 300_000, "<b1@example.test>")
    # smtplib declares SIZE= at MAIL FROM: refused there.
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
        send(mail_hub, big)
    assert refused.value.smtp_code == 552
    # Without SIZE=, the hub counts during DATA and refuses after the final dot.
    with socket.create_connection(mail_hub.smtp, timeout=30) as connection:
        reader = connection.makefile("rb")

        def command(line):
            connection.sendall(line + b"\r\n")
            return read_reply(reader)

        assert read_reply(reader).startswith(b"220")
        assert command(b"EHLO big.example.test").startswith(b"250")
        assert command(b"MAIL FROM:<big@example.test>").startswith(b"250")
        assert command(b"RCPT TO:<support@hub.test>").startswith(b"250")
        assert command(b"DATA").startswith(b"354")
        connection.sendall(b"Subject: big\r\nMessage-ID: <b2@example.test>\r\n\r\n" + (b"y" * 998 + b"\r\n") * 300)
        assert command(b".").startswith(b"552")
    assert received_count(mail_hub) == before


def test_a_connection_dropped_mid_data_stores_nothing(mail_hub):
    before = received_count(mail_hub)
    with socket.create_connection(mail_hub.smtp, timeout=30) as connection:
        reader = connection.makefile("rb")
        read_reply(reader)
        for line in (b"EHLO drop.example.test", b"MAIL FROM:<drop@example.test>", b"RCPT TO:<support@hub.test>", b"DATA"):
            connection.sendall(line + b"\r\n")
            read_reply(reader)
        connection.sendall(b"From: drop@example.test\r\nSubject: cut\r\nMessage-ID: <d1@example.test>\r\n\r\nhalf a mess")
    time.sleep(0.5)
    assert received_count(mail_hub) == before
    status, found = mail_hub.request("GET", "/v1/customers?handleKind=email&address=drop@example.test")
    assert status == 404, found


def test_a_bounce_marks_the_reply_failed_and_is_attached(mail_hub, sink):
    async def scenario():
        count = len(sink.received())
        send(mail_hub, plain("gone@example.test", "Where is it", "Hello?", "<x1@example.test>"))
        conversation = conversation_of(mail_hub, "email", "gone@example.test")
        status, sent = mail_hub.request("POST", f"/v1/conversations/{conversation}/messages", {"text": "It is on its way."})
        assert status in (200, 201, 202), sent
        # The acknowledgement and the reply.
        mails = sink.wait(count + 2)
        reply = [m for m in mails[count:] if m[2]["Auto-Submitted"] is None][0]
        envelope_from, _, answer, _ = reply
        dsn = (f"From: MAILER-DAEMON@mx.example.test\r\nTo: {envelope_from}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
               f"Message-ID: <dsn1@mx.example.test>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
               f"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
               f"--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
               f"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n"
               f"Final-Recipient: rfc822; gone@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
               f"Diagnostic-Code: smtp; 550 5.1.1 <gone@example.test>: Recipient address rejected: User unknown\r\n"
               f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {answer['Message-ID']}\r\nTo: gone@example.test\r\n"
               f"--B--\r\n").encode()
        with smtplib.SMTP(*mail_hub.smtp, timeout=30) as client:
            client.sendmail("", [envelope_from], dsn)
        failed = await wait_for_message(mail_hub, conversation, lambda m: m["direction"] == "outbound" and m.get("deliveryStatus") == "failed"
                                        and m["text"] == "It is on its way.")
        assert "5.1.1" in failed["deliveryError"] and "User unknown" in failed["deliveryError"]
        assert failed["metadata"]["deliveryReport"].startswith("blob:sha256:")
        # The bounce is not a customer message.
        assert [m["text"] for m in messages(mail_hub, conversation) if m["direction"] == "inbound"] == ["Hello?"]

    run(scenario())


def test_automatic_mail_is_stored_but_never_acknowledged(mail_hub, sink):
    count = len(sink.received())
    send(mail_hub, plain("news@example.test", "Weekly news", "Our newsletter", "<n1@example.test>", Precedence="bulk",
                         List_Id="<news.example.test>"))
    send(mail_hub, plain("ooo@example.test", "Out of office", "I am away", "<o1@example.test>", Auto_Submitted="auto-replied"))
    conversation = conversation_of(mail_hub, "email", "ooo@example.test")
    [stored] = inbound(mail_hub, conversation)
    assert stored["metadata"]["email"]["autoSubmitted"]
    time.sleep(1)
    assert len(sink.received()) == count, "no acknowledgement to bulk or auto-submitted mail"


def inbound(hub, conversation):
    """The customer's messages in a conversation (acknowledgements and replies left out)."""
    return [m for m in messages(hub, conversation) if m["direction"] == "inbound"]


def read_reply(reader):
    """One SMTP reply, all its lines."""
    lines = b""
    while True:
        line = reader.readline()
        lines += line
        if len(line) < 4 or line[3:4] != b"-":
            return lines


@pytest.fixture(scope="module")
def tls_hub(sink, tmp_path_factory):
    """A hub whose listener offers STARTTLS with a certificate made for the test, and requires it."""
    import subprocess
    directory = tmp_path_factory.mktemp("smtp-tls")
    certificate, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    channel = f"""kind: email
id: email-tls
queue: support
options:
  address: secure@hub.test
  relay: {{ host: 127.0.0.1, port: {sink.port}, security: none }}
"""
    environment = {"HUB_SMTP_TLS_CERT": str(certificate), "HUB_SMTP_TLS_KEY": str(key), "HUB_SMTP_REQUIRE_TLS": "1"}
    for hub in channel_hub({"email-tls": channel}, environment):
        yield hub


def test_starttls_with_the_configured_certificate(tls_hub):
    import ssl
    message = plain("tls@example.test", "Over TLS", "Sent encrypted", "<t1@example.test>")
    message.replace_header("To", "secure@hub.test")
    with smtplib.SMTP(*tls_hub.smtp, timeout=30) as client:
        client.ehlo("customer.example.test")
        assert client.has_extn("starttls")
        # Required: nothing is accepted before STARTTLS.
        code, _ = client.mail("tls@example.test")
        assert code == 530
        client.rset()
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        client.starttls(context=context)
        client.ehlo("customer.example.test")
        assert not client.has_extn("starttls")
        client.send_message(message, to_addrs=["secure@hub.test"])
    wait_for_spool(tls_hub)
    conversation = conversation_of(tls_hub, "email", "tls@example.test")
    assert [m["text"] for m in inbound(tls_hub, conversation)] == ["Sent encrypted"]

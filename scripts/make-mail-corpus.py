#!/usr/bin/env python3
"""Writes the MailCore parser corpus: tricky real-world-style messages and, for each, what the
parser must find (Tests/MailCoreTests/Corpus/expectations.json). Python encodes known text in
known charsets, so the expectations are the text before encoding. Labels are written by hand
(Python's email.header would write "eucgb2312_cn")."""
import base64, json, os, quopri, sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "MailCoreTests", "Corpus")
corpus, expectations = {}, {}

def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width))

def ew_b(text, charset, label=None):
    return "=?%s?B?%s?=" % (label or charset, base64.b64encode(text.encode(charset)).decode())

def qp(data):
    return quopri.encodestring(data.replace(b"\r\n", b"\n")).decode().replace("\n", "\r\n")

def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")

def add(name, data, **exp):
    if isinstance(data, str):
        data = data.encode("utf-8")
    corpus[name] = data
    expectations[name] = exp

# 1. Plain ASCII with a folded subject and a comment in From.
add("01-plain-folded-subject.eml", crlf("""Return-Path: <alice@example.com>
Received: from mx.example.com (mx.example.com [192.0.2.1])
\tby hub.test with ESMTP id 12345
\tfor <support@hub.test>; Wed, 2 Dec 2026 10:00:00 +0000
From: Alice Example <alice@Example.COM>
To: support@hub.test
Subject: My order has not
 arrived yet
Date: Wed, 2 Dec 2026 10:00:00 +0800
Message-ID: <CAF=abc123@mail.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello,

My order 4711 has not arrived yet.

Thanks,
Alice
"""), subject="My order has not arrived yet", from_="alice@example.com", fromName="Alice Example",
    messageID="CAF=abc123@mail.example.com", date=1796176800, text=["My order 4711 has not arrived yet."],
    problems=False, attachments=[])

# 2. GB2312-labelled subject (the published example) and a GBK-only character in a gb2312 body.
gbk_body = "您好，\r\n朱镕基同志的工单已经处理。\r\n谢谢\r\n".encode("gbk")
add("02-gb2312-label-gbk-body.eml", crlf("""From: =?GB2312?B?1cXI/Q==?= <zhangsan@example.cn>
To: support@hub.test
Subject: =?GB2312?B?xPq1xLmktaUgIzEyMzQg17TMrNLRuPzQwg==?=
Date: Thu, 3 Dec 2026 09:30:00 +0800
Message-ID: <20261203093000.1@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: base64

""") + b64(gbk_body) + "\r\n", subject="您的工单 #1234 状态已更新", from_="zhangsan@example.cn", fromName="张三",
    text=["朱镕基同志的工单已经处理。"], problems=False)

# 3. UTF-8 subject split over B and Q words; quoted-printable body with soft breaks.
body3 = ("我想查询退款进度，订单号是 20261201-8899。已经过去一个多星期了，还没有收到退款，" * 2 + "\n谢谢！\n").encode()
add("03-utf8-qp-soft-breaks.eml", crlf("""From: "Li Si" <lisi@example.cn>
To: support@hub.test
Subject: Re: =?UTF-8?B?6YCA5qy+6L+b5bqm?= =?UTF-8?Q?_=E5=B7=B2?=
In-Reply-To: <t1234.m55.abc@hub.test>
References: <t1234.m54.xyz@hub.test>
 <t1234.m55.abc@hub.test>
Date: Fri, 4 Dec 2026 08:00:00 +0800
Message-ID: <reply-1@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

""") + qp(body3), subject="Re: 退款进度 已", from_="lisi@example.cn", fromName="Li Si",
    inReplyTo=["t1234.m55.abc@hub.test"], references=["t1234.m54.xyz@hub.test", "t1234.m55.abc@hub.test"],
    text=["订单号是 20261201-8899。已经过去一个多星期了"], problems=False)

# 4. Big5.
big5_text = "您好，我的訂單還沒有收到，請幫忙查詢。\r\n"
add("04-big5.eml", crlf("""From: %s <chen@example.tw>
To: support@hub.test
Subject: %s
Date: Sat, 5 Dec 2026 12:00:00 +0800
MIME-Version: 1.0
Content-Type: text/plain; charset=big5
Content-Transfer-Encoding: 8bit

""" % (ew_b("陳小姐", "big5"), ew_b("訂單查詢", "big5"))).encode() + big5_text.encode("big5"),
    subject="訂單查詢", from_="chen@example.tw", fromName="陳小姐", text=["我的訂單還沒有收到"], problems=False)

# 5. Shift_JIS (label in mixed case) with 8-bit body.
sjis_text = "お世話になっております。注文番号①の件です。\r\n"
add("05-shift-jis.eml", crlf("""From: %s <tanaka@example.jp>
To: support@hub.test
Subject: %s
Date: Sun, 6 Dec 2026 10:00:00 +0900
MIME-Version: 1.0
Content-Type: text/plain; charset=Shift_JIS
Content-Transfer-Encoding: 8bit

""" % (ew_b("田中太郎", "cp932", "Shift_JIS"), ew_b("注文について", "cp932", "SHIFT_JIS"))).encode() + sjis_text.encode("cp932"),
    subject="注文について", from_="tanaka@example.jp", fromName="田中太郎", text=["注文番号①の件です。"], problems=False)

# 6. ISO-2022-JP (7-bit, stateful).
jis_text = "ご注文ありがとうございます。\r\n発送は明日です。\r\n"
add("06-iso-2022-jp.eml", crlf("""From: support-jp@example.jp
To: support@hub.test
Subject: %s
Date: Mon, 7 Dec 2026 10:00:00 +0900
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit

""" % ew_b("発送のお知らせ", "iso-2022-jp", "ISO-2022-JP")).encode() + jis_text.encode("iso-2022-jp"),
    subject="発送のお知らせ", from_="support-jp@example.jp", text=["発送は明日です。"], problems=False)

# 7. ISO-8859-1 quoted-printable with lower-case hex, Q-encoded subject, and windows-1252 bytes.
latin = "Bonjour, je voudrais échanger ma crème brûlée – merci. Prix: 10€\r\n"
add("07-latin1-qp.eml", crlf("""From: =?iso-8859-1?q?Fran=E7ois?= <francois@example.fr>
To: support@hub.test
Subject: =?ISO-8859-1?Q?=C9change_de_cr=E8me?=
Date: Tue, 8 Dec 2026 10:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: Quoted-Printable

""") + qp(latin.encode("cp1252")).replace("=E9", "=e9"), subject="Échange de crème", fromName="François",
    from_="francois@example.fr", text=["je voudrais échanger ma crème brûlée – merci. Prix: 10€"], problems=False)

# 8. Bare LF line endings, tab folding, an encoded word folded over two lines.
add("08-lf-tab-folding.eml", """From: Bob <bob@example.org>
To: support@hub.test,
\tcarol@example.org
Subject: =?utf-8?q?Caf=C3=A9?=
\t=?utf-8?q?_order?=
Date: 9 Dec 2026 10:00:00 -0500
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Line one.
Line two.
""", subject="Café order", from_="bob@example.org", to=["support@hub.test", "carol@example.org"],
    text=["Line one.\nLine two."], problems=False, date=1796828400)

# 9. Headers only: no blank line, no body.
add("09-headers-only.eml", crlf("""From: nobody@example.org
To: support@hub.test
Subject: Empty
Date: Thu, 10 Dec 2026 10:00:00 +0000
"""), subject="Empty", from_="nobody@example.org", attachments=[])

# 10. Body right after the headers without a blank line.
add("10-no-separator.eml", crlf("""From: hasty@example.org
Subject: No separator
This line is the body, not a header.
Second line.
"""), subject="No separator", from_="hasty@example.org", text=["This line is the body, not a header."], problems=True)

# 11. Duplicated headers.
add("11-duplicate-headers.eml", crlf("""From: dup@example.org
To: a@example.org
To: b@example.org
Cc: "Doe, John" <john@example.org>, (just a comment) jane@example.org
Subject: First subject
Subject: Second subject
MIME-Version: 1.0

Body.
"""), subject="First subject", from_="dup@example.org", to=["a@example.org", "b@example.org"],
    cc=["john@example.org", "jane@example.org"], text=["Body."])

# 12. SMTPUTF8: raw UTF-8 in headers.
add("12-raw-utf8-headers.eml", crlf("""From: 王五 <wangwu@例子.中国>
To: support@hub.test
Subject: 发票问题 – 请帮忙
Date: Fri, 11 Dec 2026 10:00:00 +0800
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

我需要开发票。
"""), subject="发票问题 – 请帮忙", from_="wangwu@例子.中国", fromName="王五", text=["我需要开发票。"], problems=False)

# 13. Raw GBK bytes in headers (old Chinese clients), body charset gbk.
add("13-raw-gbk-headers.eml", crlf("""From: 赵六 <zhaoliu@example.cn>
To: support@hub.test
Subject: 关于订单的投诉
Date: Sat, 12 Dec 2026 10:00:00 +0800
MIME-Version: 1.0
Content-Type: text/plain; charset=gbk
Content-Transfer-Encoding: 8bit

快递一直没有到。
""").encode("gbk"), subject="关于订单的投诉", from_="zhaoliu@example.cn", fromName="赵六", text=["快递一直没有到。"], problems=True)

# 14. multipart/alternative with hostile HTML.
html14 = """<html><head><style>p{color:red}</style><script>alert(1)</script></head>
<body onload="steal()"><p class="x" onclick="evil()">Hello <b>agent</b>,</p>
<p><a href="javascript:alert(1)">click</a> <a href="https://shop.example.com/o/1?a=1&amp;b=2">order</a></p>
<iframe src="https://evil.example"></iframe><img src="https://tracker.example/pixel.gif"><img src="cid:logo@x">
<div>Thanks<br>Eve</div></body></html>"""
add("14-alternative-hostile-html.eml", crlf("""From: Eve <eve@example.net>
To: support@hub.test
Subject: Alternative
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt-1"

This is a multi-part message in MIME format.

--alt-1
Content-Type: text/plain; charset=utf-8

Hello agent, plain version.

--alt-1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

""") + qp(html14.encode()) + crlf("""
--alt-1--
epilogue text
"""), subject="Alternative", text=["Hello agent, plain version."], html=["<b>agent</b>", "https://shop.example.com/o/1?a=1&amp;b=2", "cid:logo@x"],
    htmlNot=["script", "onclick", "onload", "javascript", "iframe", "tracker.example", "style", "alert"], problems=False, attachments=[])

# 15. HTML only: text derived from it.
html15 = """<!DOCTYPE html><html><body><div>Hi team,</div><div>the&nbsp;parcel &amp; invoice are missing.<br>Order&nbsp;#77</div>
<p>Regards</p><p>Mallory &lt;m@example.com&gt;</p><script>var x = "<p>not text</p>";</script></body></html>"""
add("15-html-only.eml", crlf("""From: mallory@example.com
To: support@hub.test
Subject: HTML only
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

""") + b64(html15.encode()) + "\r\n", subject="HTML only",
    textEquals="Hi team,\nthe parcel & invoice are missing.\nOrder #77\n\nRegards\n\nMallory <m@example.com>", htmlNot=["script", "not text"])

# 16. Attachment names: RFC 2231, continuations with charset, RFC 2047 in quotes, name= only, paths.
pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

add("16-attachment-names.eml", crlf("""From: files@example.com
To: support@hub.test
Subject: Files
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain; charset=utf-8

Four files attached.
--mix
Content-Type: application/pdf
Content-Disposition: attachment; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf
Content-Transfer-Encoding: base64

""") + b64(pdf) + crlf("""
--mix
Content-Type: application/octet-stream
Content-Disposition: attachment;
 filename*0*=gb2312''%C9%CF%BA%A3;
 filename*1*=%CA%D0%B1%A8%B8%E6;
 filename*2=".docx"
Content-Transfer-Encoding: base64

""") + b64(b"docx-bytes") + crlf("""
--mix
Content-Type: image/png; name="=?GB2312?B?zbzGrA==?=.png"
Content-Disposition: attachment; filename="=?GB2312?B?zbzGrA==?=.png"
Content-Transfer-Encoding: base64

""") + b64(b"\x89PNG\r\n\x1a\nfake") + crlf("""
--mix
Content-Type: application/x-msdownload; name="..\\\\..\\\\windows\\\\evil.exe"
Content-Transfer-Encoding: base64

""") + b64(b"MZ") + crlf("""
--mix--
"""), subject="Files", text=["Four files attached."],
    attachments=["发票.pdf", "上海市报告.docx", "图片.png", "evil.exe"], attachmentSizes=[len(pdf), 10, 12, 2], problems=False)

# 17. mixed > alternative > related with a cid image, plus an attachment.
png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
add("17-nested-related-cid.eml", crlf("""From: Grace <grace@example.com>
To: support@hub.test
Subject: Screenshot of the error
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner-alt"

--inner-alt
Content-Type: text/plain; charset=utf-8

See the screenshot [image: shot.png] of the error.

--inner-alt
Content-Type: multipart/related; boundary="rel"; type="text/html"

--rel
Content-Type: text/html; charset=utf-8

<div>See the screenshot <img src="cid:shot@grace"> of the error.</div>
--rel
Content-Type: image/png; name="shot.png"
Content-ID: <shot@grace>
Content-Transfer-Encoding: base64

""") + b64(png) + crlf("""
--rel--

--inner-alt--

--outer
Content-Type: text/csv; name="log.csv"
Content-Disposition: attachment; filename="log.csv"

time,error
10:00,E42
--outer--
"""), subject="Screenshot of the error", text=["See the screenshot [image: shot.png] of the error."],
    html=['<img src="cid:shot@grace">'], attachments=["shot.png", "log.csv"], inline=[True, False], contentIDs=["shot@grace", None],
    attachmentSizes=[len(png), 21], problems=False)

# 18. Forwarded message/rfc822.
add("18-forwarded-rfc822.eml", crlf("""From: Heidi <heidi@example.com>
To: support@hub.test
Subject: Fwd: Your invoice
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwd"

--fwd
Content-Type: text/plain; charset=utf-8

Please see the forwarded mail below.

--fwd
Content-Type: message/rfc822
Content-Disposition: inline

From: billing@shop.example
To: heidi@example.com
Subject: =?utf-8?q?Your_invoice_=E2=84=96_42?=
Message-ID: <inv42@shop.example>
Content-Type: text/plain

Invoice 42 is attached.
--fwd--
"""), subject="Fwd: Your invoice", text=["Please see the forwarded mail below."], attachments=["Your invoice № 42.eml"], problems=False)

# 19. A realistic Postfix DSN.
add("19-postfix-dsn.eml", crlf("""Return-Path: <>
Delivered-To: bounces+t1234@hub.test
Received: by mx.hub.test (Postfix)
\tid 4Q7y2Z3k1Lz9s; Sun, 13 Dec 2026 10:00:05 +0000 (UTC)
Date: Sun, 13 Dec 2026 10:00:05 +0000 (UTC)
From: MAILER-DAEMON@mx.hub.test (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces+t1234@hub.test
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4Q7y2Z3k1Lz9s.1765620005/mx.hub.test"
Content-Transfer-Encoding: 8bit
Message-Id: <20261213100005.4Q7y2Z3k1Lz9s@mx.hub.test>

This is a MIME-encapsulated message.

--4Q7y2Z3k1Lz9s.1765620005/mx.hub.test
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.hub.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<nosuchuser@example.org>: host mx.example.org[192.0.2.25] said: 550 5.1.1
    <nosuchuser@example.org>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

--4Q7y2Z3k1Lz9s.1765620005/mx.hub.test
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.hub.test
X-Postfix-Queue-ID: 4Q7y2Z3k1Lz9s
X-Postfix-Sender: rfc822; bounces+t1234@hub.test
Arrival-Date: Sun, 13 Dec 2026 10:00:04 +0000 (UTC)
Original-Envelope-Id: t1234.m77

Final-Recipient: rfc822; nosuchuser@example.org
Original-Recipient: rfc822;nosuchuser@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <nosuchuser@example.org>: Recipient address
    rejected: User unknown in virtual mailbox table

--4Q7y2Z3k1Lz9s.1765620005/mx.hub.test
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <bounces+t1234@hub.test>
Received: from hub.test (localhost [127.0.0.1])
\tby mx.hub.test (Postfix) with ESMTP id 4Q7y2Z3k1Lz9s
\tfor <nosuchuser@example.org>; Sun, 13 Dec 2026 10:00:04 +0000 (UTC)
From: Support <support@hub.test>
To: nosuchuser@example.org
Subject: Your ticket #1234
Message-ID: <t1234.m77.k3j4@hub.test>
Date: Sun, 13 Dec 2026 10:00:03 +0000

--4Q7y2Z3k1Lz9s.1765620005/mx.hub.test--
"""), subject="Undelivered Mail Returned to Sender", from_="MAILER-DAEMON@mx.hub.test", fromName="Mail Delivery System",
    text=["could not\nbe delivered"], autoBounce=True, dsn={"originalMessageID": "t1234.m77.k3j4@hub.test", "originalEnvelopeID": "t1234.m77",
    "finalRecipient": "nosuchuser@example.org", "action": "failed", "status": "5.1.1",
    "diagnosticCode": "550 5.1.1 <nosuchuser@example.org>: Recipient address rejected: User unknown in virtual mailbox table"}, problems=False)

# 20. Missing final boundary.
add("20-missing-final-boundary.eml", crlf("""From: trunc@example.com
Subject: Truncated
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=XYZ

--XYZ
Content-Type: text/plain

The text part is complete.
--XYZ
Content-Type: application/octet-stream; name=data.bin
Content-Transfer-Encoding: base64

AAECAwQFBgcICQ
"""), subject="Truncated", text=["The text part is complete."], attachments=["data.bin"], attachmentSizes=[10], problems=True)

# 21. Boundary declared but never used.
add("21-boundary-not-found.eml", crlf("""From: lost@example.com
Subject: Lost boundary
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-used"

Just some text where the parts should be.
"""), subject="Lost boundary", text=["Just some text where the parts should be."], problems=True)

# 22. Odd boundary characters, preamble, epilogue, padding after the delimiter.
bnd = "----=_Part_0_1234.5678?:()+,/= x"
add("22-odd-boundary.eml", crlf("""From: odd@example.com
Subject: Odd boundary
MIME-Version: 1.0
Content-Type: multipart/mixed;
 boundary="%s"

Preamble that nobody reads.
--%s  
Content-Type: text/plain; charset=utf-8

Text with --%s-not-a-boundary inside.
--%s
Content-Type: text/plain; charset=utf-8
Content-Disposition: attachment; filename=notes.txt

attached notes
--%s--  
Epilogue.
""" % (bnd, bnd, bnd[:10], bnd, bnd)), subject="Odd boundary", text=["Text with --"], textNot=["Preamble", "Epilogue", "attached notes"],
    attachments=["notes.txt"], problems=False)

# 23. No charset, 8-bit UTF-8 bytes; 23b GBK bytes.
add("23-no-charset-utf8.eml", crlf("""From: naive@example.com
Subject: No charset
Content-Type: text/plain

Grüße aus München – 你好
"""), subject="No charset", text=["Grüße aus München – 你好"], problems=True)
add("23b-no-charset-gbk.eml", crlf("""From: naive@example.cn
Subject: No charset GBK

""").encode() + "没有字符集的邮件\r\n".encode("gbk"), subject="No charset GBK", text=["没有字符集的邮件"], problems=True)

# 24. Mixed-case and unknown transfer encodings.
add("24-cte-case.eml", crlf("""From: cte@example.com
Subject: CTE case
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: BASE64

""") + b64("Base64 in upper case ✓\n".encode()) + crlf("""
--b
Content-Type: application/octet-stream; name=u.bin
Content-Transfer-Encoding: x-uuencode

begin 644 u.bin
--b--
"""), subject="CTE case", text=["Base64 in upper case ✓"], attachments=["u.bin"], problems=True)

# 25. Huge header line (300 KB) beyond the 256 KiB header limit.
add("25-huge-header.eml", crlf("From: big@example.com\nSubject: Huge header\nX-Junk: " ) + "A" * 300_000 + crlf("""
X-After: dropped
Content-Type: text/plain

Body after a huge header.
"""), subject="Huge header", text=["Body after a huge header."], problems=True)

# 26. More header fields than the limit.
add("26-many-headers.eml", crlf("From: many@example.com\nSubject: Many headers\n") + "".join("X-Trace-%d: %d\r\n" % (i, i) for i in range(1200)) + crlf("""
Body after many headers.
"""), subject="Many headers", text=["Body after many headers."], problems=True)

# 27. Nesting deeper than the limit.
depth = 14
s = "From: deep@example.com\nSubject: Deep\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"d0\"\n\n"
for i in range(1, depth):
    s += "--d%d\nContent-Type: multipart/mixed; boundary=\"d%d\"\n\n" % (i - 1, i)
s += "--d%d\nContent-Type: text/plain\n\nToo deep to read.\n--d%d--\n" % (depth - 1, depth - 1)
for i in reversed(range(depth - 1)):
    s += "--d%d--\n" % i
add("27-deep-nesting.eml", crlf(s), subject="Deep", textNot=["Too deep to read."], problems=True)

# 28. Out-of-office auto reply.
add("28-out-of-office.eml", crlf("""From: Ivan <ivan@example.com>
To: support@hub.test
Subject: Automatic reply: Your ticket #1234
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday.
"""), subject="Automatic reply: Your ticket #1234", autoReason="Auto-Submitted: auto-replied", autoBounce=False)

# 29. Mailing list.
add("29-mailing-list.eml", crlf("""From: announce@lists.example.org
To: support@hub.test
Subject: [announce] Release 2.0
List-Id: Announcements <announce.lists.example.org>
List-Unsubscribe: <mailto:unsubscribe@lists.example.org>
Precedence: list
MIME-Version: 1.0
Content-Type: text/plain

Version 2.0 is out.
"""), subject="[announce] Release 2.0", autoReason="Precedence: list", autoBounce=False)

# 30. Chinese Outlook-style reply with 发件人/发送时间 block, GBK labelled gb2312, QP.
reply30 = """好的，我明天再试一次。

发自我的iPhone

发件人: 客服 <support@hub.test>
发送时间: 2026年12月14日 10:00
收件人: 孙七 <sunqi@example.cn>
主题: 回复: 订单问题

您好，请重新提交订单。
"""
add("30-chinese-outlook-reply.eml", crlf("""From: =?gb2312?B?y+/G3w==?= <sunqi@example.cn>
To: support@hub.test
Subject: =?gb2312?B?u9i4tDogu9i4tDog?= =?gb2312?B?tqm1pc7KzOI=?=
MIME-Version: 1.0
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: quoted-printable

""") + qp(reply30.replace("\n", "\r\n").encode("gbk")), subject="回复: 回复: 订单问题", fromName="孙七",
    text=["发送时间: 2026年12月14日 10:00"], visible="好的，我明天再试一次。")

# 31. Gmail reply: attribution wrapped over two lines, quote, signature.
add("31-gmail-reply.eml", crlf("""From: Judy <judy@example.com>
To: support@hub.test
Subject: Re: Your ticket #1234
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"

Yes, the new address is fine.

Best,
Judy
--\x20
Judy Example | ACME Corp | +1 555 0100

On Mon, Dec 14, 2026 at 10:00 AM Support Team <support@hub.test>
wrote:

> Could you confirm your new address?
>
> Thanks
"""), subject="Re: Your ticket #1234", visible="Yes, the new address is fine.\n\nBest,\nJudy")

# 32. Broken encoded words and an unknown charset.
add("32-broken-encoded-words.eml", crlf("""From: =?x-unknown?Q?Bro=6Ben?= <broken@example.com>
To: support@hub.test
Subject: =?utf-8?Q?Half_done =?utf-8?X?bad?= =?utf-8?B?6YCA?=
MIME-Version: 1.0
Content-Type: text/plain; charset=x-foo-bar

Plain ASCII text in an unknown charset.
"""), subject="=?utf-8?Q?Half_done =?utf-8?X?bad?= 退", fromName="Broken", text=["Plain ASCII text in an unknown charset."], problems=True)

# 33. Base64 with garbage, no padding, odd line lengths.
raw33 = "Base64 without padding and with junk: ok.\n".encode()
enc33 = base64.b64encode(raw33).decode().rstrip("=")
add("33-base64-garbage.eml", crlf("""From: b64@example.com
Subject: Base64 garbage
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

""") + enc33[:10] + " \t!!\r\n" + enc33[10:37] + "\r\n*" + enc33[37:] + "\r\n", subject="Base64 garbage", text=["Base64 without padding and with junk: ok."])

# 34. EUC-KR labelled ks_c_5601-1987 (Outlook), CP949-only syllable.
kr = "안녕하세요. 주문 확인 부탁드립니다. 똠방각하\r\n"
add("34-ks-c-5601.eml", crlf("""From: %s <kim@example.kr>
To: support@hub.test
Subject: %s
MIME-Version: 1.0
Content-Type: text/plain; charset="ks_c_5601-1987"
Content-Transfer-Encoding: base64

""" % (ew_b("김철수", "cp949", "ks_c_5601-1987"), ew_b("주문 확인", "cp949", "ks_c_5601-1987"))) + b64(kr.encode("cp949")) + "\r\n",
    subject="주문 확인", fromName="김철수", text=["주문 확인 부탁드립니다. 똠방각하"], problems=False)

# 35. Obsolete date syntax, group syntax, comments in addresses.
add("35-obsolete-date-groups.eml", crlf("""From: (Support Robot) robot@example.com
To: undisclosed-recipients:;
Cc: Team: ann@example.com, "Bo, B." <bo@example.com>;, last@example.com
Subject: Old date
Date: 2 Dec 26 10:00 EST

Body.
"""), subject="Old date", from_="robot@example.com", fromName="Support Robot", to=[], cc=["ann@example.com", "bo@example.com", "last@example.com"],
    date=1796223600)

# 36. S/MIME signed.
add("36-smime-signed.eml", crlf("""From: signer@example.com
Subject: Signed
MIME-Version: 1.0
Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="sig"

--sig
Content-Type: text/plain; charset=utf-8

Signed text.
--sig
Content-Type: application/pkcs7-signature; name="smime.p7s"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="smime.p7s"

MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==
--sig--
"""), subject="Signed", text=["Signed text."], attachments=["smime.p7s"], problems=False)

# 37. KOI8-R and windows-1251 parts in one message.
add("37-cyrillic.eml", crlf("""From: %s <ivanov@example.ru>
Subject: %s
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=cyr

--cyr
Content-Type: text/plain; charset=koi8-r
Content-Transfer-Encoding: 8bit

""" % (ew_b("Иванов", "koi8-r", "KOI8-R"), ew_b("Заказ", "cp1251", "windows-1251"))).encode() + "Здравствуйте, где мой заказ?\r\n".encode("koi8-r")
    + crlf("""--cyr
Content-Type: text/plain; charset=windows-1251
Content-Transfer-Encoding: 8bit

""").encode() + "Спасибо.\r\n".encode("cp1251") + b"--cyr--\r\n",
    subject="Заказ", fromName="Иванов", text=["Здравствуйте, где мой заказ?", "Спасибо."], problems=False)

# 38. Interleaved reply.
add("38-interleaved-reply.eml", crlf("""From: Ken <ken@example.com>
Subject: Re: Questions
Content-Type: text/plain; charset=utf-8

On Tue, 15 Dec 2026, Support <support@hub.test> wrote:
> What is your order number?
It is 4711.
> And your postcode?
10115

> Thanks for your patience.
> The support team
"""), subject="Re: Questions", visible="> What is your order number?\nIt is 4711.\n> And your postcode?\n10115")

# 39. Bulk newsletter in HTML with inline data: image and no text part, encoded-word filename.
add("39-newsletter-bulk.eml", crlf("""From: "Shop News" <news@shop.example>
Subject: =?utf-8?B?8J+OgSBXaW50ZXIgc2FsZQ==?=
Precedence: bulk
Content-Type: text/html; charset=utf-8

<table><tr><td><h1>Winter&nbsp;sale</h1></td></tr><tr><td><img src="data:image/png;base64,iVBORw0KGgo=" alt="x"><a href="http://shop.example/sale" onmouseover="x()">Shop now</a></td></tr></table>
<img src="data:image/svg+xml;base64,PHN2Zz4=">
"""), subject="🎁 Winter sale", autoReason="Precedence: bulk", text=["Winter sale", "Shop now"],
    html=['src="data:image/png;base64,iVBORw0KGgo="', 'href="http://shop.example/sale"'], htmlNot=["svg", "onmouseover"])

# 40. Apple Mail: format=flowed text, an inline image between two text parts.
add("40-apple-mail-inline.eml", crlf("""From: Lena <lena@example.com>
To: support@hub.test
Subject: Broken lid
Mime-Version: 1.0 (Mac OS X Mail 16.0)
Content-Type: multipart/mixed; boundary="Apple-Mail=_5D1E"

--Apple-Mail=_5D1E
Content-Transfer-Encoding: 7bit
Content-Type: text/plain; charset=us-ascii; format=flowed

The lid of the box arrived broken, see the photo. It happened 
during 
shipping, I think.

--Apple-Mail=_5D1E
Content-Disposition: inline; filename=IMG_0042.jpeg
Content-Type: image/jpeg; x-unix-mode=0644; name="IMG_0042.jpeg"
Content-Transfer-Encoding: base64

/9j/4AAQSkZJRgABAQ==
--Apple-Mail=_5D1E
Content-Transfer-Encoding: 7bit
Content-Type: text/plain; charset=us-ascii

Lena

Sent from my iPad
--Apple-Mail=_5D1E--
"""), subject="Broken lid", text=["It happened during shipping, I think.", "Lena"], attachments=["IMG_0042.jpeg"], inline=[True],
    attachmentSizes=[13], visible="The lid of the box arrived broken, see the photo. It happened during shipping, I think.\n\nLena", problems=False)

# 41. Outlook HTML reply in GB2312 (GBK bytes), MSO conditional comments, a bold From/Sent block.
html41 = """<html xmlns:v="urn:schemas-microsoft-com:vml"><head><meta http-equiv=Content-Type content="text/html; charset=gb2312">
<style><!-- p.MsoNormal {margin:0cm;} --></style><!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit" spidmax="1026" /></xml><![endif]-->
</head><body lang=ZH-CN><div class=WordSection1><p class=MsoNormal>您好，镕基路的地址是对的。<o:p></o:p></p>
<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>发件人:</b> 客服 &lt;support@hub.test&gt;<br><b>发送时间:</b> 2026年12月14日 10:00<br><b>收件人:</b> 周八<br><b>主题:</b> 地址确认</p></div>
<p class=MsoNormal>请确认您的地址。</p></div></body></html>"""
add("41-outlook-html-reply.eml", crlf("""From: =?gb2312?B?1tywyw==?= <zhouba@example.cn>
To: support@hub.test
Subject: =?gb2312?B?tPC4tDogtdjWt8i3yM8=?=
Content-Type: multipart/alternative; boundary="----=_NextPart_000_0001_01DB4E2A.3C5E8F10"
X-Mailer: Microsoft Outlook 16.0

This is a multipart message in MIME format.

------=_NextPart_000_0001_01DB4E2A.3C5E8F10
Content-Type: text/html; charset="gb2312"
Content-Transfer-Encoding: quoted-printable

""") + qp(html41.encode("gbk")) + crlf("""
------=_NextPart_000_0001_01DB4E2A.3C5E8F10--
"""), subject="答复: 地址确认", fromName="周八", text=["发件人: 客服 <support@hub.test>"], visible="您好，镕基路的地址是对的。",
    htmlNot=["xml", "mso", "style", "border"], html=["<b>发件人:</b>"], problems=False)

# 42. Gmail HTML reply: gmail_quote attribution and blockquote.
html42 = """<div dir="ltr">Tuesday works for me.<div><br></div><div>Max</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Dec 14, 2026 at 10:00\u202fAM Support &lt;<a href="mailto:support@hub.test">support@hub.test</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">Which day suits you?</div></blockquote></div>"""
add("42-gmail-html-reply.eml", crlf("""From: Max <max@example.com>
To: support@hub.test
Subject: Re: Appointment
Content-Type: multipart/alternative; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

""") + qp(html42.encode()) + crlf("""
--000000000000a1b2c3--
"""), subject="Re: Appointment", visible="Tuesday works for me.\n\nMax", text=["> Which day suits you?"], html=["<blockquote>"], problems=False)

os.makedirs(OUT, exist_ok=True)
for name, data in corpus.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
with open(os.path.join(OUT, "expectations.json"), "w", encoding="utf-8") as f:
    json.dump(expectations, f, ensure_ascii=False, indent=1, sort_keys=True)
print("wrote %d messages to %s" % (len(corpus), OUT))

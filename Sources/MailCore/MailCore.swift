/// MailCore: e-mail on the wire, independent of the hub's model.
///
/// - Parsing (`MailMessage.parse`): RFC 5322 headers with folding, RFC 2047 encoded words, MIME
///   trees with quoted-printable and base64, charsets (GB18030 for GB2312/GBK labels, Big5,
///   Shift_JIS, ISO-8859-x...) through iconv, attachments, delivery status reports. Never throws:
///   malformed mail yields what could be read plus a list of problems.
/// - Composing (`MailComposer`): RFC 5322 messages in UTF-8 with threading headers.
/// - SMTP on SwiftNIO: `SMTPServer` (inbound, acknowledges only after its delegate stored the
///   mail) and `SMTPClient` (outbound through a relay, STARTTLS, AUTH PLAIN/LOGIN).
public enum MailCore {}

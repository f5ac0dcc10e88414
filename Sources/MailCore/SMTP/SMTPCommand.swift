import NIOCore

/// A command line from an SMTP client, split into verb and argument (RFC 5321 §4.1).
enum SMTPCommand: Equatable {
    case ehlo(String)
    case helo(String)
    /// The text after `MAIL`, e.g. `FROM:<a@b> SIZE=10`.
    case mail(String)
    /// The text after `RCPT`, e.g. `TO:<a@b>`.
    case rcpt(String)
    case data(String)
    case rset(String)
    case noop
    case quit
    case vrfy
    case help
    case startTLS(String)
    /// Recognised but not offered: EXPN, BDAT, AUTH, TURN, ...
    case notImplemented(String)
    case unknown(String)

    /// Parses one line (without its line ending). Verbs are case-insensitive.
    init(line: ByteBuffer) {
        let text = String(decoding: line.readableBytesView, as: UTF8.self)
        let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
        let verb = text[..<verbEnd].uppercased()
        var argument = text[verbEnd...].drop(while: { $0 == " " })
        while argument.last == " " || argument.last == "\t" { argument = argument.dropLast() }
        let rest = String(argument)
        switch verb {
        case "EHLO": self = .ehlo(rest)
        case "HELO": self = .helo(rest)
        case "MAIL": self = .mail(rest)
        case "RCPT": self = .rcpt(rest)
        case "DATA": self = .data(rest)
        case "RSET": self = .rset(rest)
        case "NOOP": self = .noop
        case "QUIT": self = .quit
        case "VRFY": self = .vrfy
        case "HELP": self = .help
        case "STARTTLS": self = .startTLS(rest)
        case "EXPN", "BDAT", "AUTH", "TURN", "ETRN", "SEND", "SOML", "SAML", "LHLO": self = .notImplemented(verb)
        default: self = .unknown(verb)
        }
    }

    /// Parses `FROM:<path> params` or `TO:<path> params`: the path without brackets and the
    /// parameters with upper-cased keys. `nil` when the syntax is wrong.
    static func parsePath(_ argument: String, keyword: String) -> (path: String, parameters: [String: String])? {
        guard argument.count > keyword.count,
              argument.prefix(keyword.count).uppercased() == keyword
        else { return nil }
        // Some clients write `MAIL FROM: <a@b>`; accept the space.
        let afterKeyword = argument.dropFirst(keyword.count).drop(while: { $0 == " " })
        guard afterKeyword.first == "<", let close = afterKeyword.firstIndex(of: ">") else { return nil }
        var path = afterKeyword[afterKeyword.index(after: afterKeyword.startIndex)..<close]
        // RFC 5321 §4.1.2: a source route (`@a,@b:user@c`) is accepted and ignored.
        if path.first == "@", let colon = path.firstIndex(of: ":") {
            path = path[path.index(after: colon)...]
        }
        if path.contains(where: { $0 == "<" || $0 == ">" || $0 == " " || $0.isNewline }) { return nil }
        var parameters: [String: String] = [:]
        let rest = afterKeyword[afterKeyword.index(after: close)...]
        if let first = rest.first, first != " " { return nil }
        for token in rest.split(separator: " ") {
            if let equals = token.firstIndex(of: "=") {
                parameters[token[..<equals].uppercased()] = String(token[token.index(after: equals)...])
            } else {
                parameters[token.uppercased()] = ""
            }
        }
        return (String(path), parameters)
    }
}

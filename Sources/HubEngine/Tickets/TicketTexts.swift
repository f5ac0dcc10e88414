import Foundation
import HubModel

/// What the hub writes to customers about their tickets, in their language (zh-CN or en).
enum TicketTexts {
    static func status(_ status: TicketStatus, _ locale: CustomerLocale) -> String {
        switch (status, locale) {
        case (.new, .en): "received, waiting for an agent"
        case (.open, .en): "in progress"
        case (.pending, .en): "waiting for your reply"
        case (.onHold, .en): "on hold, waiting for a third party"
        case (.solved, .en): "solved"
        case (.closed, .en): "closed"
        case (.new, .zhCN): "已受理，等待处理"
        case (.open, .zhCN): "处理中"
        case (.pending, .zhCN): "等待您的回复"
        case (.onHold, .zhCN): "已挂起，等待第三方处理"
        case (.solved, .zhCN): "已解决"
        case (.closed, .zhCN): "已关闭"
        }
    }

    /// `2026-12-03 14:05 UTC`: the log's timestamp, cut to the minute.
    static func time(_ date: Date) -> String {
        let stamp = HubJSON.formatTimestamp(date)  // 2026-12-03T14:05:00.000Z
        return stamp.prefix(10) + " " + stamp.dropFirst(11).prefix(5) + " UTC"
    }

    /// One ticket's line: number, subject, status and last change.
    static func line(_ ticket: Ticket, _ locale: CustomerLocale) -> String {
        switch locale {
        case .en: "\(ticket.number) \"\(ticket.subject)\": \(status(ticket.status, locale)) (updated \(time(ticket.updatedAt)))"
        case .zhCN: "\(ticket.number)「\(ticket.subject)」：\(status(ticket.status, locale))（更新于 \(time(ticket.updatedAt))）"
        }
    }

    /// The answer to a question about one ticket the customer quoted: `ticket` is theirs (after
    /// following a merge, `merged` the number they quoted), or nil when no ticket of theirs has
    /// that number. The same words whether the number is unknown or someone else's.
    static func answer(quoted: TicketNumber, ticket: Ticket?, locale: CustomerLocale) -> String {
        guard let ticket else {
            switch locale {
            case .en: return "We could not find ticket \(quoted) on your account. Reply \"status\" to see your tickets."
            case .zhCN: return "您的账户下没有工单 \(quoted)。回复“状态”可查看您的工单。"
            }
        }
        let merged = ticket.number != quoted
        switch locale {
        case .en: return (merged ? "Ticket \(quoted) was merged into \(ticket.number). Ticket " : "Ticket ") + line(ticket, locale)
        case .zhCN: return (merged ? "工单 \(quoted) 已合并到 \(ticket.number)。" : "工单 ") + line(ticket, locale)
        }
    }

    /// The answer to "status": the customer's tickets that are not closed, newest first.
    static func answer(mine tickets: [Ticket], more: Bool, locale: CustomerLocale) -> String {
        guard !tickets.isEmpty else {
            switch locale {
            case .en: return "You have no open tickets with us."
            case .zhCN: return "您目前没有未结的工单。"
            }
        }
        let lines = tickets.map { line($0, locale) }.joined(separator: "\n")
        switch locale {
        case .en: return "Your tickets:\n" + lines + (more ? "\n(and older ones; quote a number such as \(tickets[0].number) to ask about one)" : "")
        case .zhCN: return "您的工单：\n" + lines + (more ? "\n（还有更早的工单；发送工单号如 \(tickets[0].number) 可单独查询）" : "")
        }
    }

    /// The built-in text of a notification template (see `TicketSettings.templates`).
    static func template(_ name: String, _ locale: CustomerLocale) -> String {
        switch (name, locale) {
        case ("new", .en): "We received your request: ticket {number} \"{subject}\"."
        case ("new", .zhCN): "我们已收到您的请求：工单 {number}「{subject}」。"
        case ("open", .en): "Your ticket {number} \"{subject}\" is being worked on."
        case ("open", .zhCN): "您的工单 {number}「{subject}」正在处理中。"
        case ("pending", .en): "We need your reply on ticket {number} \"{subject}\": just answer this message."
        case ("pending", .zhCN): "工单 {number}「{subject}」需要您的回复，直接回复本消息即可。"
        case ("on-hold", .en): "Ticket {number} \"{subject}\" is waiting on a third party; we will tell you when it moves."
        case ("on-hold", .zhCN): "工单 {number}「{subject}」正在等待第三方处理，有进展会通知您。"
        case ("solved", .en): "Ticket {number} \"{subject}\" is solved. If it is not, reply within {reopenWindow}."
        case ("solved", .zhCN): "工单 {number}「{subject}」已解决。如仍有问题，请在{reopenWindow}内回复。"
        case ("closed", .en): "Ticket {number} \"{subject}\" is closed."
        case ("closed", .zhCN): "工单 {number}「{subject}」已关闭。"
        case ("thanks", .en): "Thank you for rating ticket {number}: {score} of 5."
        case ("thanks", .zhCN): "感谢您对工单 {number} 的评价：{score} 分（满分 5 分）。"
        case ("sorry", .en): "We are sorry ticket {number} did not go well ({score} of 5). A supervisor will follow it up and contact you."
        case ("sorry", .zhCN): "很抱歉工单 {number} 的处理没能让您满意（{score} 分）。主管会跟进并与您联系。"
        case (_, .en): "Ticket {number}: {comment}"
        case (_, .zhCN): "工单 {number}：{comment}"
        }
    }

    /// The built-in survey question, appended to the notification that a ticket is solved.
    static func surveyTemplate(_ locale: CustomerLocale, withLink: Bool) -> String {
        switch (locale, withLink) {
        case (.en, false): "How did we do? Reply {scale}."
        case (.en, true): "How did we do? Reply {scale}, or rate us at {link}"
        case (.zhCN, false): "请为本次服务评分：回复{scale}。"
        case (.zhCN, true): "请为本次服务评分：回复{scale}，或点击 {link}"
        }
    }

    /// `7 days`, `7天`; `36 hours`, `36小时`.
    static func span(_ duration: Duration, _ locale: CustomerLocale) -> String {
        let seconds = duration.components.seconds
        let (value, unit) = seconds % 86_400 == 0 ? (seconds / 86_400, "d") : (max(1, seconds / 3600), "h")
        switch (locale, unit) {
        case (.en, "d"): return value == 1 ? "1 day" : "\(value) days"
        case (.en, _): return value == 1 ? "1 hour" : "\(value) hours"
        case (.zhCN, "d"): return "\(value)天"
        case (.zhCN, _): return "\(value)小时"
        }
    }

    /// The template's text with the placeholders filled in, in one pass: a subject or comment
    /// that contains `{status}` is left as written.
    static func render(
        _ template: String, ticket: Ticket, comment: String?, reopenWindow: Duration, locale: CustomerLocale, extra: [String: String] = [:]
    ) -> String {
        let values = [
            "number": ticket.number.description, "subject": ticket.subject, "status": status(ticket.status, locale),
            "reopenWindow": span(reopenWindow, locale), "comment": comment ?? "",
        ].merging(extra) { first, _ in first }
        var result = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), let value = values[String(after[..<close])] {
                result += value
                rest = after[after.index(after: close)...]
            } else {
                result += "{"
                rest = after
            }
        }
        return result + rest
    }
}

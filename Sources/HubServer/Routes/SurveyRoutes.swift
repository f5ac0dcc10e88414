import Foundation
import HubEngine
import HubModel
import HubStore
import Hummingbird
import MailCore

/// The satisfaction survey's page (`/csat/{token}`, no login: the token in the customer's link
/// is the key) and the scores for supervisors (`/v1/csat`, `/v1/tickets/{id}/csat`).
enum SurveyRoutes {
    static func add(to router: Router<HubRequestContext>, engine: Engine) {
        let tickets = engine.tickets
        router.get("csat/:token") { _, context in
            let token = try context.parameters.require("token")
            return page(try await tickets.surveyPage(token: token), token: token)
        }
        router.post("csat/:token") { request, context in
            let token = try context.parameters.require("token")
            // A form post: `score=1`..`score=5`.
            let body = try await request.body.collect(upTo: 1024)
            let form = String(buffer: body)
            let score = form.split(separator: "&").compactMap { pair -> Int? in
                let parts = pair.split(separator: "=", maxSplits: 1)
                return parts.count == 2 && parts[0] == "score" ? Int(parts[1]) : nil
            }.first
            guard let score, (1...5).contains(score) else {
                return html(.badRequest, title: "Rating", body: "<p>Please choose a rating from 1 to 5.</p>")
            }
            return page(try await tickets.answerOnPage(token: token, score: score), token: token)
        }
    }

    static func add(to api: RouterGroup<HubRequestContext>, engine: Engine) {
        let inbox = engine.inbox
        let store = engine.store
        api.get("tickets/:id/csat") { _, context in
            let viewer = try context.requireViewer()
            let ticket = try await inbox.ticket(Ticket.ID(try context.parameters.require("id")), for: viewer)
            guard var survey = try await store.survey(ticketID: ticket.id) else { throw APIError.notFound("ticket \(ticket.number) has no survey") }
            survey.token = ""
            return JSONResponse.make(.ok, survey)
        }
        api.get("csat") { request, context in
            _ = try ResourceRoutes.requireSupervisor(context)
            let parameters = request.uri.queryParameters
            let to = try parameters["to"].map { try timestamp(String($0), name: "to") } ?? Date()
            let from = try parameters["from"].map { try timestamp(String($0), name: "from") } ?? to.addingTimeInterval(-30 * 86_400)
            guard from < to else { throw APIError.invalid("from must be before to") }
            let name = parameters["by"].map(String.init) ?? "agent"
            guard let grouping = CSATGrouping(rawValue: name) else {
                throw APIError.invalid("by is one of \(CSATGrouping.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let groups = try await store.csatSummary(from: from, to: to, by: grouping)
            return JSONResponse.make(.ok, Summary(from: from, to: to, by: name, groups: groups))
        }
    }

    struct Summary: Encodable {
        var from: Date
        var to: Date
        var by: String
        var groups: [CSATGroup]
    }

    static func timestamp(_ text: String, name: String) throws -> Date {
        guard let date = HubJSON.parseTimestamp(text) else { throw APIError.invalid("\(name) must be a timestamp such as 2026-12-01T00:00:00Z") }
        return date
    }

    static func page(_ page: TicketService.SurveyPage, token: String) -> Response {
        switch page {
        case .unknown:
            return html(.notFound, title: "Rating", body: "<p>This rating link is not valid.</p>")
        case .expired(_, let ticket):
            return html(.gone, title: "Rating", body: "<p>The rating for ticket \(HTMLEntities.escape(ticket.number.description)) has closed.</p>")
        case .answered(let survey, let ticket):
            return html(
                .ok, title: "Thank you",
                body: "<p>Thank you: you rated ticket \(HTMLEntities.escape(ticket.number.description)) <strong id=\"score\">\(survey.score ?? 0)</strong> of 5.</p>")
        case .open(_, let ticket):
            let buttons = zip(1...5, CSATScore.emoji).map { score, face in
                "<button type=\"submit\" name=\"score\" value=\"\(score)\" aria-label=\"\(score) of 5\">\(face)<br>\(score)</button>"
            }.joined()
            return html(
                .ok, title: "How did we do?",
                body: """
                    <p>Ticket \(HTMLEntities.escape(ticket.number.description)): \(HTMLEntities.escape(ticket.subject))</p>
                    <form method="post" action="/csat/\(HTMLEntities.escape(token))">\(buttons)</form>
                    """)
        }
    }

    static func html(_ status: HTTPResponse.Status, title: String, body: String) -> Response {
        let document = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTMLEntities.escape(title))</title>
            <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
            button{font-size:1.5rem;margin:.25rem;padding:.5rem .75rem;border-radius:.5rem;border:1px solid #999;background:#fff}</style>
            </head><body><h1>\(HTMLEntities.escape(title))</h1>\(body)</body></html>
            """
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .init("Referrer-Policy")!: "no-referrer"],
            body: .init(byteBuffer: ByteBuffer(string: document)))
    }
}

import HTTPTypes
import HubEngine
import HubModel
import HubStore
import Hummingbird
import Logging
import NIOCore

/// Turns every error that reaches the edge into the hub's JSON error shape, and logs the ones
/// that are the hub's fault. Nothing a client sends can make a route crash the process.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as InboxError {
            return try APIError.from(error).response(from: request, context: context)
        } catch let error as StoreError {
            if error.code == .unavailable { log(error, request) }
            return try APIError.from(error).response(from: request, context: context)
        } catch is NIOTooManyBytesError {
            return try APIError(.contentTooLarge, code: "body_too_large", message: "the request body is too large")
                .response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            // The router found no route.
            return try APIError(.notFound, code: "not_found", message: "no route for \(request.method) \(request.uri.path)")
                .response(from: request, context: context)
        } catch let error as HTTPError {
            return try APIError(error.status, code: "http_\(error.status.code)", message: error.body ?? error.status.reasonPhrase)
                .response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            return try APIError(error.status, code: "http_\(error.status.code)", message: error.status.reasonPhrase)
                .response(from: request, context: context)
        } catch {
            log(error, request)
            return try APIError(.internalServerError, code: "internal", message: "the hub failed to handle this request; see its log")
                .response(from: request, context: context)
        }
    }

    private func log(_ error: any Error, _ request: Request) {
        logger.error("request failed", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)"])
    }
}

import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A tiny test-only SMTP responder on loopback: answers each command line with what `respond`
/// returns (given the line and the lines before it; an empty string answers nothing), swallows DATA up to the final dot and
/// answers it with `finalReply` (and then closes the connection when `closeAfterMessage`, as a relay
/// that drops a session once it sits idle). Records every line it received.
final class SMTPScriptedRelay: Sendable {
    typealias Respond = @Sendable (_ line: String, _ history: [String]) -> String

    private let channel: any Channel
    private let recorder: Recorder

    var lines: [String] { recorder.lines.withLock { $0 } }
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, recorder: Recorder) {
        self.channel = channel
        self.recorder = recorder
    }

    static func start(
        greeting: String = "220 relay.test ESMTP",
        finalReply: String = "250 2.0.0 OK queued",
        closeAfterMessage: Bool = false,
        respond: @escaping Respond
    ) async throws -> SMTPScriptedRelay {
        let recorder = Recorder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(greeting: greeting, finalReply: finalReply, closeAfterMessage: closeAfterMessage, respond: respond, recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return SMTPScriptedRelay(channel: channel, recorder: recorder)
    }

    func stop() async {
        try? await channel.close()
    }

    private final class Recorder: Sendable {
        let lines = Mutex<[String]>([])
        func record(_ line: String) { lines.withLock { $0.append(line) } }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let greeting: String
        let finalReply: String
        let closeAfterMessage: Bool
        let respond: Respond
        let recorder: Recorder
        var pending = ""
        var history: [String] = []
        var inData = false

        init(greeting: String, finalReply: String, closeAfterMessage: Bool, respond: @escaping Respond, recorder: Recorder) {
            self.greeting = greeting
            self.finalReply = finalReply
            self.closeAfterMessage = closeAfterMessage
            self.respond = respond
            self.recorder = recorder
        }

        func channelActive(context: ChannelHandlerContext) {
            send(greeting, context: context)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += String(buffer: unwrapInboundIn(data))
            while let end = pending.range(of: "\r\n") {
                let line = String(pending[..<end.lowerBound])
                pending = String(pending[end.upperBound...])
                recorder.record(line)
                if inData {
                    if line == "." {
                        inData = false
                        send(finalReply, context: context)
                        if closeAfterMessage {
                            context.close(promise: nil)
                            return
                        }
                    }
                    continue
                }
                let reply = respond(line, history)
                history.append(line)
                if reply.hasPrefix("354") { inData = true }
                if !reply.isEmpty { send(reply, context: context) }
                if line == "QUIT" { context.close(promise: nil) }
            }
        }

        private func send(_ reply: String, context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n")), promise: nil)
        }
    }
}

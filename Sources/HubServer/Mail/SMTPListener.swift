import HubChannels
import Logging
import MailCore
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The hub's SMTP listener as a service of its `ServiceGroup`: it serves until graceful
/// shutdown, then stops accepting and lets mail in flight finish. The mail it accepts goes to
/// the spool; `MailSpoolProcessor` runs beside it and threads that mail.
///
/// Its sessions run on event loop threads of their own (one by default). One thread accepts a
/// connection and serves it: with NIO's shared group (one loop per core) every connection was
/// accepted on one loop and handed to the other, a thread wake-up per connection that cost more
/// than the session itself (`scripts/bench-mail`, docs/benchmarks.md).
struct SMTPListener: Service {
    let server: SMTPServer
    let group: MultiThreadedEventLoopGroup
    let processor: MailSpoolProcessor
    let logger: Logger

    init(configuration: HubServerConfiguration.SMTP, spool: MailSpool, logger: Logger) throws {
        var smtp = SMTPServerConfiguration()
        smtp.host = configuration.host
        smtp.port = configuration.port
        smtp.hostname = configuration.hostname
        smtp.maximumMessageSize = configuration.maximumMessageSize
        smtp.requireTLS = configuration.requireTLS
        if let certificate = configuration.certificatePath, let key = configuration.privateKeyPath {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            smtp.tls = try NIOSSLContext(configuration: tls)
        }
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        self.server = SMTPServer(configuration: smtp, delegate: spool, group: group, logger: logger)
        self.processor = MailSpoolProcessor(spool: spool, logger: logger)
        self.logger = logger
    }

    func run() async throws {
        let processor = processor
        let processing = Task { await processor.run() }
        var failure: (any Error)?
        do {
            let address = try await server.start()
            logger.info("smtp listening", metadata: ["address": "\(address)"])
            try await cancelWhenGracefulShutdown {
                try await server.run()
            }
        } catch {
            failure = error
        }
        // The listener has stopped and its sessions have ended: the processor finishes the mail
        // it is on; what is left waits in the spool for the next start.
        processing.cancel()
        await processing.value
        try? await group.shutdownGracefully()
        if let failure { throw failure }
    }
}

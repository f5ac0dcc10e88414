import HubChannels
import Logging
import MailCore
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The hub's SMTP listener as a service of its `ServiceGroup`: it serves until graceful
/// shutdown, then stops accepting and lets mail in flight finish.
struct SMTPListener: Service {
    let server: SMTPServer
    let logger: Logger

    init(configuration: HubServerConfiguration.SMTP, receiver: EmailReceiver, logger: Logger) throws {
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
        self.server = SMTPServer(configuration: smtp, delegate: receiver, logger: logger)
        self.logger = logger
    }

    func run() async throws {
        let address = try await server.start()
        logger.info("smtp listening", metadata: ["address": "\(address)"])
        try await cancelWhenGracefulShutdown {
            try await server.run()
        }
    }
}

import Foundation
import HubConfig
import HubEngine
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads `routing-rules/` without a restart: when a file there changes (checked every two
/// seconds) or on SIGHUP, the whole configuration is validated again; valid rules replace the
/// router's, invalid ones are logged with file and line and the running rules stay.
struct RoutingRulesWatcher: Service {
    let configuration: HubServerConfiguration
    let routing: RoutingService
    let logger: Logger
    var interval: Duration = .seconds(2)
    /// After the router took valid new rules: the SIP element's phones follow them.
    var reloaded: @Sendable (RoutingRules) async -> Void = { _ in }

    func run() async throws {
        let initial = fingerprint()
        let hangUps = await UnixSignalsSequence(trapping: .sighup)
        // Nothing here throws: a cancelled sleep ends the loop, so a graceful shutdown never
        // surfaces as a service error (which would make the hub exit non-zero).
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                let (changes, continuation) = AsyncStream.makeStream(of: Void.self)
                group.addTask {
                    for await _ in hangUps { continuation.yield() }
                }
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            try await Task.sleep(for: interval)
                        } catch {
                            break
                        }
                        continuation.yield()
                    }
                    continuation.finish()
                }
                group.addTask {
                    var seen = initial
                    for await _ in changes {
                        let now = fingerprint()
                        guard now != seen else { continue }
                        seen = now
                        await reload()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Names, sizes and modification times of the rule files.
    func fingerprint() -> String {
        let manager = FileManager.default
        let directory = configuration.routingRulesDirectory
        let names = ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        return names.map { name in
            let attributes = try? manager.attributesOfItem(atPath: directory + "/" + name)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(name):\(size):\(modified)"
        }.joined(separator: "|")
    }

    func reload() async {
        let result = HubServer.loadConfiguration(configuration)
        guard let loaded = result.configuration else {
            for diagnostic in result.errors { logger.error("routing rules not reloaded", metadata: ["problem": "\(diagnostic)"]) }
            return
        }
        do {
            try await routing.reload(loaded.routing)
        } catch {
            logger.error("routing rules reload failed", metadata: ["error": "\(error)"])
            return
        }
        await reloaded(loaded.routing)
    }
}

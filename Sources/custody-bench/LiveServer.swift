import CustodyServer
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// The real daemon (`buildApplication`, as `custodyd` runs it) on a loopback port picked by the kernel,
/// inside a `ServiceGroup` the benchmark shuts down gracefully (which closes the ledger).
final class LiveServer: Sendable {
    /// The port the server listens on.
    let port: Int
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, running: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.running = running
    }

    /// Starts the daemon over the existing data directory `dataDir` and waits until it listens; with
    /// `rules` false, its ledger admits events on their keys alone (what the custody rules cost).
    static func start(dataDir: String, origin: String, rules: Bool = true, logger: Logger) async throws -> LiveServer {
        var configuration = ServerConfiguration()
        configuration.dataDir = dataDir
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.origin = origin
        configuration.logLevel = logger.logLevel
        // The core's figures: no projection follower catching up a million entries beside the measured appends.
        configuration.followProjections = false
        configuration.enforcesCustodyRules = rules
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = try await buildApplication(configuration: configuration, logger: logger) { channel in
            portSink.yield(channel.localAddress?.port ?? 0)
            portSink.finish()
        }
        // No signal handling: the benchmark decides when the server stops.
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let running = Task { try await group.run() }
        var port = 0
        for await p in ports { port = p }
        guard port > 0 else {
            await group.triggerGracefulShutdown()
            try await running.value
            throw BenchError("the server did not report a listening port")
        }
        return LiveServer(port: port, group: group, running: running)
    }

    /// Graceful shutdown: stops accepting, commits what is queued, closes the ledger.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

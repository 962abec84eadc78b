import CustodyLedger
import CustodyLog
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Builds the daemon: opens (or creates) the ledger in the data directory and returns the HTTP
/// application with the ledger's lifecycle attached. `custodyd` and the integration tests both call it.
public func buildApplication(
    configuration: ServerConfiguration,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let directory = DataDirectory(path: configuration.dataDir)
    let (ledger, created) = try await directory.openLedger(origin: configuration.origin, logger: logger)
    let verifierKey = ledger.signer.verifier.encoded
    if created {
        // Printed as well as logged so an operator can hand it to auditors to pin.
        FileHandle.standardOutput.write(Data("log verifier key: \(verifierKey)\n".utf8))
    }
    logger.info("ledger open", metadata: [
        "log.size": "\(ledger.treeSize)", "log.origin": "\(ledger.signer.name)", "log.vkey": "\(verifierKey)",
        "data.dir": "\(configuration.dataDir)",
    ])
    let router = Router()
    router.add(middleware: ProblemMiddleware())
    LedgerController(ledger: ledger, maxBodyBytes: configuration.maxBodyBytes,
                     openAPIDocument: OpenAPIDocument.load()).addRoutes(to: router)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                             serverName: "custodyd"),
        services: [LedgerService(ledger: ledger, logger: logger)],
        onServerRunning: onServerRunning,
        logger: logger
    )
}

/// Keeps the ledger open while the application runs; on graceful shutdown (SIGTERM) it stops taking
/// events and commits everything already queued before the process exits.
struct LedgerService: Service {
    let ledger: Ledger
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        await ledger.close()
        logger.info("ledger closed", metadata: ["log.size": "\(ledger.treeSize)"])
    }
}

/// The OpenAPI document served at `/openapi.json` (a copy of `Schemas/openapi.json`).
enum OpenAPIDocument {
    static func load() -> ByteBuffer {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
              let data = try? Data(contentsOf: url)
        else { return ByteBuffer(string: "{}") }
        return ByteBuffer(bytes: data)
    }
}

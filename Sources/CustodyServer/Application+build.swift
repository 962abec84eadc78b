import CustodyLedger
import CustodyLog
import CustodyModel
import CustodyProjections
import CustodyStore
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
    // Policies first: a policy directory that cannot be read is refused before anything is created.
    let policies = try PolicyLibrary(directory: configuration.policyDir)
    let directory = DataDirectory(path: configuration.dataDir)
    let (ledger, created) = try await directory.openLedger(origin: configuration.origin, logger: logger,
                                                           enforcesRules: configuration.enforcesCustodyRules)
    let verifierKey = ledger.signer.verifier.encoded
    if created {
        // Printed as well as logged so an operator can hand it to auditors to pin.
        FileHandle.standardOutput.write(Data("log verifier key: \(verifierKey)\n".utf8))
    }
    logger.info("ledger open", metadata: [
        "log.size": "\(ledger.treeSize)", "log.origin": "\(ledger.signer.name)", "log.vkey": "\(verifierKey)",
        "data.dir": "\(configuration.dataDir)",
    ])
    // HEAD is answered wherever GET is, as GET without the body (RFC 9110 section 9.3.2).
    let router = Router(options: .autoGenerateHeadEndpoints)
    router.add(middleware: ProblemMiddleware())
    LedgerController(ledger: ledger, maxBodyBytes: configuration.maxBodyBytes,
                     openAPIDocument: OpenAPIDocument.load()).addRoutes(to: router)
    // Disclosures of committed values, kept beside the log in DIR/disclosures.sqlite; signed requests only.
    let disclosures = try DisclosureDesk(ledger: ledger, directory: directory, logger: logger)
    DisclosureController(desk: disclosures, maxBodyBytes: configuration.maxBodyBytes).addRoutes(to: router)
    // Provenance and sourcing status: projections of the log in DIR/projections.sqlite, derived data that
    // is rebuilt from the log whenever it is missing or stale.
    let projections = try ProjectionDesk(ledger: ledger, path: directory.projectionsPath, policies: policies,
                                         exportValue: { index in disclosures.exportValue(at: index) }, logger: logger)
    ProjectionController(desk: projections).addRoutes(to: router)
    // Last, so that it wraps only the not-found answer: a known path asked with another method is a 405.
    router.add(middleware: MethodNotAllowedMiddleware(router: router))
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                             serverName: "custodyd"),
        services: [LedgerService(ledger: ledger, logger: logger)]
            + (configuration.followProjections ? [ProjectionService(desk: projections)] : []),
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

extension DisclosureDesk {
    /// The disclosed value (US cents) of the `kp.export` at `index`, if a party deposited it: lets the
    /// value-per-carat red flag be evaluated without putting the value itself in any answer.
    func exportValue(at index: UInt64) -> Int64? {
        guard let stored = try? store.disclosures(at: index).first(where: { $0.field == "/valueCommitment" }),
              case .number(let cents)? = try? JSONParser.parse(stored.value), cents >= 0, cents <= 9_007_199_254_740_991,
              cents == cents.rounded()
        else { return nil }
        return Int64(cents)
    }
}

/// Keeps the projections in step with the log in the background, so reads rarely wait for a catch-up.
struct ProjectionService: Service {
    let desk: ProjectionDesk

    func run() async throws {
        desk.startFollowing()
        try? await gracefulShutdown()
        // Off the cooperative pool: waiting for the follower may take up to one batch.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread { desk.stopFollowing(); done.resume() }.start()
        }
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
